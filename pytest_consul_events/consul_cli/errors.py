"""The exceptions the ``consul`` command turns into its exit codes (kept import-free)."""

from __future__ import annotations


class NotImplementedByFake(Exception):
    """Something Consul's command line supports that this implementation does not; the
    command prints the message and exits 1."""


class GoPanic(Exception):
    """Go would panic here: the command prints ``panic: <message>`` and exits 2."""
