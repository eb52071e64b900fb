"""Rendering what the fake saw, for failure reports: the delivery trace as a timeline, and
the helpers that keep a report from failing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_consul_events.model.gossip import TraceEntry

_COLUMN = 14


def _cell(text: str) -> str:
    return (text if len(text) <= _COLUMN else text[: _COLUMN - 1] + "~").ljust(_COLUMN)


def _describe(entry: TraceEntry) -> str:
    if entry.kind == "fire":
        return "fired"
    if entry.kind == "deliver":
        return entry.outcome
    if entry.kind == "hold":
        return "held" if entry.outcome == "waiting for release" else "held (split)"
    return f"x {entry.outcome}"


def format_trace(trace: Sequence[TraceEntry], agents: Sequence[str]) -> str:
    """A timeline of gossip steps, one row per step and one column per agent.

    Each row names the event (name, the start of its ID, its Lamport time) and the time since
    the cluster started; the column of the agent concerned says what happened there:
    ``fired`` on the server that stamped it, then ``stored``, ``filtered``, ``duplicate``,
    ``too old``, ``held`` or ``x lost`` / ``x agent down`` on each receiver.
    """
    if not trace:
        return "gossip trace: (no events)"
    header = "  #   ms      event                   ltime | " + "".join(_cell(a) for a in agents)
    lines = ["gossip trace:", header, "-" * len(header)]
    for entry in trace:
        column = entry.source if entry.kind == "fire" else entry.target
        cells = "".join(_cell(_describe(entry) if name == column else ".") for name in agents)
        event = f"{entry.name}#{entry.event_id[:4]}"
        lines.append(
            f"{entry.seq:>3} {entry.at * 1000:>7.1f} {event[:23]:<23} {entry.ltime:>5} | {cells}"
        )
    return "\n".join(lines)


def describe_error(exc: BaseException) -> str:
    """``TypeError: text`` for an exception, never raising itself."""
    try:
        text = str(exc)
    except Exception:
        text = ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def printable(text: str) -> str:
    """``text`` with what no terminal can write (lone surrogates) escaped, for reports."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
