"""hashicorp/hcl v1.0.0 as Consul vendors it: ``decode(source) -> ObjectList`` picking JSON when
the first non-space character is ``{``.

A port of the parts Consul's ``acl.NewPolicyFromSource`` goes through:

* ``decode`` is ``hcl.Parse``: ``lexMode`` chooses the JSON grammar when the first rune that is
  not ``unicode.IsSpace`` is ``{`` and the HCL v1 grammar otherwise; the scanners and parsers
  (hcl/scanner, hcl/parser, json/scanner, json/parser with flatten.go) keep Go's positions and
  error texts. Comments are skipped: they never change the tree.
* ``token_value`` is ``token.Value()`` for the kinds that carry a string: HCL strings through
  hcl/strconv ``Unquote`` (``${...}`` copied through), JSON strings through Go's
  ``strconv.Unquote``, heredocs unindented like ``unindentHeredoc``. Strings are Go strings held
  as ``str`` (see :mod:`pytest_consul_events.gocompat.strconv`).
* ``decode_string_field`` and ``decode_struct_list_field`` are the part of decoder.go that
  Consul's ``PolicyRules`` needs: ``string`` fields and ``[]*T`` fields whose struct has a
  ``hcl:",key"`` string field and ``string`` fields, names matched with ``strings.EqualFold``.

Every failure raises ``HCLError`` whose text is the ``%v`` of the error ``hcl.Decode`` returns
(positions ``line:column``, ``-`` for JSON nodes, which carry none); ``GoPanic`` (a subclass)
where the Go code panics instead, with the Go runtime's text. The texts are derived from the
hcl v1.0.0 source; they were not compared byte for byte against a real agent for every
malformed input, so they may differ in corner cases.

Quirks kept from hcl v1: the JSON parser stops at the first complete object (trailing text is
ignored), tolerates a missing ``}``, and skips booleans and nested lists inside lists.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Final, TypeAlias

from pytest_consul_events.gocompat.strconv import from_go_bytes

# hashicorp/hcl v1.0.0 scanner messages (hcl/scanner/scanner.go, json/scanner/scanner.go)
HCL_ILLEGAL_CHAR: Final = "illegal char"
HCL_NULL_CHAR: Final = "unexpected null character (0x00)"
HCL_COMMENT_EXPECTED_SLASH: Final = "expected '/' for comment"
HCL_COMMENT_NOT_TERMINATED: Final = "comment not terminated"
HCL_LITERAL_NOT_TERMINATED: Final = "literal not terminated"
HCL_ILLEGAL_ESCAPE: Final = "illegal char escape"
HCL_ILLEGAL_HEX_NUMBER: Final = "illegal hexadecimal number"
HCL_ILLEGAL_OCTAL_NUMBER: Final = "illegal octal number"
HCL_HEREDOC_SECOND_LT: Final = "heredoc expected second '<', didn't see it"
HCL_HEREDOC_NOT_TERMINATED: Final = "heredoc not terminated"
HCL_HEREDOC_BAD_ANCHOR: Final = "invalid characters in heredoc anchor"
HCL_HEREDOC_EMPTY_ANCHOR: Final = "zero-length heredoc anchor"
JSON_ZERO_NUMBER: Final = "numbers cannot start with 0"
# hashicorp/hcl v1.0.0 parsers (hcl/parser/parser.go, hcl/parser/error.go, json/parser/parser.go)
HCL_POS_ERROR: Final = "At {pos}: {error}"
HCL_NESTED_OBJECT_EXPECTED: Final = "nested object expected: LBRACE got: {type}"
HCL_NO_OBJECT_KEYS: Final = "no object keys found!"
HCL_EXPECTED_KEY: Final = "expected: IDENT | STRING got: {type}"
HCL_EXPECTED_KEY_OR_VALUE: Final = "expected: IDENT | STRING | ASSIGN | LBRACE got: {type}"
HCL_ILLEGAL_CHARACTER: Final = "illegal character"
HCL_KEY_WITHOUT_VALUE: Final = "key '{keys}' expected start of object ('{{') or assignment ('=')"
HCL_UNKNOWN_TOKEN: Final = "Unknown token: {token}"
HCL_OBJECT_NOT_CLOSED: Final = "object expected closing RBRACE got: {type}"
HCL_LIST_EXPECTED_COMMA: Final = "error parsing list, expected comma or list end, got: {type}"
HCL_LIST_OBJECT_ERROR: Final = "error while trying to parse object within list: {error}"
HCL_LIST_LIST_ERROR: Final = "error while trying to parse list within list: {error}"
HCL_LIST_UNEXPECTED: Final = "unexpected token while parsing list: {type}"
JSON_EXPECTED_STRING: Final = "expected: STRING got: {type}"
JSON_ILLEGAL: Final = "illegal"
JSON_EXPECTED_VALUE: Final = "Expected object value, got unknown token: {token}"
JSON_EXPECTED_OBJECT: Final = "Expected object, got unknown token: {token}"
# hashicorp/hcl v1.0.0 decoder.go
HCL_UNKNOWN_STRING_TYPE: Final = "{name}: unknown type for string {type}"
HCL_NOT_OBJECT_FOR_STRUCT: Final = "{name}: not an object type for struct ({type})"
HCL_UNKNOWN_SLICE_TYPE: Final = "unknown slice type: {type}"
HCL_KEY_IMPOSSIBLE: Final = "{name}: {field} asked for 'key', impossible"
# Go runtime texts for inputs on which Consul's HCL code panics (Consul does not answer those:
# the fake reports them as parse errors instead)
GO_PANIC_INDEX: Final = "runtime error: index out of range [0] with length 0"
GO_PANIC_UNREAD: Final = (
    "bytes.Buffer: UnreadRune: previous operation was not a successful ReadRune"
)
GO_PANIC_UNQUOTE: Final = "unquote {text} err: invalid syntax"
# Not hcl's: Go's recursive-descent parsers have no depth limit, Python's recursion has one.
NESTING_TOO_DEEP: Final = "nesting too deep"

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class HCLError(Exception):
    """The error ``hcl.Decode`` returns: ``message`` and ``str()`` are its Go text (``%v``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class GoPanic(HCLError):
    """Raised where hcl's Go code panics instead of returning an error (Go's panic text)."""


# ---------------------------------------------------------------------------------------------
# Go string helpers
# ---------------------------------------------------------------------------------------------


def _fold_ascii(char: str) -> str:
    if char == "\u017f":  # LATIN SMALL LETTER LONG S folds with s (unicode.SimpleFold)
        return "s"
    if char == "\u212a":  # KELVIN SIGN folds with k
        return "k"
    return char.lower() if char.isascii() else char


def _equal_fold_ascii(key: str, name: str) -> bool:
    """Go's ``strings.EqualFold(key, name)`` for an ASCII ``name`` (all names used here)."""
    return len(key) == len(name) and all(
        _fold_ascii(a) == _fold_ascii(b) for a, b in zip(key, name, strict=True)
    )


# ---------------------------------------------------------------------------------------------
# HCL v1: tokens, positions and syntax tree
# ---------------------------------------------------------------------------------------------

_EOF_CHAR: Final = "\x00"  # both scanners use rune(0) for end of input (a NUL char reads the same)

_ILLEGAL: Final = "ILLEGAL"
_EOF: Final = "EOF"
_COMMENT: Final = "COMMENT"
_IDENT: Final = "IDENT"
_NUMBER: Final = "NUMBER"
_FLOAT: Final = "FLOAT"
_BOOL: Final = "BOOL"
_STRING: Final = "STRING"
_HEREDOC: Final = "HEREDOC"
_NULL: Final = "NULL"
_LBRACK: Final = "LBRACK"
_LBRACE: Final = "LBRACE"
_COMMA: Final = "COMMA"
_PERIOD: Final = "PERIOD"
_COLON: Final = "COLON"
_RBRACK: Final = "RBRACK"
_RBRACE: Final = "RBRACE"
_ASSIGN: Final = "ASSIGN"
_ADD: Final = "ADD"
_SUB: Final = "SUB"


@dataclass(frozen=True)
class Pos:
    """``token.Pos``: 1-based line and column; line 0 (JSON nodes) prints as ``-``."""

    line: int = 0
    column: int = 0

    def __str__(self) -> str:  # token.Pos.String(): "-" when Line is 0
        return f"{self.line}:{self.column}" if self.line > 0 else "-"


_NO_POS: Final = Pos()


@dataclass(frozen=True)
class Token:
    """A scanned token: ``type`` is Go's name of its kind (``STRING``, ``LBRACE``...).

    ``json`` is true for a string that came from JSON (unquoted with Go's rules).
    """

    type: str
    pos: Pos
    text: str
    json: bool = False

    def hcl_plus_v(self) -> str:
        """``fmt.Sprintf("%+v", token)`` for an hcl/token.Token."""
        json = "true" if self.json else "false"
        return f"{{Type:{self.type} Pos:{self.pos} Text:{self.text} JSON:{json}}}"

    def json_plus_v(self) -> str:
        """``fmt.Sprintf("%+v", token)`` for a json/token.Token."""
        return f"{{Type:{self.type} Pos:{self.pos} Text:{self.text}}}"


@dataclass(eq=False)
class ObjectKey:
    """``ast.ObjectKey``: an IDENT or STRING token."""

    token: Token


@dataclass(eq=False)
class ObjectItem:
    """``ast.ObjectItem``: ``keys`` (a block's name and labels) and the value."""

    keys: list[ObjectKey]
    val: Node | None = None


@dataclass(eq=False)
class ObjectList:
    """``ast.ObjectList``: the items of a document or of an object, in source order."""

    items: list[ObjectItem] = field(default_factory=list)


@dataclass(eq=False)
class ObjectType:
    """``ast.ObjectType``: an object value ``{ ... }``."""

    list: ObjectList
    lbrace: Pos = _NO_POS


@dataclass(eq=False)
class ListType:
    """``ast.ListType``: a list value ``[ ... ]``."""

    elems: list[Node] = field(default_factory=list)
    lbrack: Pos = _NO_POS


@dataclass(eq=False)
class LiteralType:
    """``ast.LiteralType``: a number, bool, string or heredoc."""

    token: Token


Node: TypeAlias = "ObjectList | ObjectType | ListType | LiteralType | ObjectItem"
"""``ast.Node``: any node of the syntax tree."""

_GO_TYPE_NAMES: Final[dict[type, str]] = {
    ObjectList: "*ast.ObjectList",
    ObjectType: "*ast.ObjectType",
    ListType: "*ast.ListType",
    LiteralType: "*ast.LiteralType",
    ObjectItem: "*ast.ObjectItem",
}


def _go_type(node: Node | None) -> str:
    return "<nil>" if node is None else _GO_TYPE_NAMES[type(node)]


def _node_pos(node: Node | None) -> Pos:
    """``node.Pos()`` (panics like Go on an empty list or an item without keys)."""
    if isinstance(node, ObjectList):
        if not node.items:
            raise GoPanic(GO_PANIC_INDEX)
        return _node_pos(node.items[0])
    if isinstance(node, ObjectItem):
        if not node.keys:
            raise GoPanic(GO_PANIC_INDEX)
        return node.keys[0].token.pos
    if isinstance(node, ObjectType):
        return node.lbrace
    if isinstance(node, ListType):
        return node.lbrack
    if isinstance(node, LiteralType):
        return node.token.pos
    raise GoPanic("runtime error: invalid memory address or nil pointer dereference")


@dataclass(frozen=True)
class _ParseErr:
    """An ``error`` value inside the parsers (``text`` is its ``Error()``)."""

    text: str


_EOF_TOKEN_ERR: Final = _ParseErr("EOF token found")


def _pos_err(pos: Pos, text: str) -> _ParseErr:
    return _ParseErr(HCL_POS_ERROR.format(pos=pos, error=text))


# ---------------------------------------------------------------------------------------------
# HCL v1: scanners (ports of hcl/scanner and json/scanner, positions included)
# ---------------------------------------------------------------------------------------------


def _is_letter(char: str) -> bool:
    return (
        "a" <= char <= "z"
        or "A" <= char <= "Z"
        or char == "_"
        or (ord(char) >= 0x80 and char.isalpha())
    )


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9" or (ord(char) >= 0x80 and char.isdecimal())


def _is_decimal(char: str) -> bool:
    return "0" <= char <= "9"


def _is_hexadecimal(char: str) -> bool:
    return "0" <= char <= "9" or "a" <= char <= "f" or "A" <= char <= "F"


def _digit_val(char: str) -> int:
    if "0" <= char <= "9":
        return ord(char) - ord("0")
    if "a" <= char <= "f":
        return ord(char) - ord("a") + 10
    if "A" <= char <= "F":
        return ord(char) - ord("A") + 10
    return 16


class _Scanner:
    """State shared by both scanners: a rune reader with Go's position bookkeeping."""

    _null_is_error = False

    def __init__(self, src: str) -> None:
        self._src = src
        self._offset = 0
        self._line = 1
        self._column = 0
        self._prev = (1, 0, 0)
        self._last_char_len = 0
        self._last_line_len = 0
        self._can_unread = False
        self._tok_start = 0
        self.error: str | None = None

    def _next(self) -> str:
        if self._offset >= len(self._src):
            self._column += 1
            self._last_char_len = 0
            self._can_unread = False
            return _EOF_CHAR
        char = self._src[self._offset]
        self._prev = (self._line, self._column, self._offset)
        self._column += 1
        self._last_char_len = 1
        self._offset += 1
        self._can_unread = True
        if char == "\n":
            self._line += 1
            self._last_line_len = self._column
            self._column = 0
        if self._null_is_error and char == "\x00" and self._offset < len(self._src):
            self._err(HCL_NULL_CHAR)
        return char

    def _unread(self) -> None:
        if not self._can_unread:
            raise GoPanic(GO_PANIC_UNREAD)
        self._can_unread = False
        self._line, self._column, self._offset = self._prev

    def _peek(self) -> str:
        self._can_unread = False
        if self._offset >= len(self._src):
            return _EOF_CHAR
        return self._src[self._offset]

    def _recent_position(self) -> Pos:
        if self._column > 0:
            return Pos(self._line, self._column)
        if self._last_line_len > 0:
            return Pos(self._line - 1, self._last_line_len)
        return Pos(1, 1)

    def _err(self, message: str) -> None:
        self.error = self._format_error(self._recent_position(), message)

    def _format_error(self, pos: Pos, message: str) -> str:
        raise NotImplementedError

    def _start_token(self) -> tuple[str, Pos]:
        char = self._next()
        while char in (" ", "\t", "\n", "\r"):
            char = self._next()
        self._tok_start = self._offset - self._last_char_len
        if self._column > 0:
            pos = Pos(self._line, self._column)
        else:
            pos = Pos(self._line - 1, self._last_line_len)
        return char, pos

    def _token_text(self) -> str:
        text = self._src[self._tok_start : self._offset]
        self._tok_start = self._offset
        return text

    def _scan_mantissa(self, char: str) -> str:
        scanned = False
        while _is_decimal(char):
            char = self._next()
            scanned = True
        if scanned and char != _EOF_CHAR:
            self._unread()
        return char

    def _scan_fraction(self, char: str) -> str:
        if char == ".":
            char = self._peek()
            char = self._scan_mantissa(char)
        return char

    def _scan_exponent(self, char: str) -> str:
        if char in ("e", "E"):
            char = self._next()
            if char in ("-", "+"):
                char = self._next()
            char = self._scan_mantissa(char)
        return char

    def _scan_escape(self) -> str:
        char = self._next()
        if char in ("a", "b", "f", "n", "r", "t", "v", "\\", '"'):
            pass
        elif char in ("0", "1", "2", "3", "4", "5", "6", "7"):
            char = self._scan_digits(char, 8, 3)
        elif char == "x":
            char = self._scan_digits(self._next(), 16, 2)
        elif char == "u":
            char = self._scan_digits(self._next(), 16, 4)
        elif char == "U":
            char = self._scan_digits(self._next(), 16, 8)
        else:
            self._err(HCL_ILLEGAL_ESCAPE)
        return char

    def _scan_digits(self, char: str, base: int, count: int) -> str:
        raise NotImplementedError


class _HCLScanner(_Scanner):
    """hcl/scanner/scanner.go @v1.0.0."""

    _null_is_error = True

    def _format_error(self, pos: Pos, message: str) -> str:
        return HCL_POS_ERROR.format(pos=pos, error=message)

    def scan(self) -> Token:
        char, pos = self._start_token()
        kind = _ILLEGAL
        if _is_letter(char):
            kind = _IDENT
            if self._scan_identifier() in ("true", "false"):
                kind = _BOOL
        elif _is_decimal(char):
            kind = self._scan_number(char)
        elif char == _EOF_CHAR:
            kind = _EOF
        elif char == '"':
            kind = _STRING
            self._scan_string()
        elif char in ("#", "/"):
            kind = _COMMENT
            self._scan_comment(char)
        elif char == ".":
            kind = _PERIOD
            char = self._peek()
            if _is_decimal(char):
                kind = _FLOAT
                char = self._scan_mantissa(char)
                char = self._scan_exponent(char)
        elif char == "<":
            kind = _HEREDOC
            self._scan_heredoc()
        elif char in _HCL_PUNCTUATION:
            kind = _HCL_PUNCTUATION[char]
        elif char == "-":
            if _is_decimal(self._peek()):
                char = self._next()
                kind = self._scan_number(char)
            else:
                kind = _SUB
        else:
            self._err(HCL_ILLEGAL_CHAR)
        return Token(kind, pos, self._token_text())

    def _scan_identifier(self) -> str:
        start = self._offset - self._last_char_len
        char = self._next()
        while _is_letter(char) or _is_digit(char) or char in ("-", "."):
            char = self._next()
        if char != _EOF_CHAR:
            self._unread()
        return self._src[start : self._offset]

    def _scan_comment(self, char: str) -> None:
        if char == "#" or (char == "/" and self._peek() != "*"):
            if char == "/" and self._peek() != "/":
                self._err(HCL_COMMENT_EXPECTED_SLASH)
                return
            char = self._next()
            while char not in ("\n", _EOF_CHAR):
                char = self._next()
            if char != _EOF_CHAR:
                self._unread()
            return
        if char == "/":
            self._next()
            char = self._next()
        while True:
            if char == _EOF_CHAR:
                self._err(HCL_COMMENT_NOT_TERMINATED)
                break
            previous = char
            char = self._next()
            if previous == "*" and char == "/":
                break

    def _scan_number(self, char: str) -> str:
        if char == "0":
            char = self._next()
            if char in ("x", "X"):
                char = self._next()
                found = False
                while _is_hexadecimal(char):
                    char = self._next()
                    found = True
                if not found:
                    self._err(HCL_ILLEGAL_HEX_NUMBER)
                if char != _EOF_CHAR:
                    self._unread()
                return _NUMBER
            illegal_octal = False
            while _is_decimal(char):
                char = self._next()
                if char in ("8", "9"):
                    illegal_octal = True
            if char in ("e", "E"):
                self._scan_exponent(char)
                return _FLOAT
            if char == ".":
                char = self._scan_fraction(char)
                if char in ("e", "E"):
                    char = self._next()
                    self._scan_exponent(char)
                return _FLOAT
            if illegal_octal:
                self._err(HCL_ILLEGAL_OCTAL_NUMBER)
            if char != _EOF_CHAR:
                self._unread()
            return _NUMBER
        self._scan_mantissa(char)
        char = self._next()
        if char in ("e", "E"):
            self._scan_exponent(char)
            return _FLOAT
        if char == ".":
            char = self._scan_fraction(char)
            if char in ("e", "E"):
                char = self._next()
                self._scan_exponent(char)
            return _FLOAT
        if char != _EOF_CHAR:
            self._unread()
        return _NUMBER

    def _scan_heredoc(self) -> None:
        if self._next() != "<":
            self._err(HCL_HEREDOC_SECOND_LT)
            return
        start = self._offset
        char = self._next()
        if char == "-":
            char = self._next()
        while _is_letter(char) or _is_digit(char):
            char = self._next()
        if char == _EOF_CHAR:
            self._err(HCL_HEREDOC_NOT_TERMINATED)
            return
        if char == "\r" and self._peek() == "\n":
            char = self._next()
        if char != "\n":
            self._err(HCL_HEREDOC_BAD_ANCHOR)
            return
        ident = self._src[start : self._offset - self._last_char_len]
        if not ident:
            self._err(HCL_HEREDOC_EMPTY_ANCHOR)
            return
        anchor = ident[1:] if ident[0] == "-" else ident
        terminator = re.compile(r"[\t\n\v\f\r ]*" + re.escape(anchor) + r"\Z")
        line_start = self._offset
        while True:
            char = self._next()
            if char == "\n":
                line_end = self._offset - self._last_char_len
                if line_end - line_start >= len(ident) and terminator.search(
                    self._src[line_start:line_end]
                ):
                    break
                line_start = self._offset
            if char == _EOF_CHAR:
                self._err(HCL_HEREDOC_NOT_TERMINATED)
                return

    def _scan_string(self) -> None:
        braces = 0
        while True:
            char = self._next()
            if (char == "\n" and braces == 0) or char == _EOF_CHAR:
                self._err(HCL_LITERAL_NOT_TERMINATED)
                return
            if char == '"' and braces == 0:
                break
            if braces == 0 and char == "$" and self._peek() == "{":
                braces += 1
                self._next()
            elif braces > 0 and char == "{":
                braces += 1
            if braces > 0 and char == "}":
                braces -= 1
            if char == "\\":
                self._scan_escape()

    def _scan_digits(self, char: str, base: int, count: int) -> str:
        start = count
        while count > 0 and _digit_val(char) < base:
            char = self._next()
            if char == _EOF_CHAR:
                break
            count -= 1
        if count > 0:
            self._err(HCL_ILLEGAL_ESCAPE)
        if count != start:
            self._unread()
        return char


_HCL_PUNCTUATION: Final = {
    "[": _LBRACK,
    "]": _RBRACK,
    "{": _LBRACE,
    "}": _RBRACE,
    ",": _COMMA,
    "=": _ASSIGN,
    "+": _ADD,
}

_JSON_PUNCTUATION: Final = {
    "[": _LBRACK,
    "]": _RBRACK,
    "{": _LBRACE,
    "}": _RBRACE,
    ",": _COMMA,
    ":": _COLON,
}


class _JSONScanner(_Scanner):
    """json/scanner/scanner.go @v1.0.0."""

    def _format_error(self, pos: Pos, message: str) -> str:
        return f"{pos}: {message}"

    def scan(self) -> Token:
        char, pos = self._start_token()
        kind = _ILLEGAL
        if _is_letter(char):
            literal = self._scan_identifier()
            if literal in ("true", "false"):
                kind = _BOOL
            elif literal == "null":
                kind = _NULL
            else:
                self._err(HCL_ILLEGAL_CHAR)
        elif _is_decimal(char):
            kind = self._scan_number(char)
        elif char == _EOF_CHAR:
            kind = _EOF
        elif char == '"':
            kind = _STRING
            self._scan_string()
        elif char == ".":
            kind = _PERIOD
            char = self._peek()
            if _is_decimal(char):
                kind = _FLOAT
                char = self._scan_mantissa(char)
                char = self._scan_exponent(char)
        elif char in _JSON_PUNCTUATION:
            kind = _JSON_PUNCTUATION[char]
        elif char == "-":
            if _is_decimal(self._peek()):
                char = self._next()
                kind = self._scan_number(char)
            else:
                self._err(HCL_ILLEGAL_CHAR)
        else:
            self._err(f"{HCL_ILLEGAL_CHAR}: {char}")
        return Token(kind, pos, self._token_text())

    def _scan_identifier(self) -> str:
        start = self._offset - self._last_char_len
        char = self._next()
        while _is_letter(char) or _is_digit(char) or char == "-":
            char = self._next()
        if char != _EOF_CHAR:
            self._unread()
        return self._src[start : self._offset]

    def _scan_number(self, char: str) -> str:
        zero = char == "0"
        before = (self._line, self._column, self._offset)
        self._scan_mantissa(char)
        char = self._next()
        if char in ("e", "E"):
            self._scan_exponent(char)
            return _FLOAT
        if char == ".":
            char = self._scan_fraction(char)
            if char in ("e", "E"):
                char = self._next()
                self._scan_exponent(char)
            return _FLOAT
        if char != _EOF_CHAR:
            self._unread()
        if zero and before != (self._line, self._column, self._offset):
            self._err(JSON_ZERO_NUMBER)
        return _NUMBER

    def _scan_string(self) -> None:
        braces = 0
        while True:
            char = self._next()
            if char in ("\n", _EOF_CHAR):
                self._err(HCL_LITERAL_NOT_TERMINATED)
                return
            if char == '"':
                break
            if braces == 0 and char == "$" and self._peek() == "{":
                braces += 1
                self._next()
            elif braces > 0 and char == "{":
                braces += 1
            if braces > 0 and char == "}":
                braces -= 1
            if char == "\\":
                self._scan_escape()

    def _scan_digits(self, char: str, base: int, count: int) -> str:
        while count > 0 and _digit_val(char) < base:
            char = self._next()
            count -= 1
        if count > 0:
            self._err(HCL_ILLEGAL_ESCAPE)
        self._unread()
        return char


# ---------------------------------------------------------------------------------------------
# HCL v1: parsers (ports of hcl/parser and json/parser, errors returned as values like Go)
# ---------------------------------------------------------------------------------------------


class _HCLParser:
    """hcl/parser/parser.go @v1.0.0 (comments are skipped; they never change the tree)."""

    def __init__(self, src: str) -> None:
        self._scanner = _HCLScanner(src.replace("\r\n", "\n"))
        self._tok = Token(_ILLEGAL, _NO_POS, "")
        self._buffered = False

    def parse(self) -> ObjectList:
        node, err = self._object_list(inside_object=False)
        if self._scanner.error is not None:
            raise HCLError(self._scanner.error)
        if err is not None:
            raise HCLError(err.text)
        return node

    def _scan(self) -> Token:
        if self._buffered:
            self._buffered = False
            return self._tok
        self._tok = self._scanner.scan()
        while self._tok.type == _COMMENT:
            self._tok = self._scanner.scan()
        return self._tok

    def _unscan(self) -> None:
        self._buffered = True

    def _object_list(self, *, inside_object: bool) -> tuple[ObjectList, _ParseErr | None]:
        node = ObjectList()
        while True:
            if inside_object:
                tok = self._scan()
                self._unscan()
                if tok.type == _RBRACE:
                    break
            item, err = self._object_item()
            if err is _EOF_TOKEN_ERR:
                break
            if err is not None:
                return node, err
            assert item is not None
            node.items.append(item)
            if self._scan().type != _COMMA:
                self._unscan()
        return node, None

    def _object_item(self) -> tuple[ObjectItem | None, _ParseErr | None]:
        keys, err = self._object_key()
        if keys and err is _EOF_TOKEN_ERR:
            err = None
        if keys and err is not None and self._tok.type == _RBRACE:
            err = None
            self._tok = replace(self._tok, type=_EOF)
        if err is not None:
            return None, err
        assert keys is not None
        item = ObjectItem(keys=keys)
        if self._tok.type == _ASSIGN:
            value, err = self._object()
            if err is not None:
                return None, err
            item.val = value
        elif self._tok.type == _LBRACE:
            obj, err = self._object_type()
            if err is not None:
                return None, err
            item.val = obj
        else:
            names = " ".join(key.token.text for key in keys)
            return None, _pos_err(self._tok.pos, HCL_KEY_WITHOUT_VALUE.format(keys=names))
        self._scan()  # look-ahead for a line comment, as the Go parser does
        self._unscan()
        return item, None

    def _object_key(self) -> tuple[list[ObjectKey] | None, _ParseErr | None]:
        keys: list[ObjectKey] = []
        while True:
            tok = self._scan()
            if tok.type == _EOF:
                return keys, _EOF_TOKEN_ERR
            if tok.type == _ASSIGN:
                if len(keys) > 1:
                    text = HCL_NESTED_OBJECT_EXPECTED.format(type=tok.type)
                    return None, _pos_err(tok.pos, text)
                if not keys:
                    return None, _pos_err(tok.pos, HCL_NO_OBJECT_KEYS)
                return keys, None
            if tok.type == _LBRACE:
                if not keys:
                    return keys, _pos_err(tok.pos, HCL_EXPECTED_KEY.format(type=tok.type))
                return keys, None
            if tok.type in (_IDENT, _STRING):
                keys.append(ObjectKey(tok))
                continue
            if tok.type == _ILLEGAL:
                return keys, _pos_err(tok.pos, HCL_ILLEGAL_CHARACTER)
            return keys, _pos_err(tok.pos, HCL_EXPECTED_KEY_OR_VALUE.format(type=tok.type))

    def _object(self) -> tuple[Node | None, _ParseErr | None]:
        tok = self._scan()
        if tok.type in (_NUMBER, _FLOAT, _BOOL, _STRING, _HEREDOC):
            return LiteralType(tok), None
        if tok.type == _LBRACE:
            return self._object_type()
        if tok.type == _LBRACK:
            return self._list_type()
        if tok.type == _EOF:
            return None, _EOF_TOKEN_ERR
        return None, _pos_err(tok.pos, HCL_UNKNOWN_TOKEN.format(token=tok.hcl_plus_v()))

    def _object_type(self) -> tuple[ObjectType | None, _ParseErr | None]:
        lbrace = self._tok.pos
        members, err = self._object_list(inside_object=True)
        if err is not None and self._tok.type != _RBRACE:
            return None, err
        tok = self._scan()
        if tok.type != _RBRACE:
            return None, _pos_err(tok.pos, HCL_OBJECT_NOT_CLOSED.format(type=tok.type))
        return ObjectType(members, lbrace), None

    def _list_type(self) -> tuple[ListType | None, _ParseErr | None]:
        node = ListType(lbrack=self._tok.pos)
        need_comma = False
        while True:
            tok = self._scan()
            if need_comma and tok.type not in (_COMMA, _RBRACK):
                text = HCL_LIST_EXPECTED_COMMA.format(type=tok.type)
                return None, _pos_err(tok.pos, text)
            if tok.type in (_BOOL, _NUMBER, _FLOAT, _STRING, _HEREDOC):
                node.elems.append(LiteralType(tok))
                need_comma = True
            elif tok.type == _COMMA:
                self._scan()  # look-ahead for a line comment
                self._unscan()
                need_comma = False
            elif tok.type == _LBRACE:
                obj, err = self._object_type()
                if err is not None:
                    return None, _pos_err(tok.pos, HCL_LIST_OBJECT_ERROR.format(error=err.text))
                assert obj is not None
                node.elems.append(obj)
                need_comma = True
            elif tok.type == _LBRACK:
                inner, err = self._list_type()
                if err is not None:
                    return None, _pos_err(tok.pos, HCL_LIST_LIST_ERROR.format(error=err.text))
                assert inner is not None
                node.elems.append(inner)
            elif tok.type == _RBRACK:
                return node, None
            else:
                return None, _pos_err(tok.pos, HCL_LIST_UNEXPECTED.format(type=tok.type))


def _json_literal_token(tok: Token) -> Token:
    """json/token ``HCLToken()``: positions are dropped; ``null`` becomes an empty STRING."""
    if tok.type == _NULL:
        return Token(_STRING, _NO_POS, "")
    return Token(tok.type, _NO_POS, tok.text, json=tok.type == _STRING)


class _JSONParser:
    """json/parser/parser.go @v1.0.0, including its leniency (see ``parse_rules``)."""

    def __init__(self, src: str) -> None:
        self._scanner = _JSONScanner(src)
        self._tok = Token(_ILLEGAL, _NO_POS, "")
        self._buffered = False

    def parse(self) -> ObjectList:
        obj, err = self._object()
        if self._scanner.error is not None:
            raise HCLError(self._scanner.error)
        if err is not None:
            raise HCLError(err.text)
        assert obj is not None
        _flatten_objects(obj.list)
        return obj.list

    def _scan(self) -> Token:
        if self._buffered:
            self._buffered = False
            return self._tok
        self._tok = self._scanner.scan()
        return self._tok

    def _object_list(self) -> tuple[ObjectList, _ParseErr | None]:
        node = ObjectList()
        while True:
            item, err = self._object_item()
            if err is _EOF_TOKEN_ERR:
                break
            if err is not None:
                return node, err
            assert item is not None
            node.items.append(item)
            if self._scan().type != _COMMA:
                break
        return node, None

    def _object_item(self) -> tuple[ObjectItem | None, _ParseErr | None]:
        keys, err = self._object_key()
        if err is not None:
            return None, err
        item = ObjectItem(keys=keys)
        if self._tok.type == _COLON:
            value, err = self._object_value()
            if err is not None:
                return None, err
            item.val = value
        return item, None

    def _object_key(self) -> tuple[list[ObjectKey], _ParseErr | None]:
        keys: list[ObjectKey] = []
        while True:
            tok = self._scan()
            if tok.type == _EOF:
                return [], _EOF_TOKEN_ERR
            if tok.type == _STRING:
                keys.append(ObjectKey(_json_literal_token(tok)))
                continue
            if tok.type == _COLON:
                if not keys:
                    return [], _ParseErr(JSON_EXPECTED_STRING.format(type=tok.type))
                return keys, None
            if tok.type == _ILLEGAL:
                return [], _ParseErr(JSON_ILLEGAL)
            return [], _ParseErr(JSON_EXPECTED_STRING.format(type=tok.type))

    def _object_value(self) -> tuple[Node | None, _ParseErr | None]:
        tok = self._scan()
        if tok.type in (_NUMBER, _FLOAT, _BOOL, _NULL, _STRING):
            return LiteralType(_json_literal_token(tok)), None
        if tok.type == _LBRACE:
            return self._object_type()
        if tok.type == _LBRACK:
            return self._list_type()
        if tok.type == _EOF:
            return None, _EOF_TOKEN_ERR
        return None, _ParseErr(JSON_EXPECTED_VALUE.format(token=tok.json_plus_v()))

    def _object(self) -> tuple[ObjectType | None, _ParseErr | None]:
        tok = self._scan()
        if tok.type == _LBRACE:
            return self._object_type()
        if tok.type == _EOF:
            return None, _EOF_TOKEN_ERR
        return None, _ParseErr(JSON_EXPECTED_OBJECT.format(token=tok.json_plus_v()))

    def _object_type(self) -> tuple[ObjectType | None, _ParseErr | None]:
        members, err = self._object_list()
        if err is not None and self._tok.type != _RBRACE:
            return None, err
        return ObjectType(members), None

    def _list_type(self) -> tuple[ListType | None, _ParseErr | None]:
        node = ListType()
        while True:
            tok = self._scan()
            if tok.type in (_NUMBER, _FLOAT, _STRING):
                node.elems.append(LiteralType(_json_literal_token(tok)))
            elif tok.type == _LBRACE:
                obj, err = self._object_type()
                if err is not None:
                    return None, err
                assert obj is not None
                node.elems.append(obj)
            elif tok.type in (_COMMA, _BOOL, _LBRACK):
                continue  # commas separate; booleans and nested lists are skipped by hcl v1
            elif tok.type == _RBRACK:
                return node, None
            else:
                return None, _ParseErr(HCL_LIST_UNEXPECTED.format(type=tok.type))


def _flatten_objects(root: ObjectList) -> None:
    """json/parser/flatten.go: nested JSON objects become HCL-style multi-key items."""

    def rebuild(node: ObjectList) -> None:
        items: list[ObjectItem] = []
        frontier = list(node.items)
        while frontier:
            item = frontier.pop()
            value = item.val
            if isinstance(value, ObjectType):
                subitems = value.list.items
                if not subitems or not all(isinstance(s.val, ObjectType) for s in subitems):
                    items.append(item)
                    continue
                for sub in subitems:
                    frontier.append(ObjectItem(keys=[*item.keys, *sub.keys], val=sub.val))
            elif isinstance(value, ListType):
                elems = value.elems
                if not elems or not all(isinstance(e, ObjectType) for e in elems):
                    items.append(item)
                    continue
                for elem in elems:
                    frontier.append(ObjectItem(keys=item.keys, val=elem))
            else:
                items.append(item)
        items.reverse()
        node.items = items

    def walk(node: Node | None) -> None:
        if isinstance(node, ObjectList):
            rebuild(node)
            for item in node.items:
                walk(item)
        elif isinstance(node, ObjectItem):
            walk(node.val)
        elif isinstance(node, ListType):
            for elem in node.elems:
                walk(elem)
        elif isinstance(node, ObjectType):
            walk(node.list)

    walk(root)


# ---------------------------------------------------------------------------------------------
# HCL v1: literal values (token.Value(), hcl/strconv.Unquote, Go strconv.Unquote, heredocs)
# ---------------------------------------------------------------------------------------------


class _BadQuote(Exception):
    pass


_SIMPLE_ESCAPES: Final = {
    "a": 0x07,
    "b": 0x08,
    "f": 0x0C,
    "n": 0x0A,
    "r": 0x0D,
    "t": 0x09,
    "v": 0x0B,
    "\\": 0x5C,
    '"': 0x22,
}


def _unquote_char(body: str, index: int) -> tuple[bytes, int]:
    """One character of a Go double-quoted literal (``strconv.UnquoteChar``)."""
    char = body[index]
    if char == '"':
        raise _BadQuote
    if char != "\\":
        return char.encode("utf-8", "surrogatepass"), index + 1
    if index + 1 >= len(body):
        raise _BadQuote
    escape = body[index + 1]
    index += 2
    if escape in _SIMPLE_ESCAPES:
        return bytes([_SIMPLE_ESCAPES[escape]]), index
    if escape in ("x", "u", "U"):
        width = {"x": 2, "u": 4, "U": 8}[escape]
        digits = body[index : index + width]
        if len(digits) < width or not all(_is_hexadecimal(d) for d in digits):
            raise _BadQuote
        value = int(digits, 16)
        index += width
        if escape == "x":
            return bytes([value]), index
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise _BadQuote
        return chr(value).encode("utf-8"), index
    if "0" <= escape <= "7":
        digits = body[index - 1 : index + 2]
        if len(digits) < 3 or not all("0" <= d <= "7" for d in digits):
            raise _BadQuote
        value = int(digits, 8)
        if value > 255:
            raise _BadQuote
        return bytes([value]), index + 2
    raise _BadQuote


def _go_unquote(text: str) -> str:
    """Go's ``strconv.Unquote`` for a double-quoted literal (JSON strings in hcl v1)."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise _BadQuote
    body = text[1:-1]
    if "\n" in body:
        raise _BadQuote
    out = bytearray()
    index = 0
    while index < len(body):
        chunk, index = _unquote_char(body, index)
        out += chunk
    return from_go_bytes(bytes(out))


def _hcl_unquote(text: str) -> str:
    """hcl/strconv ``Unquote``: Go's rules, but ``${...}`` is copied through untouched."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise _BadQuote
    body = text[1:-1]
    if "$" not in body and "{" not in body and "\n" in body:
        raise _BadQuote
    out = bytearray()
    index = 0
    while index < len(body):
        if body.startswith("${", index):
            out += b"${"
            index += 2
            braces = 1
            while index < len(body) and braces > 0:
                char = body[index]
                index += 1
                out += char.encode("utf-8", "surrogatepass")
                if char == "{":
                    braces += 1
                elif char == "}":
                    braces -= 1
            if braces != 0:
                raise _BadQuote
            continue
        if body[index] == "\n":
            raise _BadQuote
        chunk, index = _unquote_char(body, index)
        out += chunk
    return from_go_bytes(bytes(out))


def _unindent_heredoc(text: str) -> str:
    """hcl/token ``unindentHeredoc``."""
    newline = text.find("\n")
    if newline == -1:
        raise GoPanic("heredoc doesn't contain newline")
    if text[2] != "-":
        return text[newline + 1 : len(text) - newline + 1]
    lines = text[newline + 1 : len(text) - newline + 2].split("\n")
    prefix = lines[-1]
    if not all(line.startswith(prefix) for line in lines):
        return text[newline + 1 : len(text) - newline + 1].rstrip(" \t")
    unindented = [line[len(prefix) :] for line in lines[:-1]]
    return "\n".join([*unindented, ""])


def token_value(tok: Token) -> str:
    """``token.Value().(string)`` for the token kinds that carry a string."""
    if tok.type == _IDENT:
        return tok.text
    if tok.type == _STRING:
        if tok.text == "":
            return ""  # a JSON null
        try:
            return _go_unquote(tok.text) if tok.json else _hcl_unquote(tok.text)
        except _BadQuote:
            raise GoPanic(GO_PANIC_UNQUOTE.format(text=tok.text)) from None
    if tok.type == _HEREDOC:
        return _unindent_heredoc(tok.text)
    raise GoPanic(f"interface conversion: interface {{}} is not string ({tok.type})")


# ---------------------------------------------------------------------------------------------
# HCL v1: decoding (port of decoder.go for string fields and slices of keyed structs)
# ---------------------------------------------------------------------------------------------


def _decode_error(node: Node | None, text: str) -> HCLError:
    return HCLError(HCL_POS_ERROR.format(pos=_node_pos(node), error=text))


def _filter(node: ObjectList, name: str) -> tuple[list[ObjectItem], list[ObjectItem]]:
    """``Filter(name)`` split into ``Children()`` (prefix matches) and ``Elem()`` (exact)."""
    children: list[ObjectItem] = []
    elements: list[ObjectItem] = []
    for item in node.items:
        if not item.keys:
            continue
        key = token_value(item.keys[0].token)
        if key != name and not _equal_fold_ascii(key, name):
            continue
        stripped = ObjectItem(keys=item.keys[1:], val=item.val)
        (children if stripped.keys else elements).append(stripped)
    return children, elements


def _exact_value(item: ObjectItem) -> Node | None:
    value = item.val
    if isinstance(value, ObjectType):
        return ObjectList(list(value.list.items))
    return value


def _decode_string(name: str, node: Node | None) -> str:
    if isinstance(node, LiteralType):
        kind = node.token.type
        if kind in (_NUMBER, _FLOAT, _BOOL):
            return node.token.text
        if kind in (_STRING, _HEREDOC):
            return token_value(node.token)
    raise _decode_error(node, HCL_UNKNOWN_STRING_TYPE.format(name=name, type=_go_type(node)))


def decode_string_field(node: ObjectList, name: str, field_name: str) -> str | None:
    """Decode the ``string`` field ``field_name`` of the struct ``name`` that ``node`` holds.

    ``name`` is the path hcl puts in its messages (``root`` for the top-level struct). Returns
    ``None`` when no key matches the field (Go leaves the zero value), else the value of the
    last matching item. Raises ``HCLError`` for a value that is not a literal.
    """
    children, elements = _filter(node, field_name)
    if not children and not elements:
        return None
    full_name = f"{name}.{field_name}"
    value: str | None = None
    if children:
        value = _decode_string(full_name, ObjectList(children))
    for element in elements:
        value = _decode_string(full_name, _exact_value(element))
    return value


def _expand_object(node: Node) -> Node:
    if not isinstance(node, ObjectItem) or len(node.keys) != 2:
        return node
    inner = ObjectItem(keys=node.keys[1:], val=node.val)
    return ObjectItem(keys=node.keys[:1], val=ObjectType(ObjectList([inner])))


def _decode_keyed_struct(
    name: str, node: Node | None, key_field: str, value_fields: tuple[str, ...]
) -> dict[str, str]:
    item: ObjectItem | None = None
    if isinstance(node, ObjectItem):
        item = node
        node = node.val
    if isinstance(node, ObjectType):
        node = node.list
    if isinstance(node, LiteralType) and item is not None:
        node = ObjectList([item])
    if not isinstance(node, ObjectList):
        text = HCL_NOT_OBJECT_FOR_STRUCT.format(name=name, type=_go_type(node))
        raise _decode_error(node, text)
    if item is None:
        text = HCL_KEY_IMPOSSIBLE.format(name=name, field=key_field)
        raise _decode_error(node, text)
    struct = {key_field: token_value(item.keys[0].token) if item.keys else ""}
    for value_field in value_fields:
        value = decode_string_field(node, name, value_field)
        struct[value_field] = "" if value is None else value
    return struct


def _decode_keyed_structs(
    name: str,
    node: Node | None,
    key_field: str,
    value_fields: tuple[str, ...],
    out: list[dict[str, str]],
) -> None:
    if isinstance(node, ObjectList):
        items: list[Node] = list(node.items)
    elif isinstance(node, ObjectType):
        items = [node]
    elif isinstance(node, ListType):
        items = list(node.elems)
    else:
        raise _decode_error(node, HCL_UNKNOWN_SLICE_TYPE.format(type=_go_type(node)))
    for index, element in enumerate(items):
        struct = _decode_keyed_struct(
            f"{name}[{index}]", _expand_object(element), key_field, value_fields
        )
        out.append(struct)


def decode_struct_list_field(
    node: ObjectList,
    name: str,
    field_name: str,
    key_field: str,
    value_fields: tuple[str, ...],
) -> list[dict[str, str]] | None:
    """Decode the ``[]*T`` field ``field_name`` of the struct ``name`` that ``node`` holds.

    ``T`` has the ``hcl:",key"`` string field ``key_field`` (the block label) and the ``string``
    fields ``value_fields``; each decoded struct is a dict of those fields (``""`` for a field
    not set). Returns ``None`` when no key matches the field, else the structs of every
    matching item in source order. Raises ``HCLError`` (or ``GoPanic``) like decoder.go.
    """
    children, elements = _filter(node, field_name)
    if not children and not elements:
        return None
    full_name = f"{name}.{field_name}"
    decoded: list[dict[str, str]] = []
    if children:
        _decode_keyed_structs(full_name, ObjectList(children), key_field, value_fields, decoded)
    for element in elements:
        _decode_keyed_structs(full_name, _exact_value(element), key_field, value_fields, decoded)
    return decoded


# ---------------------------------------------------------------------------------------------
# HCL v1: hcl.Parse
# ---------------------------------------------------------------------------------------------


def _is_go_space(char: str) -> bool:
    """Go's ``unicode.IsSpace``."""
    if char in "\t\n\v\f\r \x85\xa0":
        return True
    return (ord(char) > 0xFF and unicodedata.category(char) == "Zs") or char in "\u2028\u2029"


def _is_json_source(source: str) -> bool:
    """hcl ``lexMode``: JSON when the first non-space rune is ``{``."""
    for char in source:
        if _is_go_space(char):
            continue
        return char == "{"
    return False


def decode(source: str) -> ObjectList:
    """Parse ``source`` like ``hcl.Parse`` and return the root object list.

    JSON when the first non-space character is ``{``, HCL v1 otherwise. Raises ``HCLError``
    with hcl's text (``GoPanic`` where hcl panics), and ``HCLError(NESTING_TOO_DEEP)`` for
    input nested deeper than Python's recursion limit allows.
    """
    try:
        parser = _JSONParser(source) if _is_json_source(source) else _HCLParser(source)
        return parser.parse()
    except RecursionError:
        raise HCLError(NESTING_TOO_DEEP) from None
