"""Log lines as ``hashicorp/go-hclog`` writes them to standard error (its plain format).

``2024-05-01T12:00:00.123+0200 [ERROR] watch.watch: Watch errored: type=event
error="Get \\"http://...\\": dial tcp ...: connect: connection refused" retry=5s``: the time
(Go layout ``2006-01-02T15:04:05.000Z0700``, local time), the level in brackets, the logger
name, the message and ``key=value`` pairs, a value quoted (``"`` escaped) when it holds a
character outside ``-`` through ``~`` (``intlogger.go`` ``needsQuoting``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pytest_consul_events import messages

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _timestamp(now: float) -> str:
    local = time.localtime(now)
    offset = local.tm_gmtoff or 0
    if offset == 0:
        zone = "Z"
    else:
        sign = "+" if offset > 0 else "-"
        minutes = abs(offset) // 60
        zone = f"{sign}{minutes // 60:02d}{minutes % 60:02d}"
    millis = f"{int(now * 1000) % 1000:03d}"
    return time.strftime(messages.HCLOG_TIME_FORMAT, local).format(millis=millis, zone=zone)


def _value(text: str) -> str:
    if text == "":
        return '""'
    if all("-" <= ch <= "~" for ch in text):
        return text
    out = []
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch < " ":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def log_line(
    level: str, name: str, message: str, pairs: Sequence[tuple[str, str]], now: float | None = None
) -> str:
    """One hclog line (with its newline) for ``level`` (``messages.HCLOG_ERROR``...)."""
    stamp = _timestamp(time.time() if now is None else now)
    line = f"{stamp} {level} {name}: {message}"
    if pairs:
        line += ":" + "".join(f" {key}={_value(value)}" for key, value in pairs)
    return line + "\n"


def _frac(value: int, precision: int) -> tuple[str, int]:
    """Go's ``fmtFrac``: the fraction of ``value / 10**precision`` without trailing zeros."""
    digits = ""
    printed = False
    for _ in range(precision):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits = str(digit) + digits
        value //= 10
    return ("." + digits if printed else ""), value


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String``: ``5s``, ``1m20s``, ``3m0s``, ``50ms``, ``1.5s``."""
    nanos = round(seconds * 1_000_000_000)
    sign = "-" if nanos < 0 else ""
    u = abs(nanos)
    if u == 0:
        return "0s"
    if u < 1_000_000_000:
        if u < 1_000:
            unit, precision = "ns", 0
        elif u < 1_000_000:
            unit, precision = "\u00b5s", 3
        else:
            unit, precision = "ms", 6
        frac, whole = _frac(u, precision)
        return f"{sign}{whole}{frac}{unit}"
    frac, whole = _frac(u, 9)
    text = f"{whole % 60}{frac}s"
    minutes = whole // 60
    if minutes:
        text = f"{minutes % 60}m{text}"
        if minutes // 60:
            text = f"{minutes // 60}h{text}"
    return sign + text
