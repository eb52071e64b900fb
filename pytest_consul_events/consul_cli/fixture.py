"""The ``consul_cli`` fixture: a ``consul`` command on ``PATH``, pointed at a fake agent.

:func:`consul_cli_fixture` backs the fixture of the same name in the plugin. For the test:

* a ``consul`` launcher (a shell script running this package's :mod:`.cli` with the current
  Python) is written once per session into a temporary directory, and that directory is put
  first on ``PATH``, so the test and every process it starts (deploy scripts, watch handlers)
  run it;
* ``CONSUL_HTTP_ADDR`` points at ``consul_agent`` (``consul_env`` cleared the token and TLS
  variables), or at the agent given to :meth:`ConsulCLI.use`;
* :meth:`ConsulCLI.run` runs a command and returns its exit code and output;
  :meth:`ConsulCLI.watch` starts ``consul watch -type=event ...`` in the background, records
  every handler invocation, and is stopped when the test ends, with every process it started.

The recording does not change what a handler gets: the watch reports each invocation (its
standard input, environment, argv, exit status, output) on a pipe the fixture reads, from
which it removes the pipe's variable before running anything. Waiting is on a condition fed
by that pipe; no test has to sleep.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest

import pytest_consul_events
from pytest_consul_events.consul_cli.handler import RECORD_FD_ENV
from pytest_consul_events.consul_cli.plan import RESET_RULES
from pytest_consul_events.consul_cli.watch_cmd import RESET_ENV, RETRY_ENV

if TYPE_CHECKING:
    from pytest_consul_events.fake import FakeConsulAgent

LAUNCHER_NAME = "consul"
_LAUNCHER_DIR = pytest.StashKey[Path]()
_STOP_TIMEOUT = 5.0


def launcher_script(python: str, package_root: str) -> str:
    """The text of the ``consul`` launcher: run :func:`.cli.launch` with ``python``.

    Python runs isolated from ``PYTHON*`` variables and site-packages (``-E -S``: the command
    needs only the standard library and this package, whose directory the script adds to
    ``sys.path``), which keeps each call's start-up short and makes it load the very code the
    tests import. The first argument tells :func:`.cli.launch` whether ``LC_CTYPE`` was set.
    """
    code = (
        f"import sys; sys.path.insert(0, {package_root!r}); "
        "from pytest_consul_events.consul_cli.cli import launch; launch()"
    )
    return (
        "#!/bin/sh\n"
        "# consul: the `consul event` and `consul watch -type=event` of pytest-consul-events.\n"
        f'exec {shlex.quote(python)} -E -S -c {shlex.quote(code)} "${{LC_CTYPE+set}}" "$@"\n'
    )


def launcher_directory(config: pytest.Config, factory: pytest.TempPathFactory) -> Path:
    """The session's directory holding the ``consul`` launcher, made on first use."""
    directory = config.stash.get(_LAUNCHER_DIR, None)
    if directory is None:
        directory = factory.mktemp("consul-cli")
        root = str(Path(pytest_consul_events.__file__).resolve().parent.parent)
        launcher = directory / LAUNCHER_NAME
        launcher.write_text(launcher_script(sys.executable, root))
        launcher.chmod(0o755)
        config.stash[_LAUNCHER_DIR] = directory
    return directory


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


@dataclass(frozen=True)
class CLIResult:
    """What one ``consul`` command did: its arguments, exit code and output (text)."""

    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class HandlerInvocation:
    """One run of a watch's handler, as the handler saw it.

    ``stdin`` holds the exact bytes it was given (Go's JSON encoding and a newline), ``env``
    its whole environment (``CONSUL_INDEX`` included), ``argv`` the command line
    (``["/bin/sh", "-c", "<handler>"]`` by default). ``returncode`` is negative for a signal
    and ``None`` when it could not start; ``error`` is the Go error text the watch printed
    (``exit status 2``, ``exec: "x": executable file not found in $PATH``), ``None`` on
    success. ``stdout``/``stderr`` are what it wrote.
    """

    number: int
    index: int
    argv: tuple[str, ...]
    env: Mapping[str, str]
    stdin: bytes
    pid: int | None
    returncode: int | None
    error: str | None
    stdout: bytes = b""
    stderr: bytes = b""

    @property
    def events(self) -> list[dict[str, Any]] | None:
        """The JSON the handler read: a list of events (Go field names), or ``None``."""
        value: list[dict[str, Any]] | None = json.loads(self.stdin)
        return value

    @property
    def event_ids(self) -> list[str]:
        """The ``ID`` of each event handed over, in the order given."""
        return [event["ID"] for event in self.events or []]

    @property
    def payloads(self) -> list[bytes | None]:
        """Each event's payload, decoded from base64 (``None`` for ``null``)."""
        return [
            None if event["Payload"] is None else base64.b64decode(event["Payload"])
            for event in self.events or []
        ]

    @property
    def consul_index(self) -> int:
        """``CONSUL_INDEX`` as the handler saw it."""
        return int(self.env["CONSUL_INDEX"])


@dataclass
class _WatchState:
    requests: list[int | None] = field(default_factory=list)
    outstanding: bool = False
    responses: list[tuple[int, int | None]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    started: dict[int, dict[str, Any]] = field(default_factory=dict)
    invocations: list[HandlerInvocation] = field(default_factory=list)
    ended: bool = False


def _open_pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (OSError, AttributeError):
        return None  # already gone, or not Linux


def _group_members(pgid: int) -> list[int]:
    """The live processes of process group ``pgid`` other than its leader (Linux's /proc)."""
    members = []
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == pgid:
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # it ended meanwhile
            if fields[0] != "Z" and int(fields[2]) == pgid:
                members.append(int(entry))
    return members


def _wait_readable(fd: int, timeout: float) -> bool:
    readable, _, _ = select.select([fd], [], [], max(timeout, 0.0))
    return bool(readable)


class WatchProcess:
    """A ``consul watch`` running in the background for a test (made by
    :meth:`ConsulCLI.watch`)."""

    def __init__(
        self,
        args: Sequence[str],
        argv: Sequence[str],
        env: dict[str, str],
        *,
        cwd: str | os.PathLike[str] | None,
        agent: FakeConsulAgent | None,
        blocked_on: Callable[[FakeConsulAgent], int],
    ) -> None:
        self.args = tuple(args)
        self.agent = agent
        self._blocked_on = blocked_on
        self._state = _WatchState()
        self._changed = threading.Condition()
        self._stdout: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop)
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop)
        self._pidfds: dict[int, int] = {}
        read_fd, write_fd = os.pipe()
        env = {**env, RECORD_FD_ENV: str(write_fd)}
        try:
            self.process = subprocess.Popen(
                list(argv),
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=self._stdout,
                stderr=self._stderr,
                pass_fds=(write_fd,),
                start_new_session=True,  # its own process group, removed whole at the end
            )
        except BaseException:
            os.close(read_fd)
            self._close_files()
            raise
        finally:
            os.close(write_fd)
        self.pid = self.process.pid
        self._self_pidfd = _open_pidfd(self.pid)
        self._final_output: tuple[bytes, bytes] | None = None
        self._reader = threading.Thread(
            target=self._read_records, args=(read_fd,), name=f"consul-watch-{self.pid}"
        )
        self._reader.daemon = True
        self._reader.start()

    # -- the record pipe -------------------------------------------------------------------------

    def _read_records(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as stream:
            for line in stream:
                with contextlib.suppress(ValueError):
                    self._record(json.loads(line))
        with self._changed:
            self._state.ended = True
            self._state.outstanding = False
            self._changed.notify_all()

    def _record(self, record: dict[str, Any]) -> None:
        kind = record.get("event")
        with self._changed:
            state = self._state
            if kind == "request":
                state.requests.append(record["index"])
                state.outstanding = True
            elif kind == "response":
                state.outstanding = False
                state.responses.append((record["index"], record["count"]))
            elif kind == "error":
                state.outstanding = False
                state.errors.append(record["error"])
            elif kind == "start":
                state.started[record["number"]] = record
                pidfd = _open_pidfd(record["pid"])
                if pidfd is not None:
                    self._pidfds[record["pid"]] = pidfd
            elif kind == "start-failed":
                state.invocations.append(self._invocation(record, record, None))
            elif kind == "end":
                start = state.started.pop(record["number"])
                state.invocations.append(self._invocation(start, record, record["returncode"]))
                pidfd = self._pidfds.pop(record["pid"], None)
                if pidfd is not None:
                    os.close(pidfd)
            self._changed.notify_all()

    @staticmethod
    def _invocation(
        start: dict[str, Any], end: dict[str, Any], returncode: int | None
    ) -> HandlerInvocation:
        return HandlerInvocation(
            number=start["number"],
            index=start["index"],
            argv=tuple(start["argv"]),
            env=dict(start["env"]),
            stdin=base64.b64decode(start["stdin"]),
            pid=start.get("pid"),
            returncode=returncode,
            error=end.get("error"),
            stdout=base64.b64decode(end.get("stdout", "")),
            stderr=base64.b64decode(end.get("stderr", "")),
        )

    # -- what it did ----------------------------------------------------------------------------

    @property
    def invocations(self) -> list[HandlerInvocation]:
        """Every handler run that ended (or could not start), in order."""
        with self._changed:
            return list(self._state.invocations)

    @property
    def running(self) -> list[int]:
        """The pids of the handler runs that started and have not ended."""
        with self._changed:
            return [record["pid"] for record in self._state.started.values()]

    @property
    def requests(self) -> list[int | None]:
        """The ``index`` each list query of the watch blocked on (``None``: no index sent)."""
        with self._changed:
            return [index or None for index in self._state.requests]

    @property
    def errors(self) -> list[str]:
        """The error of each failed list query (what ``Watch errored`` logged)."""
        with self._changed:
            return list(self._state.errors)

    @property
    def blocking(self) -> bool:
        """Whether the watch has a list query with an index under way."""
        with self._changed:
            state = self._state
            return state.outstanding and bool(state.requests and state.requests[-1])

    @property
    def returncode(self) -> int | None:
        """The watch's exit code, ``None`` while it runs."""
        return self.process.poll()

    @property
    def stdout(self) -> str:
        """Everything the watch (and its handlers) wrote to standard output so far."""
        if self._final_output is not None:
            return _text(self._final_output[0])
        return _text(self._read(self._stdout))

    @property
    def stderr(self) -> str:
        """Everything the watch (and its handlers) wrote to standard error so far."""
        if self._final_output is not None:
            return _text(self._final_output[1])
        return _text(self._read(self._stderr))

    @staticmethod
    def _read(stream: IO[bytes]) -> bytes:
        if stream.closed:
            return b""
        return os.pread(stream.fileno(), os.fstat(stream.fileno()).st_size, 0)

    def _describe(self) -> str:
        return (
            f"consul watch {shlex.join(self.args)} (pid {self.pid}, exit code "
            f"{self.returncode}): {len(self.invocations)} handler invocation(s), "
            f"queries {self.requests}\nits standard error:\n{self.stderr}"
        )

    # -- waiting ----------------------------------------------------------------------------------

    def wait_for(
        self, predicate: Callable[[list[HandlerInvocation]], bool], timeout: float = 5.0
    ) -> list[HandlerInvocation]:
        """Wait until ``predicate(invocations)`` holds; returns the invocations.

        Raises:
            TimeoutError: it did not hold within ``timeout`` seconds, or the watch ended first.
        """
        with self._changed:
            done = self._changed.wait_for(
                lambda: predicate(self._state.invocations) or self._state.ended, timeout
            )
            invocations = list(self._state.invocations)
        if done and predicate(invocations):
            return invocations
        raise TimeoutError(f"the handler invocations awaited did not come: {self._describe()}")

    def wait_for_invocations(self, count: int, timeout: float = 5.0) -> list[HandlerInvocation]:
        """Wait until ``count`` handler runs have ended; returns all of them so far.

        Raises:
            TimeoutError: fewer had ended within ``timeout`` seconds, or the watch ended first.
        """
        return self.wait_for(lambda invocations: len(invocations) >= count, timeout)

    def wait_for_started(self, count: int, timeout: float = 5.0) -> None:
        """Wait until ``count`` handler runs have started (ended or not).

        Raises:
            TimeoutError: fewer had started within ``timeout`` seconds, or the watch ended.
        """

        def started() -> int:
            return len(self._state.started) + len(self._state.invocations)

        with self._changed:
            if (
                self._changed.wait_for(lambda: started() >= count or self._state.ended, timeout)
                and started() >= count
            ):
                return
        raise TimeoutError(f"{count} handler runs did not start: {self._describe()}")

    def wait_for_queries(self, count: int, timeout: float = 5.0) -> None:
        """Wait until ``count`` of the watch's list queries have been answered (or failed).

        Raises:
            TimeoutError: fewer were answered within ``timeout`` seconds, or the watch ended.
        """
        with self._changed:
            answered = self._changed.wait_for(
                lambda: (
                    len(self._state.responses) + len(self._state.errors) >= count
                    or self._state.ended
                ),
                timeout,
            )
            if answered and len(self._state.responses) + len(self._state.errors) >= count:
                return
        raise TimeoutError(f"{count} list queries were not answered: {self._describe()}")

    def wait_until_blocked(self, timeout: float = 5.0) -> None:
        """Wait until the watch is blocked on its agent, waiting for the next change.

        That is: its latest list query carries an index, has no answer yet, and the agent (when
        the watch talks to a fake agent) holds it blocked. A query answered at once (the list
        changed meanwhile) does not count; the watch's next one does.

        Raises:
            TimeoutError: not blocked within ``timeout`` seconds, or the watch ended.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                ready = self._changed.wait_for(
                    lambda: (
                        self._state.ended
                        or (self._state.outstanding and bool(self._state.requests[-1]))
                    ),
                    max(deadline - time.monotonic(), 0.0),
                )
                if not ready or self._state.ended:
                    raise TimeoutError(f"the watch did not block: {self._describe()}")
                queries = len(self._state.requests)
            if self.agent is None:
                return
            try:
                self.agent.wait_for_blocked(
                    self._blocked_on(self.agent), max(deadline - time.monotonic(), 0.0)
                )
            except TimeoutError:
                raise TimeoutError(
                    f"the agent never held the watch's query: {self._describe()}"
                ) from None
            with self._changed:
                if self._state.outstanding and len(self._state.requests) == queries:
                    return

    def wait(self, timeout: float = 5.0) -> int:
        """Wait for the watch to exit by itself (no handler, or a failed one); its exit code.

        Raises:
            subprocess.TimeoutExpired: still running after ``timeout`` seconds.
        """
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        return code

    # -- the end ----------------------------------------------------------------------------------

    def stop(self, timeout: float = _STOP_TIMEOUT) -> int:
        """Stop the watch as Ctrl-C would (``SIGTERM``, which it forwards to a running handler),
        then make sure nothing it started is left; returns its exit code.

        Processes still running after ``timeout`` seconds are killed.
        """
        if self._final_output is not None:
            return self.process.wait()
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
        self._await_exit(self.pid, self._self_pidfd, timeout)
        # The watch has exited (not reaped yet): the record pipe is at its end.
        self._reader.join(timeout)
        with self._changed:
            handlers, self._pidfds = self._pidfds, {}
        for pid, pidfd in handlers.items():  # handlers the watch left running (SIGTERMed)
            self._await_exit(pid, pidfd, timeout)
        # Whatever a handler left behind (children it started) is in the watch's process group;
        # the watch is not reaped yet, so the group's id cannot have been reused.
        members = _group_members(self.pid)
        if members:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            for pid in members:  # SIGKILL is delivered asynchronously: wait for each to end
                self._await_exit(pid, _open_pidfd(pid), timeout)
        code = self.process.wait(timeout)
        if self._self_pidfd is not None:
            os.close(self._self_pidfd)
            self._self_pidfd = None
        self._close_files(keep_output=True)
        return code

    def _await_exit(self, pid: int, pidfd: int | None, timeout: float) -> None:
        """Wait for ``pid`` to exit (not reaping it); kill it after ``timeout`` seconds."""
        if pidfd is None:
            return
        if not _wait_readable(pidfd, timeout):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_readable(pidfd, timeout)
        if pidfd != self._self_pidfd:
            os.close(pidfd)

    def _close_files(self, keep_output: bool = False) -> None:
        if keep_output:
            self._final_output = (self._read(self._stdout), self._read(self._stderr))
        self._stdout.close()
        self._stderr.close()

    def __repr__(self) -> str:
        return f"<WatchProcess consul watch {shlex.join(self.args)} pid={self.pid}>"


class ConsulCLI:
    """The ``consul_cli`` fixture's value: run ``consul`` commands against a fake agent.

    ``path`` is the launcher, ``directory`` the directory put first on ``PATH``.
    """

    def __init__(
        self, directory: Path, agent: FakeConsulAgent, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.directory = directory
        self.path = directory / LAUNCHER_NAME
        self._monkeypatch = monkeypatch
        self.agent: FakeConsulAgent | None = None
        self._watches: list[WatchProcess] = []
        self.use(agent)

    @property
    def http_addr(self) -> str:
        """The address ``consul`` talks to (``CONSUL_HTTP_ADDR``)."""
        return os.environ["CONSUL_HTTP_ADDR"]

    def use(self, target: FakeConsulAgent | str) -> ConsulCLI:
        """Point ``CONSUL_HTTP_ADDR`` (for the rest of the test) at an agent, such as one of
        ``consul_cluster``'s, or at an address; returns the fixture.

        Watches already running keep the address they were started with.
        """
        if isinstance(target, str):
            self.agent = None
            address = target
        else:
            self.agent = target
            address = target.http_addr
        self._monkeypatch.setenv("CONSUL_HTTP_ADDR", address)
        return self

    def _env(self, env: Mapping[str, str] | None) -> dict[str, str]:
        merged = dict(os.environ)
        if env:
            merged.update(env)
        return merged

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        timeout: float = 30.0,
    ) -> CLIResult:
        """Run ``consul <args>`` and wait for it: ``consul_cli.run("event", "-name=deploy")``.

        ``env`` adds to (or overrides) the test's environment.

        Raises:
            subprocess.TimeoutExpired: it ran longer than ``timeout`` seconds (it is killed).
        """
        completed = subprocess.run(
            [str(self.path), *args],
            env=self._env(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        return CLIResult(
            tuple(args), completed.returncode, _text(completed.stdout), _text(completed.stderr)
        )

    def watch(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        index_reset: str | None = None,
        retry_interval: float | None = None,
    ) -> WatchProcess:
        """Start ``consul watch <args>`` in the background until the test ends.

        ``-type=event`` is added unless ``args`` give a type, so
        ``consul_cli.watch("-name=deploy", "./on-deploy.sh")`` runs
        ``consul watch -type=event -name=deploy ./on-deploy.sh``. ``index_reset="decrease"``
        makes the watch reset its index as Consul 1.4-1.6 did; ``retry_interval`` replaces
        Consul's 5-second back-off base after a failed query.
        """
        if not any(arg == "-type" or arg.startswith(("-type=", "--type")) for arg in args):
            args = ("-type=event", *args)
        extra: dict[str, str] = dict(env or {})
        if index_reset is not None:
            if index_reset not in RESET_RULES:
                raise ValueError(f"index_reset must be one of {RESET_RULES}, not {index_reset!r}")
            extra[RESET_ENV] = index_reset
        if retry_interval is not None:
            if not retry_interval > 0:
                raise ValueError(f"retry_interval must be positive, not {retry_interval!r}")
            extra[RETRY_ENV] = repr(float(retry_interval))
        watch = WatchProcess(
            args,
            [str(self.path), "watch", *args],
            self._env(extra),
            cwd=cwd,
            agent=self.agent,
            blocked_on=self._blocking_count,
        )
        self._watches.append(watch)
        return watch

    def _blocking_count(self, agent: FakeConsulAgent) -> int:
        return max(1, sum(1 for watch in self._watches if watch.agent is agent and watch.blocking))

    def close(self) -> None:
        """Stop every watch started through this fixture (done when the test ends)."""
        watches, self._watches = self._watches, []
        for watch in watches:
            watch.stop()


def consul_cli_fixture(
    request: pytest.FixtureRequest,
    agent: FakeConsulAgent,
    monkeypatch: pytest.MonkeyPatch,
    factory: pytest.TempPathFactory,
) -> Iterator[ConsulCLI]:
    """The body of the ``consul_cli`` fixture (``consul_env`` already set the environment)."""
    directory = launcher_directory(request.config, factory)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ.get('PATH', '')}")
    cli = ConsulCLI(directory, agent, monkeypatch)
    try:
        yield cli
    finally:
        cli.close()
