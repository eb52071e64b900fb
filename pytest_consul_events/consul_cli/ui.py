"""``mitchellh/cli.BasicUi`` on the process's standard streams: one line per message."""

from __future__ import annotations

import sys
from typing import TextIO


class UI:
    """``Output`` to standard output, ``Error`` to standard error, each message plus ``\\n``.

    Text that came from arguments which were not valid UTF-8 (held as surrogate escapes) is
    written back as the original bytes. Every write is flushed, as Go's unbuffered files are.
    """

    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr

    @staticmethod
    def _write(stream: TextIO, text: str) -> None:
        data = text.encode("utf-8", "surrogateescape")
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            stream.flush()
            buffer.write(data)
            buffer.flush()
        else:
            stream.write(data.decode("utf-8", "surrogateescape"))
            stream.flush()

    def output(self, message: str) -> None:
        """``Output``: ``message`` and a newline on standard output."""
        self._write(self.stdout, message + "\n")

    def error(self, message: str) -> None:
        """``Error``: ``message`` and a newline on standard error."""
        self._write(self.stderr, message + "\n")

    def raw_error(self, text: str) -> None:
        """Write ``text`` as it is to standard error (log lines, panics)."""
        self._write(self.stderr, text)

    def raw_output(self, text: str) -> None:
        """Write ``text`` as it is to standard output (help)."""
        self._write(self.stdout, text)
