"""Go's ``flag`` package as Consul's commands use it, and Consul's help text layout.

Consul parses each command's arguments with a ``flag.FlagSet`` made with
``flag.ContinueOnError`` and no name (Go ``src/flag/flag.go``), so:

* ``-flag=value``, ``-flag value`` and ``--flag`` forms are all accepted; a boolean flag takes
  ``-flag`` or ``-flag=false`` (never ``-flag false``);
* parsing stops at the first non-flag argument (``-`` is one) or after ``--``;
* an error prints Go's message and the default usage (``Usage:`` and ``PrintDefaults``) to
  standard error, and the command exits 1.

:func:`consul_usage` renders a command's ``Help()`` as Consul's ``command/flags/usage.go``
does (HTTP API options first, then the command's own, each wrapped by ``kr/text``'s
minimum-raggedness algorithm at 67 columns and indented by 5).

Go works on bytes and this module on ``str``; every character Go compares is ASCII, so the two
agree (arguments that are not valid UTF-8 arrive as surrogate escapes and stay opaque).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TextIO, TypeVar

from pytest_consul_events import messages
from pytest_consul_events.gocompat.strconv import go_quote


class FlagParseError(Exception):
    """Parsing failed; Go's message and the usage were already written to the output."""


class HelpRequested(FlagParseError):
    """``-h`` or ``-help`` reached the flag parser (Go returns ``flag.ErrHelp``)."""


_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_bool(text: str) -> bool:
    """Go's ``strconv.ParseBool``.

    Raises:
        ValueError: with Go's error text, ``strconv.ParseBool: parsing "x": invalid syntax``.
    """
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(messages.GO_PARSE_BOOL_SYNTAX.format(quoted=go_quote(text)))


class Value:
    """A flag's value: Go's ``flag.Value`` (``Set`` and ``String``).

    ``type_name`` is what Go's ``UnquoteUsage`` guesses from the value's type, shown after the
    flag in the usage; ``is_bool`` marks a value that needs no argument (``IsBoolFlag``).
    """

    type_name = "value"
    is_bool = False

    def set(self, text: str) -> None:
        """Store ``text``. Raises ``ValueError`` with Go's error text when it does not parse."""
        raise NotImplementedError

    def string(self) -> str:
        """The value as Go's ``String()`` prints it."""
        raise NotImplementedError

    def zero_string(self) -> str:
        """``String()`` of a zero value of the same type (Go's ``isZeroValue``)."""
        return ""


class GoString(Value):
    """Go's own ``*stringValue`` (``FlagSet.StringVar``)."""

    type_name = "string"

    def __init__(self, default: str = "") -> None:
        self.value = default

    def set(self, text: str) -> None:
        self.value = text

    def string(self) -> str:
        return self.value


class GoBool(Value):
    """Go's own ``*boolValue`` (``FlagSet.BoolVar``): a bad value is ``parse error``."""

    type_name = ""
    is_bool = True

    def __init__(self, default: bool = False) -> None:
        self.value = default

    def set(self, text: str) -> None:
        try:
            self.value = parse_bool(text)
        except ValueError:
            raise ValueError(messages.GO_FLAG_PARSE_ERROR) from None

    def string(self) -> str:
        return "true" if self.value else "false"

    def zero_string(self) -> str:
        return "false"


class ConsulString(Value):
    """Consul's ``flags.StringValue``: a string that knows whether it was set."""

    def __init__(self) -> None:
        self.value: str | None = None

    def set(self, text: str) -> None:
        self.value = text

    def string(self) -> str:
        return self.value or ""


class ConsulBool(Value):
    """Consul's ``flags.BoolValue``: a bad value is ``strconv.ParseBool``'s own error."""

    type_name = ""
    is_bool = True

    def __init__(self) -> None:
        self.value: bool | None = None

    def set(self, text: str) -> None:
        self.value = parse_bool(text)

    def string(self) -> str:
        return "true" if self.value else "false"

    def zero_string(self) -> str:
        return "false"


class AppendSlice(Value):
    """Consul's ``flags.AppendSliceValue``: each use of the flag appends a value."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def set(self, text: str) -> None:
        self.values.append(text)

    def string(self) -> str:
        return ",".join(self.values)


V = TypeVar("V", bound=Value)


class Flag:
    """One defined flag: name, usage text, value and the default as text."""

    __slots__ = ("default", "name", "usage", "value")

    def __init__(self, name: str, usage: str, value: Value) -> None:
        self.name = name
        self.usage = usage
        self.value = value
        self.default = value.string()


def unquote_usage(flag: Flag) -> tuple[str, str]:
    """Go's ``flag.UnquoteUsage``: the back-quoted name in the usage (quotes removed from the
    usage), or else the name Go guesses from the value's type."""
    usage = flag.usage
    start = usage.find("`")
    if start >= 0:
        end = usage.find("`", start + 1)
        if end >= 0:
            name = usage[start + 1 : end]
            return name, usage[:start] + name + usage[end + 1 :]
    return flag.value.type_name, usage


class FlagSet:
    """A Go ``flag.FlagSet`` with an empty name and ``ContinueOnError``.

    ``output`` receives Go's messages and usage (standard error for Consul's commands).
    """

    def __init__(self, output: Callable[[], TextIO]) -> None:
        self._output = output
        self.formal: dict[str, Flag] = {}
        self.args: list[str] = []

    def var(self, value: V, name: str, usage: str) -> V:
        """Define a flag (``FlagSet.Var``); returns ``value``."""
        if name in self.formal:
            raise ValueError(f"flag redefined: {name}")
        self.formal[name] = Flag(name, usage, value)
        return value

    def merge(self, flags: Iterable[Flag]) -> None:
        """Consul's ``flags.Merge``: define each flag again here, sharing its value."""
        for flag in flags:
            self.var(flag.value, flag.name, flag.usage)

    def visit_all(self) -> list[Flag]:
        """The flags in lexicographical order of their names (Go's ``VisitAll``)."""
        return [self.formal[name] for name in sorted(self.formal)]

    def _fail(self, message: str) -> FlagParseError:
        out = self._output()
        out.write(message + "\n")
        self.print_usage(out)
        return FlagParseError(message)

    def print_usage(self, out: TextIO) -> None:
        """Go's default usage for an unnamed flag set: ``Usage:`` then ``PrintDefaults``."""
        out.write(messages.GO_FLAG_USAGE_HEADER)
        out.write(self.defaults())
        out.flush()

    def defaults(self) -> str:
        """Go's ``PrintDefaults`` output, one entry per flag in name order."""
        lines = []
        for flag in self.visit_all():
            name, usage = unquote_usage(flag)
            line = f"  -{flag.name}"
            if name:
                line += " " + name
            line += "\t" if len(line) <= 4 else "\n    \t"
            line += usage.replace("\n", "\n    \t")
            if flag.default != flag.value.zero_string():
                shown = go_quote(flag.default) if isinstance(flag.value, GoString) else flag.default
                line += f" (default {shown})"
            lines.append(line + "\n")
        return "".join(lines)

    def parse(self, arguments: list[str]) -> list[str]:
        """Parse ``arguments`` as Go's ``FlagSet.Parse`` does; returns the remaining arguments.

        Raises:
            FlagParseError: a bad flag; Go's message and the usage were written to the output.
            HelpRequested: ``-h`` or ``-help`` (undefined flags), after writing the usage.
        """
        self.args = list(arguments)
        while self._parse_one():
            pass
        return self.args

    def _parse_one(self) -> bool:
        if not self.args:
            return False
        s = self.args[0]
        if len(s) < 2 or s[0] != "-":
            return False
        minuses = 1
        if s[1] == "-":
            minuses = 2
            if len(s) == 2:  # "--" ends the flags
                self.args = self.args[1:]
                return False
        name = s[minuses:]
        if not name or name[0] in "-=":
            raise self._fail(messages.GO_FLAG_BAD_SYNTAX.format(arg=s))
        self.args = self.args[1:]
        has_value = False
        value = ""
        equals = name.find("=", 1)
        if equals >= 1:
            name, value, has_value = name[:equals], name[equals + 1 :], True
        flag = self.formal.get(name)
        if flag is None:
            if name in ("help", "h"):
                self.print_usage(self._output())
                raise HelpRequested(messages.GO_FLAG_HELP_REQUESTED)
            raise self._fail(messages.GO_FLAG_NOT_DEFINED.format(name=name))
        if flag.value.is_bool:
            try:
                flag.value.set(value if has_value else "true")
            except ValueError as exc:
                if has_value:
                    raise self._fail(
                        messages.GO_FLAG_INVALID_BOOL.format(
                            quoted=go_quote(value), name=name, error=exc
                        )
                    ) from None
                raise self._fail(
                    messages.GO_FLAG_INVALID_BOOL_FLAG.format(name=name, error=exc)
                ) from None
            return True
        if not has_value and self.args:
            value, self.args, has_value = self.args[0], self.args[1:], True
        if not has_value:
            raise self._fail(messages.GO_FLAG_NEEDS_ARGUMENT.format(name=name))
        try:
            flag.value.set(value)
        except ValueError as exc:
            raise self._fail(
                messages.GO_FLAG_INVALID_VALUE.format(quoted=go_quote(value), name=name, error=exc)
            ) from None
        return True


# -- Consul's help text (command/flags/usage.go) --------------------------------------------------

_MAX_LINE_LENGTH = 72
_PENALTY = 100_000  # kr/text defaultPenalty
_MAX_INT32 = 2**31 - 1


def wrap(text: str, limit: int) -> str:
    """``kr/text.Wrap``: split ``text`` into lines of at most ``limit`` bytes (unless a single
    word is longer) with minimal raggedness, counting one unit per byte as Go does."""
    words = text.strip(" \t\n\v\f\r").replace("\n", " ").split(" ")
    sizes = [len(word.encode("utf-8", "surrogateescape")) for word in words]
    n = len(words)
    # length(i, j): the width of words i..j on one line, spaces included.
    prefix = [0]
    for size in sizes:
        prefix.append(prefix[-1] + size)

    def length(i: int, j: int) -> int:
        return prefix[j + 1] - prefix[i] + (j - i)

    cost = [_MAX_INT32] * n
    breaks = [0] * n
    for i in range(n - 1, -1, -1):
        if length(i, n - 1) <= limit or i == n - 1:
            cost[i] = 0
            breaks[i] = n
            continue
        for j in range(i + 1, n):
            d = limit - length(i, j - 1)
            c = d * d + cost[j]
            if length(i, j - 1) > limit and i != j - 1:
                c += _PENALTY  # too-long lines get a worse penalty
            if c < cost[i]:
                cost[i] = c
                breaks[i] = j
    lines = []
    i = 0
    while i < n:
        lines.append(" ".join(words[i : breaks[i]]))
        i = breaks[i]
    return "\n".join(lines)


def _wrap_at_length(text: str, pad: int) -> str:
    return "\n".join(" " * pad + line for line in wrap(text, _MAX_LINE_LENGTH - pad).split("\n"))


def _print_flag(flag: Flag) -> str:
    example, _ = unquote_usage(flag)
    head = f"  -{flag.name}=<{example}>\n" if example else f"  -{flag.name}\n"
    return head + _wrap_at_length(flag.usage, 5) + "\n\n"


def consul_usage(text: str, flags: FlagSet, http_flag_names: frozenset[str]) -> str:
    """Consul's ``flags.Usage(help, flags)``: the help text, then the HTTP API options and the
    command options, each flag with its usage wrapped (``command/flags/usage.go``)."""
    out = [text.strip(" \t\n\v\f\r"), "\n", "\n"]
    http = [flag for flag in flags.visit_all() if flag.name in http_flag_names]
    own = [flag for flag in flags.visit_all() if flag.name not in http_flag_names]
    if http:
        out.append("HTTP API Options\n\n")
        out.extend(_print_flag(flag) for flag in http)
    if own:
        out.append("Command Options\n\n")
        out.extend(_print_flag(flag) for flag in own)
    return "".join(out).rstrip("\n")
