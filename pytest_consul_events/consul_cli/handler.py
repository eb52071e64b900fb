"""How ``consul watch`` runs its handler (``command/watch/watch.go``, ``agent/exec``).

For each call of the plan's handler:

* the command is ``$SHELL -c "<arguments joined by spaces>"`` (``/bin/sh`` when ``SHELL`` is
  empty) with ``-shell=true``, the default, or the arguments themselves with ``-shell=false``;
  a program named without a ``/`` is looked up in ``PATH`` (Go's ``exec.LookPath``);
* its environment is the watch's own plus ``CONSUL_INDEX=<the list's X-Consul-Index>``;
* its standard input is ``json.NewEncoder(...).Encode(result)`` of the new events; its standard
  output and error are the watch's;
* the watch waits for it. If it cannot start (``Error starting handler: exec: "x":
  executable file not found in $PATH``) or ends with an error (``Error executing handler: exit
  status 3``, ``... signal: killed``), the watch stops and exits 1;
* ``SIGINT`` and ``SIGTERM`` received meanwhile are forwarded to it.

A test harness may set ``PYTEST_CONSUL_EVENTS_RECORD_FD`` to a file descriptor open for
writing: each invocation is then also recorded there, one JSON line at its start (pid, argv,
environment, standard input) and one at its end (exit status, Go's error text, and what it
wrote: the handler's output then goes through pipes copied to the watch's own streams). The
variable is removed from the environment before anything runs, so a handler never sees it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import stat
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from pytest_consul_events import messages
from pytest_consul_events.consul_cli.httpapi import go_errno_text
from pytest_consul_events.gocompat.strconv import go_quote

RECORD_FD_ENV = "PYTEST_CONSUL_EVENTS_RECORD_FD"
"""The environment variable naming the record descriptor (removed before handlers run)."""

# Go's syscall.Signal.String() on Linux (zerrors_linux_*.go signalList).
_SIGNAL_NAMES = {
    1: "hangup",
    2: "interrupt",
    3: "quit",
    4: "illegal instruction",
    5: "trace/breakpoint trap",
    6: "aborted",
    7: "bus error",
    8: "floating point exception",
    9: "killed",
    10: "user defined signal 1",
    11: "segmentation fault",
    12: "user defined signal 2",
    13: "broken pipe",
    14: "alarm clock",
    15: "terminated",
    16: "stack fault",
    17: "child exited",
    18: "continued",
    19: "stopped (signal)",
    20: "stopped",
    21: "stopped (tty input)",
    22: "stopped (tty output)",
    23: "urgent I/O condition",
    24: "CPU time limit exceeded",
    25: "file size limit exceeded",
    26: "virtual timer expired",
    27: "profiling timer expired",
    28: "window changed",
    29: "I/O possible",
    30: "power failure",
    31: "bad system call",
}


def wait_status_text(returncode: int) -> str:
    """Go's ``(*ProcessState).String()`` for a process that did not succeed."""
    if returncode >= 0:
        return messages.GO_EXIT_STATUS.format(code=returncode)
    number = -returncode
    return messages.GO_SIGNALED.format(signal=_SIGNAL_NAMES.get(number, f"signal {number}"))


class StartError(Exception):
    """The handler could not be started; ``str()`` is Go's error text."""


def _find_executable(path: str) -> OSError | None:
    try:
        info = os.stat(path)
    except OSError as exc:
        return exc
    if stat.S_ISDIR(info.st_mode):
        return IsADirectoryError(21, "is a directory")
    if not os.access(path, os.X_OK):
        return PermissionError(13, "permission denied")
    return None


def look_path(name: str, path_env: str) -> str:
    """Go's ``exec.LookPath`` (Unix) for a program named without a ``/``.

    Raises:
        StartError: not found (``exec: "x": executable file not found in $PATH``), or found
            only relative to the current directory (Go 1.19+ refuses it).
    """
    for directory in path_env.split(os.pathsep):
        candidate = os.path.join(directory or ".", name)
        if _find_executable(candidate) is None:
            if not os.path.isabs(candidate):
                raise StartError(messages.GO_EXEC_DOT.format(quoted=go_quote(name)))
            return candidate
    raise StartError(messages.GO_EXEC_NOT_FOUND.format(quoted=go_quote(name)))


def command_for(args: Sequence[str], shell: bool, env: Mapping[str, str]) -> list[str]:
    """The argv of the handler: ``agent/exec.Script`` or ``agent/exec.Subprocess``."""
    if shell:
        return [env.get("SHELL") or messages.CLI_WATCH_DEFAULT_SHELL, "-c", " ".join(args)]
    return list(args)


class Recorder:
    """Writes the record lines described in the module docstring to a descriptor."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, record: dict[str, Any]) -> None:
        """Write one record (a JSON line); a closed reader is ignored."""
        data = (json.dumps(record) + "\n").encode("ascii")
        try:
            while data:
                written = os.write(self.fd, data)
                data = data[written:]
        except OSError:
            pass

    @classmethod
    def from_environment(cls) -> Recorder | None:
        """The recorder the environment asks for, removing the variable; ``None`` if none."""
        value = os.environ.pop(RECORD_FD_ENV, None)
        if not value:
            return None
        fd = int(value)
        os.set_inheritable(fd, False)
        return cls(fd)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _copy(source: IO[bytes], target_fd: int, sink: list[bytes]) -> None:
    while chunk := source.read1(65536):  # type: ignore[attr-defined]
        sink.append(chunk)
        with contextlib.suppress(OSError):
            os.write(target_fd, chunk)
    source.close()


class HandlerRunner:
    """Runs the handler once per call, as ``consul watch`` does; thread-confined to the plan.

    ``run`` returns ``None`` on success, or the line the command prints on failure
    (``Error starting handler: ...`` / ``Error executing handler: ...``).
    """

    def __init__(
        self, args: Sequence[str], *, shell: bool, recorder: Recorder | None = None
    ) -> None:
        self.args = list(args)
        self.shell = shell
        self.recorder = recorder
        self.current: subprocess.Popen[bytes] | None = None
        self.calls = 0
        self._starting = False
        self._held: tuple[int, Callable[[], None]] | None = None

    def forward(self, signum: int, then: Callable[[], None]) -> None:
        """Send ``signum`` to the running handler, if any (``agent.ForwardSignals``), then call
        ``then``.

        A signal that arrives while a handler is being started (its process may already run
        before ``Popen`` returns here) is held until the process is known, then forwarded.
        """
        if self._starting:
            self._held = (signum, then)
            return
        process = self.current
        if process is not None and process.returncode is None:
            with contextlib.suppress(OSError):
                process.send_signal(signum)
        then()

    def run(self, index: int, stdin: bytes) -> str | None:
        """Run the handler with ``stdin`` and ``CONSUL_INDEX=index``; wait for it."""
        self.calls += 1
        env = dict(os.environ)
        env[messages.CLI_WATCH_INDEX_ENV] = str(index)
        argv = command_for(self.args, self.shell, env)
        record: dict[str, Any] = {
            "number": self.calls,
            "index": index,
            "argv": argv,
            "env": env,
            "stdin": _b64(stdin),
        }
        self._starting = True
        try:
            process = self._start(argv, env)
        except StartError as exc:
            self._starting = False
            message = messages.CLI_WATCH_HANDLER_NOT_STARTED.format(error=exc)
            if self.recorder is not None:
                self.recorder.write({"event": "start-failed", **record, "error": str(exc)})
            self._release_held()
            return message
        self.current = process
        self._starting = False
        self._release_held()
        if self.recorder is not None:
            self.recorder.write({"event": "start", **record, "pid": process.pid})
        outputs: tuple[list[bytes], list[bytes]] = ([], [])
        copiers = []
        if self.recorder is not None:
            streams = ((process.stdout, 1, outputs[0]), (process.stderr, 2, outputs[1]))
            for stream, fd, sink in streams:
                assert stream is not None
                thread = threading.Thread(target=_copy, args=(stream, fd, sink), daemon=True)
                thread.start()
                copiers.append(thread)
        writer = threading.Thread(target=_feed, args=(process, stdin), daemon=True)
        writer.start()
        returncode = process.wait()
        writer.join()
        for thread in copiers:
            thread.join()
        self.current = None
        error = None if returncode == 0 else wait_status_text(returncode)
        if self.recorder is not None:
            self.recorder.write(
                {
                    "event": "end",
                    "number": self.calls,
                    "pid": process.pid,
                    "returncode": returncode,
                    "error": error,
                    "stdout": _b64(b"".join(outputs[0])),
                    "stderr": _b64(b"".join(outputs[1])),
                }
            )
        if error is None:
            return None
        return messages.CLI_WATCH_HANDLER_FAILED.format(error=error)

    def _release_held(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            self.forward(*held)

    def _start(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        name = argv[0] if argv else ""
        program = name
        if name and "/" not in name:
            program = look_path(name, os.environ.get("PATH", ""))
        piped = subprocess.PIPE if self.recorder is not None else None
        try:
            return subprocess.Popen(
                argv or [""],
                executable=program or None,
                env=env,
                stdin=subprocess.PIPE,
                stdout=piped,
                stderr=piped,
                close_fds=True,
            )
        except OSError as exc:
            raise StartError(
                messages.GO_FORK_EXEC.format(path=program, error=go_errno_text(exc))
            ) from None


def _feed(process: subprocess.Popen[bytes], data: bytes) -> None:
    # Go copies the buffer into the pipe from a goroutine and ignores EPIPE: a handler may exit
    # without reading its input.
    stream = process.stdin
    assert stream is not None
    with contextlib.suppress(BrokenPipeError, OSError):
        stream.write(data)
    with contextlib.suppress(OSError):
        stream.close()


def install_signal_forwarding(runner: HandlerRunner | None, on_shutdown: Any) -> None:
    """Forward ``SIGINT``/``SIGTERM`` to a running handler, then call ``on_shutdown``.

    ``command/watch/watch.go`` stops the plan and exits 0 on either signal (its shutdown
    channel), while ``agent.ForwardSignals`` passes them on to the handler.
    """

    def handle(signum: int, frame: Any) -> None:
        if runner is not None:
            runner.forward(signum, on_shutdown)
        else:
            on_shutdown()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
