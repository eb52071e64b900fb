"""Go's regexp.Compile and MatchString, reproduced by gocompat.regexp.

Every expected value below is what Go 1.23.9 (Consul pins Go 1.23.x)
returned for the same input: ``regexp.Compile(p)``'s ``err.Error()``,
``MatchString``, or ``syntax.Parse``'s tree in the dump notation of Go's
``regexp/syntax/parse_test.go``.  The first tables are Go's own test lists
(``invalidRegexps``, ``onlyPerl``, ``onlyPOSIX``, ``parseTests``); the rest
pin each error code, the fragment Go blames, the limits and the matching rules.

Invalid UTF-8 is written the way the module takes it: each bad byte as the
lone surrogate ``errors="surrogateescape"`` decodes it to (``\\xff`` is
``"\\udcff"``).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_consul_events.gocompat import regexp as goregexp
from pytest_consul_events.gocompat.regexp import (
    UNICODE_CATEGORIES,
    UNICODE_CLASS_NAMES,
    UNICODE_SCRIPTS,
    GoRegexp,
    GoRegexpEngineError,
    GoRegexpError,
    check_syntax,
    compile,
)

# Go's invalidRegexps (the huge ones are in test_go_invalid_regexps_limits), with
# the message regexp.Compile gives for each.
GO_INVALID: list[tuple[str, str]] = [
    ("(", "error parsing regexp: missing closing ): `(`"),
    (")", "error parsing regexp: unexpected ): `)`"),
    ("(a", "error parsing regexp: missing closing ): `(a`"),
    ("a)", "error parsing regexp: unexpected ): `a)`"),
    ("(a))", "error parsing regexp: unexpected ): `(a))`"),
    ("(a|b|", "error parsing regexp: missing closing ): `(a|b|`"),
    ("a|b|)", "error parsing regexp: unexpected ): `a|b|)`"),
    ("(a|b|))", "error parsing regexp: unexpected ): `(a|b|))`"),
    ("(a|b", "error parsing regexp: missing closing ): `(a|b`"),
    ("a|b)", "error parsing regexp: unexpected ): `a|b)`"),
    ("(a|b))", "error parsing regexp: unexpected ): `(a|b))`"),
    ("[a-z", "error parsing regexp: missing closing ]: `[a-z`"),
    ("([a-z)", "error parsing regexp: missing closing ]: `[a-z)`"),
    ("[a-z)", "error parsing regexp: missing closing ]: `[a-z)`"),
    ("([a-z]))", "error parsing regexp: unexpected ): `([a-z]))`"),
    ("x{1001}", "error parsing regexp: invalid repeat count: `{1001}`"),
    ("x{9876543210}", "error parsing regexp: invalid repeat count: `{9876543210}`"),
    ("x{2,1}", "error parsing regexp: invalid repeat count: `{2,1}`"),
    ("x{1,9876543210}", "error parsing regexp: invalid repeat count: `{1,9876543210}`"),
    ("\udcff", "error parsing regexp: invalid UTF-8: `\udcff`"),
    ("[\udcff]", "error parsing regexp: invalid UTF-8: `\udcff]`"),
    ("[\\\udcff]", "error parsing regexp: invalid UTF-8: `\udcff]`"),
    ("\\\udcff", "error parsing regexp: invalid UTF-8: `\udcff`"),
    ("(?P<name>a", "error parsing regexp: missing closing ): `(?P<name>a`"),
    ("(?P<name>", "error parsing regexp: missing closing ): `(?P<name>`"),
    ("(?P<name", "error parsing regexp: invalid named capture: `(?P<name`"),
    ("(?P<x y>a)", "error parsing regexp: invalid named capture: `(?P<x y>`"),
    ("(?P<>a)", "error parsing regexp: invalid named capture: `(?P<>`"),
    ("(?<name>a", "error parsing regexp: missing closing ): `(?<name>a`"),
    ("(?<name>", "error parsing regexp: missing closing ): `(?<name>`"),
    ("(?<name", "error parsing regexp: invalid named capture: `(?<name`"),
    ("(?<x y>a)", "error parsing regexp: invalid named capture: `(?<x y>`"),
    ("(?<>a)", "error parsing regexp: invalid named capture: `(?<>`"),
    ("[a-Z]", "error parsing regexp: invalid character class range: `a-Z`"),
    ("(?i)[a-Z]", "error parsing regexp: invalid character class range: `a-Z`"),
    ("\\Q\\E*", "error parsing regexp: missing argument to repetition operator: `*`"),
    ("a{100000}", "error parsing regexp: invalid repeat count: `{100000}`"),
    ("a{100000,}", "error parsing regexp: invalid repeat count: `{100000,}`"),
    (
        "((((((((((x{2}){2}){2}){2}){2}){2}){2}){2}){2}){2})",
        "error parsing regexp: invalid repeat count: `{2}`",
    ),
]

# Go's onlyPerl: accepted by regexp.Compile (Perl syntax).
ONLY_PERL: list[str] = [
    "[a-b-c]",
    "\\Qabc\\E",
    "\\Q*+?{[\\E",
    "\\Q\\\\E",
    "\\Q\\\\\\E",
    "\\Q\\\\\\\\E",
    "\\Q\\\\\\\\\\E",
    "(?:a)",
    "(?P<name>a)",
]

# Go's onlyPOSIX: rejected in Perl syntax, with Go's message.
ONLY_POSIX: list[tuple[str, str]] = [
    ("a++", "error parsing regexp: invalid nested repetition operator: `++`"),
    ("a**", "error parsing regexp: invalid nested repetition operator: `**`"),
    ("a?*", "error parsing regexp: invalid nested repetition operator: `?*`"),
    ("a+*", "error parsing regexp: invalid nested repetition operator: `+*`"),
    ("a{1}*", "error parsing regexp: invalid nested repetition operator: `{1}*`"),
    (".{1}{2}.{3}", "error parsing regexp: invalid nested repetition operator: `{1}{2}`"),
]

# Every error code, and which fragment Go blames, across the parser's paths.
ERRORS: list[tuple[str, str]] = [
    ("(?=a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"),
    ("(a)\\1", "error parsing regexp: invalid escape sequence: `\\1`"),
    ("[", "error parsing regexp: missing closing ]: `[`"),
    ("*", "error parsing regexp: missing argument to repetition operator: `*`"),
    ("a**", "error parsing regexp: invalid nested repetition operator: `**`"),
    ("[z-a]", "error parsing regexp: invalid character class range: `z-a`"),
    ("\\p{Foo}", "error parsing regexp: invalid character class range: `\\p{Foo}`"),
    ("a\\", "error parsing regexp: trailing backslash at end of expression: ``"),
    ("())", "error parsing regexp: unexpected ): `())`"),
    ("(()", "error parsing regexp: missing closing ): `(()`"),
    ("a|)", "error parsing regexp: unexpected ): `a|)`"),
    ("((a)", "error parsing regexp: missing closing ): `((a)`"),
    ("(?:a", "error parsing regexp: missing closing ): `(?:a`"),
    ("(?i:a", "error parsing regexp: missing closing ): `(?i:a`"),
    ("(?P<n>a", "error parsing regexp: missing closing ): `(?P<n>a`"),
    ("x)(", "error parsing regexp: unexpected ): `x)(`"),
    ("(a))(b", "error parsing regexp: unexpected ): `(a))(b`"),
    ("+", "error parsing regexp: missing argument to repetition operator: `+`"),
    ("?", "error parsing regexp: missing argument to repetition operator: `?`"),
    ("{1}", "error parsing regexp: missing argument to repetition operator: `{1}`"),
    ("a|*", "error parsing regexp: missing argument to repetition operator: `*`"),
    ("(*)", "error parsing regexp: missing argument to repetition operator: `*`"),
    ("(?:+)", "error parsing regexp: missing argument to repetition operator: `+`"),
    ("a+*", "error parsing regexp: invalid nested repetition operator: `+*`"),
    ("a?*", "error parsing regexp: invalid nested repetition operator: `?*`"),
    ("a*?*", "error parsing regexp: invalid nested repetition operator: `*?*`"),
    ("a+??", "error parsing regexp: invalid nested repetition operator: `+??`"),
    ("a{1}*", "error parsing regexp: invalid nested repetition operator: `{1}*`"),
    ("a{1}{2}", "error parsing regexp: invalid nested repetition operator: `{1}{2}`"),
    ("a{1,2}?{3}", "error parsing regexp: invalid nested repetition operator: `{1,2}?{3}`"),
    ("a*{2}", "error parsing regexp: invalid nested repetition operator: `*{2}`"),
    ("(?i)*", "error parsing regexp: missing argument to repetition operator: `*`"),
    ("a|+b", "error parsing regexp: missing argument to repetition operator: `+`"),
    ("x**?", "error parsing regexp: invalid nested repetition operator: `**?`"),
    ("(?:a)**", "error parsing regexp: invalid nested repetition operator: `**`"),
    ("a{1001}", "error parsing regexp: invalid repeat count: `{1001}`"),
    ("a{1001,}", "error parsing regexp: invalid repeat count: `{1001,}`"),
    ("a{0,1001}", "error parsing regexp: invalid repeat count: `{0,1001}`"),
    ("a{2,1}", "error parsing regexp: invalid repeat count: `{2,1}`"),
    ("a{1000,999}", "error parsing regexp: invalid repeat count: `{1000,999}`"),
    ("a{99999999}", "error parsing regexp: invalid repeat count: `{99999999}`"),
    ("a{100000000}", "error parsing regexp: invalid repeat count: `{100000000}`"),
    ("a{1,100000000}", "error parsing regexp: invalid repeat count: `{1,100000000}`"),
    ("(a{501}){2}", "error parsing regexp: invalid repeat count: `{2}`"),
    ("((a{10}){10}){11}", "error parsing regexp: invalid repeat count: `{11}`"),
    ("(a{2}|b{600}){2}", "error parsing regexp: invalid repeat count: `{2}`"),
    ("(a{1000}){0}{1}", "error parsing regexp: invalid nested repetition operator: `{0}{1}`"),
    ("((a{1000}){1}){2}", "error parsing regexp: invalid repeat count: `{2}`"),
    ("(a{2,}){501}", "error parsing regexp: invalid repeat count: `{501}`"),
    ("(?:a{40}){26}", "error parsing regexp: invalid repeat count: `{26}`"),
    ("[a", "error parsing regexp: missing closing ]: `[a`"),
    ("[a-", "error parsing regexp: missing closing ]: `[a-`"),
    ("[^", "error parsing regexp: missing closing ]: `[^`"),
    ("[]", "error parsing regexp: missing closing ]: `[]`"),
    ("[]a", "error parsing regexp: missing closing ]: `[]a`"),
    ("[^]", "error parsing regexp: missing closing ]: `[^]`"),
    ("[a-\\d]", "error parsing regexp: invalid escape sequence: `\\d`"),
    ("[z-\\x{61}]", "error parsing regexp: invalid character class range: `z-\\x{61}`"),
    ("[b-a]", "error parsing regexp: invalid character class range: `b-a`"),
    (
        "[\\x{10FFFF}-\\x{0}]",
        "error parsing regexp: invalid character class range: `\\x{10FFFF}-\\x{0}`",
    ),
    ("[[:alpha:]", "error parsing regexp: missing closing ]: `[[:alpha:]`"),
    ("[[:foo:]]", "error parsing regexp: invalid character class range: `[:foo:]`"),
    ("[[:^foo:]]", "error parsing regexp: invalid character class range: `[:^foo:]`"),
    ("[\\p{Foo}]", "error parsing regexp: invalid character class range: `\\p{Foo}`"),
    ("[\\pX]", "error parsing regexp: invalid character class range: `\\pX`"),
    ("[\\p{", "error parsing regexp: invalid character class range: `\\p{`"),
    ("[\\p{L", "error parsing regexp: invalid character class range: `\\p{L`"),
    ("[\\Z]", "error parsing regexp: invalid escape sequence: `\\Z`"),
    ("[\\8]", "error parsing regexp: invalid escape sequence: `\\8`"),
    ("[\\1]", "error parsing regexp: invalid escape sequence: `\\1`"),
    ("[a-\\", "error parsing regexp: trailing backslash at end of expression: ``"),
    ("[a\\", "error parsing regexp: trailing backslash at end of expression: ``"),
    ("[\\", "error parsing regexp: trailing backslash at end of expression: ``"),
    ("[\\Q]\\E]", "error parsing regexp: invalid escape sequence: `\\Q`"),
    ("\\8", "error parsing regexp: invalid escape sequence: `\\8`"),
    ("\\9", "error parsing regexp: invalid escape sequence: `\\9`"),
    ("\\1", "error parsing regexp: invalid escape sequence: `\\1`"),
    ("\\18", "error parsing regexp: invalid escape sequence: `\\1`"),
    ("\\x", "error parsing regexp: invalid escape sequence: `\\x`"),
    ("\\x1", "error parsing regexp: invalid escape sequence: `\\x1`"),
    ("\\xG1", "error parsing regexp: invalid escape sequence: `\\xG1`"),
    ("\\x1G", "error parsing regexp: invalid escape sequence: `\\x1G`"),
    ("\\x{", "error parsing regexp: invalid escape sequence: `\\x{`"),
    ("\\x{}", "error parsing regexp: invalid escape sequence: `\\x{}`"),
    ("\\x{G}", "error parsing regexp: invalid escape sequence: `\\x{G`"),
    ("\\x{110000}", "error parsing regexp: invalid escape sequence: `\\x{110000`"),
    ("\\x{123456}", "error parsing regexp: invalid escape sequence: `\\x{123456`"),
    ("\\x{1", "error parsing regexp: invalid escape sequence: `\\x{1`"),
    ("\\C", "error parsing regexp: invalid escape sequence: `\\C`"),
    ("\\Z", "error parsing regexp: invalid escape sequence: `\\Z`"),
    ("\\e", "error parsing regexp: invalid escape sequence: `\\e`"),
    ("\\c", "error parsing regexp: invalid escape sequence: `\\c`"),
    ("\\g", "error parsing regexp: invalid escape sequence: `\\g`"),
    ("\\k<n>", "error parsing regexp: invalid escape sequence: `\\k`"),
    ("\\N", "error parsing regexp: invalid escape sequence: `\\N`"),
    ("\\R", "error parsing regexp: invalid escape sequence: `\\R`"),
    ("\\X", "error parsing regexp: invalid escape sequence: `\\X`"),
    ("\\o{1}", "error parsing regexp: invalid escape sequence: `\\o`"),
    ("\\u0041", "error parsing regexp: invalid escape sequence: `\\u`"),
    ("\\U", "error parsing regexp: invalid escape sequence: `\\U`"),
    ("\\\xe9", "error parsing regexp: invalid escape sequence: `\\\xe9`"),
    ("\\\\\\", "error parsing regexp: trailing backslash at end of expression: ``"),
    ("\\p", "error parsing regexp: invalid character class range: `\\p`"),
    ("\\P", "error parsing regexp: invalid character class range: `\\P`"),
    ("\\p\xe9", "error parsing regexp: invalid character class range: `\\p\xe9`"),
    ("\\p{", "error parsing regexp: invalid character class range: `\\p{`"),
    ("\\p{L", "error parsing regexp: invalid character class range: `\\p{L`"),
    ("\\p{}", "error parsing regexp: invalid character class range: `\\p{}`"),
    ("\\p{^}", "error parsing regexp: invalid character class range: `\\p{^}`"),
    ("\\p{^Foo}", "error parsing regexp: invalid character class range: `\\p{^Foo}`"),
    ("\\P{^Foo}", "error parsing regexp: invalid character class range: `\\P{^Foo}`"),
    ("\\p{greek}", "error parsing regexp: invalid character class range: `\\p{greek}`"),
    ("\\p{Letter}", "error parsing regexp: invalid character class range: `\\p{Letter}`"),
    ("\\p{L&}", "error parsing regexp: invalid character class range: `\\p{L&}`"),
    ("\\p{Cn}", "error parsing regexp: invalid character class range: `\\p{Cn}`"),
    ("\\p{LC}", "error parsing regexp: invalid character class range: `\\p{LC}`"),
    ("\\p{ASCII}", "error parsing regexp: invalid character class range: `\\p{ASCII}`"),
    ("\\p{Assigned}", "error parsing regexp: invalid character class range: `\\p{Assigned}`"),
    ("\\p{IsGreek}", "error parsing regexp: invalid character class range: `\\p{IsGreek}`"),
    ("\\p{Greek }", "error parsing regexp: invalid character class range: `\\p{Greek }`"),
    ("\\p{Latn}", "error parsing regexp: invalid character class range: `\\p{Latn}`"),
    ("\\pX", "error parsing regexp: invalid character class range: `\\pX`"),
    ("\\pl", "error parsing regexp: invalid character class range: `\\pl`"),
    ("\\p{Zzzz}", "error parsing regexp: invalid character class range: `\\p{Zzzz}`"),
    ("\\PLX\\p{X}", "error parsing regexp: invalid character class range: `\\p{X}`"),
    ("(?", "error parsing regexp: invalid or unsupported Perl syntax: `(?`"),
    ("(?i", "error parsing regexp: invalid or unsupported Perl syntax: `(?i`"),
    ("(?i-", "error parsing regexp: invalid or unsupported Perl syntax: `(?i-`"),
    ("(?-)", "error parsing regexp: invalid or unsupported Perl syntax: `(?-)`"),
    ("(?-:a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?-:`"),
    ("(?i-:a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?i-:`"),
    ("(?--i)", "error parsing regexp: invalid or unsupported Perl syntax: `(?--`"),
    ("(?i-i-s)", "error parsing regexp: invalid or unsupported Perl syntax: `(?i-i-`"),
    ("(?a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?a`"),
    ("(?x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?x`"),
    ("(?#c)", "error parsing regexp: invalid or unsupported Perl syntax: `(?#`"),
    ("(?!a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?!`"),
    ("(?<=a)", "error parsing regexp: invalid named capture: `(?<=a)`"),
    ("(?<!a)", "error parsing regexp: invalid named capture: `(?<!a)`"),
    ("(?>a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?>`"),
    ("(?|a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?|`"),
    ("(?P=n)", "error parsing regexp: invalid or unsupported Perl syntax: `(?P`"),
    ("(?P>n)", "error parsing regexp: invalid or unsupported Perl syntax: `(?P`"),
    ("(?P<n>", "error parsing regexp: missing closing ): `(?P<n>`"),
    ("(?P<n", "error parsing regexp: invalid named capture: `(?P<n`"),
    ("(?P<n!>a)", "error parsing regexp: invalid named capture: `(?P<n!>`"),
    ("(?<n", "error parsing regexp: invalid named capture: `(?<n`"),
    ("(?<n-m>a)", "error parsing regexp: invalid named capture: `(?<n-m>`"),
    ("(?'n'a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?'`"),
    ("(?P'n'a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?P`"),
    ("(?Pn)", "error parsing regexp: invalid or unsupported Perl syntax: `(?P`"),
    ("(?P", "error parsing regexp: invalid or unsupported Perl syntax: `(?P`"),
    ("(?P<", "error parsing regexp: invalid or unsupported Perl syntax: `(?P`"),
    ("(?<", "error parsing regexp: invalid or unsupported Perl syntax: `(?<`"),
    ("(?i)(?z)", "error parsing regexp: invalid or unsupported Perl syntax: `(?z`"),
    ("(?i\xe9)", "error parsing regexp: invalid or unsupported Perl syntax: `(?i\xe9`"),
    ("(?:", "error parsing regexp: missing closing ): `(?:`"),
    ("(?i:", "error parsing regexp: missing closing ): `(?i:`"),
    ("(?U-U:a", "error parsing regexp: missing closing ): `(?U-U:a`"),
    ("(?P<name\xe9>a)", "error parsing regexp: invalid named capture: `(?P<name\xe9>`"),
    ("a(b|c", "error parsing regexp: missing closing ): `a(b|c`"),
    ("a(b|c))", "error parsing regexp: unexpected ): `a(b|c))`"),
    ("(a|(b)", "error parsing regexp: missing closing ): `(a|(b)`"),
    ("x|y)", "error parsing regexp: unexpected ): `x|y)`"),
    ("(?:x|y))", "error parsing regexp: unexpected ): `(?:x|y))`"),
]

# Near misses and oddities Go accepts (a { that starts no repeat is a literal...).
ACCEPTED: list[str] = [
    "^*",
    "$+",
    "\\b*",
    "a{1000}",
    "a{1000,}",
    "a{0,1000}",
    "a{01}",
    "a{1,02}",
    "a{",
    "a{1",
    "a{1,",
    "a{,1}",
    "a{1,2",
    "a{ 1}",
    "a{-1}",
    "{",
    "{1",
    "a{1}}",
    "(a{500}){2}",
    "((a{10}){10}){10}",
    "((a{1000}){0}){2}",
    "(a{0,}){1000}",
    "(?:a{40}){25}",
    "[]a]",
    "[^]a]",
    "[\\d-z]",
    "[a-a]",
    "[[:alpha]]",
    "[[=a=]]",
    "[[.a.]]",
    "[[:word:]-a]",
    "\\17",
    "\\0",
    "\\08",
    "\\777",
    "\\x{10FFFF}",
    "\\x{00000041}",
    "\\_",
    "\\<",
    "(?P<1>a)",
    "(?-i)",
    "(?P<n>a)(?P<n>b)",
    "(?<n>a)(?P<n>b)",
    "web",
    "^web$",
    "(?i)WEB",
    "\\pL+",
    "\\p{Greek}",
    "\\p{^Greek}",
    "\\PL",
    "\\P{^L}",
    "\\p{Any}",
    "\\pN",
    "\\p{Han}",
    "\\p{Nko}",
    "\\p{Kawi}",
    "\\p{Nag_Mundari}",
    "\\p{Old_Uyghur}",
    "\\z",
    "\\A",
    "[[:alpha:]]",
    "[[:^alpha:]]",
    "[[:word:]]",
    "(?U)a+",
    "(?P<n>x)",
    "(?<n>x)",
    "\\Qa.b\\E",
    "\\Q*",
    "\\Qab",
    "\\Q\\E",
    "a{1000}",
    "a{0,1000}",
    "(a{500}){2}",
    "((a{10}){10}){10}",
    "a{1,}",
    "a{,1}",
    "a{",
    "{",
    "{}",
    "{1",
    "a{1,2}?",
    "x{2}{,3}",
    "[]a]",
    "[^]a]",
    "[a-]",
    "[-a]",
    "[a-b-c]",
    "[\\d-z]",
    "[a-a]",
    "\\x{10FFFF}",
    "\\x41",
    "\\x{41}",
    "\\0",
    "\\07",
    "\\177",
    "\\1234",
    "a",
    "\\_",
    "\\-",
    "\\!",
    "\\ ",
    "\\\n",
    "(?i)k",
    "(?i)\u212a",
    "(?i)\u03c3",
    "(?s).",
    "(?m)^$",
    "(?i-s:a.)",
    "(?i)(?-i)a",
    "(?U-U:a*)",
    "(?:)",
    "()",
    "(|)",
    "a||b",
    "|",
    "^*",
    "$+",
    "\\b*",
    "\\B?",
    "(?:a*)*",
    "(a*)+",
    "(a+)?",
    "(?i)[[:upper:]]",
    "(?i)[^k]",
    "[\\p{Lu}\\d_]",
    "\\pL{1000}",
    "\xe9+",
    "\u65e5\u672c\u8a9e",
    "(?i)\u01c5",
    "[\\x{0}-\\x{10FFFF}]",
]

# Go's parseTests (flags MatchNL|PerlX|UnicodeGroups) with the dump of Go's tree;
# the few whose dump is a huge class are left out.
PARSE_DUMPS: list[tuple[str, str]] = [
    ("a", "lit{a}"),
    ("a.", "cat{lit{a}dot{}}"),
    ("a.b", "cat{lit{a}dot{}lit{b}}"),
    ("ab", "str{ab}"),
    ("a.b.c", "cat{lit{a}dot{}lit{b}dot{}lit{c}}"),
    ("abc", "str{abc}"),
    ("a|^", "alt{lit{a}bol{}}"),
    ("a|b", "cc{0x61-0x62}"),
    ("(a)", "cap{lit{a}}"),
    ("(a)|b", "alt{cap{lit{a}}lit{b}}"),
    ("a*", "star{lit{a}}"),
    ("a+", "plus{lit{a}}"),
    ("a?", "que{lit{a}}"),
    ("a{2}", "rep{2,2 lit{a}}"),
    ("a{2,3}", "rep{2,3 lit{a}}"),
    ("a{2,}", "rep{2,-1 lit{a}}"),
    ("a*?", "nstar{lit{a}}"),
    ("a+?", "nplus{lit{a}}"),
    ("a??", "nque{lit{a}}"),
    ("a{2}?", "nrep{2,2 lit{a}}"),
    ("a{2,3}?", "nrep{2,3 lit{a}}"),
    ("a{2,}?", "nrep{2,-1 lit{a}}"),
    ("x{1001", "str{x{1001}"),
    ("x{9876543210", "str{x{9876543210}"),
    ("x{9876543210,", "str{x{9876543210,}"),
    ("x{2,1", "str{x{2,1}"),
    ("x{1,9876543210", "str{x{1,9876543210}"),
    ("", "emp{}"),
    ("|", "emp{}"),
    ("|x|", "alt{emp{}lit{x}emp{}}"),
    (".", "dot{}"),
    ("^", "bol{}"),
    ("$", "eol{}"),
    ("\\|", "lit{|}"),
    ("\\(", "lit{(}"),
    ("\\)", "lit{)}"),
    ("\\*", "lit{*}"),
    ("\\+", "lit{+}"),
    ("\\?", "lit{?}"),
    ("{", "lit{{}"),
    ("}", "lit{}}"),
    ("\\.", "lit{.}"),
    ("\\^", "lit{^}"),
    ("\\$", "lit{$}"),
    ("\\\\", "lit{\\}"),
    ("[ace]", "cc{0x61 0x63 0x65}"),
    ("[abc]", "cc{0x61-0x63}"),
    ("[a-z]", "cc{0x61-0x7a}"),
    ("[a]", "lit{a}"),
    ("\\-", "lit{-}"),
    ("-", "lit{-}"),
    ("\\_", "lit{_}"),
    ("abc", "str{abc}"),
    ("abc|def", "alt{str{abc}str{def}}"),
    ("abc|def|ghi", "alt{str{abc}str{def}str{ghi}}"),
    ("[[:lower:]]", "cc{0x61-0x7a}"),
    ("[a-z]", "cc{0x61-0x7a}"),
    ("[^[:lower:]]", "cc{0x0-0x60 0x7b-0x10ffff}"),
    ("[[:^lower:]]", "cc{0x0-0x60 0x7b-0x10ffff}"),
    ("(?i)[[:lower:]]", "cc{0x41-0x5a 0x61-0x7a 0x17f 0x212a}"),
    ("(?i)[a-z]", "cc{0x41-0x5a 0x61-0x7a 0x17f 0x212a}"),
    ("(?i)[^[:lower:]]", "cc{0x0-0x40 0x5b-0x60 0x7b-0x17e 0x180-0x2129 0x212b-0x10ffff}"),
    ("(?i)[[:^lower:]]", "cc{0x0-0x40 0x5b-0x60 0x7b-0x17e 0x180-0x2129 0x212b-0x10ffff}"),
    ("\\d", "cc{0x30-0x39}"),
    ("\\D", "cc{0x0-0x2f 0x3a-0x10ffff}"),
    ("\\s", "cc{0x9-0xa 0xc-0xd 0x20}"),
    ("\\S", "cc{0x0-0x8 0xb 0xe-0x1f 0x21-0x10ffff}"),
    ("\\w", "cc{0x30-0x39 0x41-0x5a 0x5f 0x61-0x7a}"),
    ("\\W", "cc{0x0-0x2f 0x3a-0x40 0x5b-0x5e 0x60 0x7b-0x10ffff}"),
    ("(?i)\\w", "cc{0x30-0x39 0x41-0x5a 0x5f 0x61-0x7a 0x17f 0x212a}"),
    ("(?i)\\W", "cc{0x0-0x2f 0x3a-0x40 0x5b-0x5e 0x60 0x7b-0x17e 0x180-0x2129 0x212b-0x10ffff}"),
    ("[^\\\\]", "cc{0x0-0x5b 0x5d-0x10ffff}"),
    ("\\p{Braille}", "cc{0x2800-0x28ff}"),
    ("\\P{Braille}", "cc{0x0-0x27ff 0x2900-0x10ffff}"),
    ("\\p{^Braille}", "cc{0x0-0x27ff 0x2900-0x10ffff}"),
    ("\\P{^Braille}", "cc{0x2800-0x28ff}"),
    ("\\pZ", "cc{0x20 0xa0 0x1680 0x2000-0x200a 0x2028-0x2029 0x202f 0x205f 0x3000}"),
    ("[\\p{Braille}]", "cc{0x2800-0x28ff}"),
    ("[\\P{Braille}]", "cc{0x0-0x27ff 0x2900-0x10ffff}"),
    ("[\\p{^Braille}]", "cc{0x0-0x27ff 0x2900-0x10ffff}"),
    ("[\\P{^Braille}]", "cc{0x2800-0x28ff}"),
    ("[\\pZ]", "cc{0x20 0xa0 0x1680 0x2000-0x200a 0x2028-0x2029 0x202f 0x205f 0x3000}"),
    ("\\p{Any}", "dot{}"),
    ("\\p{^Any}", "cc{}"),
    ("[\\012-\\234]\\141", "cat{cc{0xa-0x9c}lit{a}}"),
    ("[\\x{41}-\\x7a]\\x61", "cat{cc{0x41-0x7a}lit{a}}"),
    ("a{,2}", "str{a{,2}}"),
    ("\\.\\^\\$\\\\", "str{.^$\\}"),
    ("[a-zABC]", "cc{0x41-0x43 0x61-0x7a}"),
    ("[^a]", "cc{0x0-0x60 0x62-0x10ffff}"),
    ("[\u03b1-\u03b5\u263a]", "cc{0x3b1-0x3b5 0x263a}"),
    ("a*{", "cat{star{lit{a}}lit{{}}"),
    ("(?:ab)*", "star{str{ab}}"),
    ("(ab)*", "star{cap{str{ab}}}"),
    ("ab|cd", "alt{str{ab}str{cd}}"),
    ("a(b|c)d", "cat{lit{a}cap{cc{0x62-0x63}}lit{d}}"),
    ("(?:a)", "lit{a}"),
    ("(?:ab)(?:cd)", "str{abcd}"),
    ("(?:a+b+)(?:c+d+)", "cat{plus{lit{a}}plus{lit{b}}plus{lit{c}}plus{lit{d}}}"),
    ("(?:a+|b+)|(?:c+|d+)", "alt{plus{lit{a}}plus{lit{b}}plus{lit{c}}plus{lit{d}}}"),
    ("(?:a|b)|(?:c|d)", "cc{0x61-0x64}"),
    ("a|.", "dot{}"),
    (".|a", "dot{}"),
    ("(?:[abc]|A|Z|hello|world)", "alt{cc{0x41 0x5a 0x61-0x63}str{hello}str{world}}"),
    ("(?:[abc]|A|Z)", "cc{0x41 0x5a 0x61-0x63}"),
    ("\\Q+|*?{[\\E", "str{+|*?{[}"),
    ("\\Q+\\E+", "plus{lit{+}}"),
    ("\\Qab\\E+", "cat{lit{a}plus{lit{b}}}"),
    ("\\Q\\\\E", "lit{\\}"),
    ("\\Q\\\\\\E", "str{\\\\}"),
    ("(?m)^", "bol{}"),
    ("(?m)$", "eol{}"),
    ("(?-m)^", "bot{}"),
    ("(?-m)$", "eot{}"),
    ("(?m)\\A", "bot{}"),
    ("(?m)\\z", "eot{\\z}"),
    ("(?-m)\\A", "bot{}"),
    ("(?-m)\\z", "eot{\\z}"),
    ("(?P<name>a)", "cap{name:lit{a}}"),
    ("(?<name>a)", "cap{name:lit{a}}"),
    ("[Aa]", "litfold{A}"),
    ("[\\x{100}\\x{101}]", "litfold{\u0100}"),
    ("[\u0394\u03b4]", "litfold{\u0394}"),
    ("abcde", "str{abcde}"),
    ("[Aa][Bb]cd", "cat{strfold{AB}str{cd}}"),
    (
        "abc|abd|aef|bcx|bcy",
        "alt{cat{lit{a}alt{cat{lit{b}cc{0x63-0x64}}str{ef}}}cat{str{bc}cc{0x78-0x79}}}",
    ),
    (
        "ax+y|ax+z|ay+w",
        "cat{lit{a}alt{cat{plus{lit{x}}lit{y}}cat{plus{lit{x}}lit{z}}cat{plus{lit{y}}lit{w}}}}",
    ),
    ("(?:.)", "dot{}"),
    ("(?:x|(?:xa))", "cat{lit{x}alt{emp{}lit{a}}}"),
    ("(?:.|(?:.a))", "cat{dot{}alt{emp{}lit{a}}}"),
    ("(?:A(?:A|a))", "cat{lit{A}litfold{A}}"),
    ("(?:A|a)", "litfold{A}"),
    ("A|(?:A|a)", "litfold{A}"),
    ("(?s).", "dot{}"),
    ("(?-s).", "dnl{}"),
    ("(?:(?:^).)", "cat{bol{}dot{}}"),
    ("(?-s)(?:(?:^).)", "cat{bol{}dnl{}}"),
    ("[\\s\\S]a", "cat{cc{0x0-0x10ffff}lit{a}}"),
    ("abc|abd", "cat{str{ab}cc{0x63-0x64}}"),
    ("a(?:b)c|abd", "cat{str{ab}cc{0x63-0x64}}"),
    (
        "abc|abd|aef|bcx|bcy",
        "alt{cat{lit{a}alt{cat{lit{b}cc{0x63-0x64}}str{ef}}}cat{str{bc}cc{0x78-0x79}}}",
    ),
    ("abc|x|abd", "alt{str{abc}lit{x}str{abd}}"),
    ("(?i)abc|ABD", "cat{strfold{AB}cc{0x43-0x44 0x63-0x64}}"),
    ("[ab]c|[ab]d", "cat{cc{0x61-0x62}cc{0x63-0x64}}"),
    (".c|.d", "cat{dot{}cc{0x63-0x64}}"),
    ("x{2}|x{2}[0-9]", "cat{rep{2,2 lit{x}}alt{emp{}cc{0x30-0x39}}}"),
    ("x{2}y|x{2}[0-9]y", "cat{rep{2,2 lit{x}}alt{lit{y}cat{cc{0x30-0x39}lit{y}}}}"),
    ("a.*?c|a.*?b", "cat{lit{a}alt{cat{nstar{dot{}}lit{c}}cat{nstar{dot{}}lit{b}}}}"),
    (
        "((((((((((x{2}){2}){2}){2}){2}){2}){2}){2}){2}))",
        (
            "cap{cap{rep{2,2 cap{rep{2,2 cap{rep{2,2 cap{rep{2,2 cap{rep{2,2 cap{rep{2,2 cap{re"
            "p{2,2 cap{rep{2,2 cap{rep{2,2 lit{x}}}}}}}}}}}}}}}}}}}}"
        ),
    ),
    (
        "((((((((((x{1}){2}){2}){2}){2}){2}){2}){2}){2}){2})",
        (
            "cap{rep{2,2 cap{rep{2,2 cap{rep{2,2 cap{rep{2,2 cap{rep{2,2 cap{rep{2,2 cap{rep{2,"
            "2 cap{rep{2,2 cap{rep{2,2 cap{rep{1,1 lit{x}}}}}}}}}}}}}}}}}}}}}"
        ),
    ),
]

# Trees under regexp.Compile's flags (syntax.Perl): literal merging, factoring, folding.
PERL_DUMPS: list[tuple[str, str]] = [
    ("ab|ac", "cat{lit{a}cc{0x62-0x63}}"),
    (
        "abc|abd|aef|bcx|bcy",
        "alt{cat{lit{a}alt{cat{lit{b}cc{0x63-0x64}}str{ef}}}cat{str{bc}cc{0x78-0x79}}}",
    ),
    ("a|b|c", "cc{0x61-0x63}"),
    ("(?i)ab|AC", "cat{litfold{A}cc{0x42-0x43 0x62-0x63}}"),
    ("(?i:K)x|K\\d", "cat{litfold{K}cc{0x30-0x39 0x78}}"),
    ("[ab]x|[ab]y", "cat{cc{0x61-0x62}cc{0x78-0x79}}"),
    ("a{2}x|a{2}y", "cat{rep{2,2 lit{a}}cc{0x78-0x79}}"),
    ("x|x|y", "cc{0x78-0x79}"),
    ("(?:)|(?:)|a", "alt{emp{}lit{a}}"),
    (
        "a(?:b|c)*d|a(?:b|c)*e",
        "cat{lit{a}alt{cat{star{cc{0x62-0x63}}lit{d}}cat{star{cc{0x62-0x63}}lit{e}}}}",
    ),
    ("(?i)[Aa]", "litfold{A}"),
    ("[Kk]", "cc{0x4b 0x6b}"),
    ("(?i)[k\u212a]", "cc{0x4b 0x6b 0x212a}"),
    ("[aA]b", "cat{litfold{A}lit{b}}"),
    ("(?i)\u212a", "litfold{K}"),
    ("^$|\\A\\z", "alt{cat{bot{}eot{}}cat{bot{}eot{\\z}}}"),
    ("(?m)^$", "cat{bol{}eol{}}"),
    ("(?s).|\\n", "dot{}"),
    (".|\\n", "dot{}"),
    ("[^\\n]|\\n", "dot{}"),
    ("a+?b*?c??d{2}?", "cat{nplus{lit{a}}nstar{lit{b}}nque{lit{c}}nrep{2,2 lit{d}}}"),
    ("(?U)a+b*?", "cat{nplus{lit{a}}star{lit{b}}}"),
    ("(?P<n>a)|(?<m>b)", "alt{cap{n:lit{a}}cap{m:lit{b}}}"),
    ("\\Qa|b\\E", "str{a|b}"),
    ("x{0}", "rep{0,0 lit{x}}"),
    ("x{2,}", "rep{2,-1 lit{x}}"),
    ("[[:^alpha:][:digit:]]", "cc{0x0-0x40 0x5b-0x60 0x7b-0x10ffff}"),
    ("(a)(b)|(a)(c)", "alt{cat{cap{lit{a}}cap{lit{b}}}cat{cap{lit{a}}cap{lit{c}}}}"),
]

# (pattern, text, Go's MatchString result).
MATCHES: list[tuple[str, str, bool]] = [
    ("web", "web-01", True),
    ("web", "myweb", True),
    ("web", "we", False),
    ("web", "WEB", False),
    ("web", "", False),
    ("^web$", "web", True),
    ("^web$", "web-1", False),
    ("^web$", "web\n", False),
    ("^web$", "\nweb", False),
    ("(?i)WEB", "web", True),
    ("(?i)WEB", "Web-1", True),
    ("(?i)WEB", "wb", False),
    ("^web-[0-9]+$", "web-1", True),
    ("^web-[0-9]+$", "web-12", True),
    ("^web-[0-9]+$", "web-", False),
    ("^web-[0-9]+$", "web-1a", False),
    ("\\pL+", "abc", True),
    ("\\pL+", "123", False),
    ("\\pL+", "\u65e5\u672c", True),
    ("\\pL+", "\u01c5", True),
    ("\\pL+", "", False),
    ("^\\pL+$", "abc", True),
    ("^\\pL+$", "ab1", False),
    ("^\\pL+$", "\u03a3\u03c3\u03c2", True),
    ("\\p{Greek}", "abc", False),
    ("\\p{Greek}", "\u03b1\u03b2\u03b3", True),
    ("\\p{Greek}", "\u03a9", True),
    ("\\p{Greek}", "\u2126", True),
    ("\\P{Greek}", "\u03b1\u03b2\u03b3", False),
    ("\\P{Greek}", "\u03b1b\u03b3", True),
    ("\\P{Greek}", "", False),
    ("(?i)\\p{Lu}", "a", True),
    ("(?i)\\p{Lu}", "A", True),
    ("(?i)\\p{Lu}", "1", False),
    ("(?i)k", "K", True),
    ("(?i)k", "k", True),
    ("(?i)k", "\u212a", True),
    ("(?i)k", "x", False),
    ("(?i)\\x{212a}", "K", True),
    ("(?i)\\x{212a}", "k", True),
    ("(?i)\\x{212a}", "x", False),
    ("(?i)s", "S", True),
    ("(?i)s", "\u017f", True),
    ("(?i)s", "x", False),
    ("(?i)\u03c3", "\u03a3", True),
    ("(?i)\u03c3", "\u03c2", True),
    ("(?i)\u03c3", "s", False),
    ("(?i)[k-l]", "K", True),
    ("(?i)[k-l]", "\u212a", True),
    ("(?i)[k-l]", "L", True),
    ("(?i)[k-l]", "m", False),
    ("(?i)[^k]", "K", False),
    ("(?i)[^k]", "\u212a", False),
    ("(?i)[^k]", "x", True),
    ("(?i)\u01c5", "\u01c4", True),
    ("(?i)\u01c5", "\u01c6", True),
    ("(?i)\u01c5", "D\u017d", False),
    ("(?i)\xdf", "\u1e9e", True),
    ("(?i)\xdf", "ss", False),
    ("(?i)\xdf", "SS", False),
    ("\\bfoo\\b", "a foo b", True),
    ("\\bfoo\\b", "afoo", False),
    ("\\bfoo\\b", "foo", True),
    ("\\bfoo\\b", "\xe9foo\xe9", True),
    ("\\B", "ab", True),
    ("\\B", "a", False),
    ("\\B", "\xe9", True),
    ("\\B", "\u1e9eK", True),
    ("\\B", "s\u1e9eK", False),
    ("\\B", "a b", False),
    ("\\B", "", True),
    ("x\\B", "xy", True),
    ("x\\B", "x", False),
    ("x\\B", "x y", False),
    ("x\\B", "x\xe9", False),
    ("\\Ba", "ba", True),
    ("\\Ba", "a", False),
    ("\\Ba", " a", False),
    ("\\Ba", "\xe9a", False),
    ("(?m)^b", "a\nb", True),
    ("(?m)^b", "ab", False),
    ("(?m)a$", "a\nb", True),
    ("(?m)a$", "ab", False),
    ("(?m)a$", "a", True),
    ("a$", "a\n", False),
    ("a$", "a", True),
    ("^$", "", True),
    ("^$", "\n", False),
    ("(?m)^$", "a\n", True),
    ("(?m)^$", "a", False),
    ("(?m)^$", "\n", True),
    ("\\Aa", "ba", False),
    ("\\Aa", "a", True),
    ("a\\z", "a\n", False),
    ("a\\z", "ba", True),
    ("a.c", "abc", True),
    ("a.c", "a\nc", False),
    ("a.c", "a\xe9c", True),
    ("(?s)a.c", "a\nc", True),
    ("[^a]", "a", False),
    ("[^a]", "\n", True),
    ("[^a]", "aa", False),
    ("\\s", "a b", True),
    ("\\s", "a\tb", True),
    ("\\s", "a\x0bb", False),
    ("\\s", "ab", False),
    ("[[:space:]]", "a\x0bb", True),
    ("[[:space:]]", "ab", False),
    ("\\d", "a1", True),
    ("\\d", "a\u0661", False),
    ("\\pN", "a\u0661", True),
    ("\\pN", "ab", False),
    ("\\w+", "\xe9", False),
    ("\\w+", "_", True),
    ("[[:alpha:]]", "\xe9", False),
    ("[[:alpha:]]", "a", True),
    ("[[:^alpha:]]", "\xe9", True),
    ("[[:^alpha:]]", "a", False),
    ("(?U)a+b", "aab", True),
    ("(?P<n>a)(?<m>b)", "ab", True),
    ("(?P<n>a)(?<m>b)", "ba", False),
    ("\\Qa.b\\E", "a.b", True),
    ("\\Qa.b\\E", "axb", False),
    ("\\Qa.b", "a.b", True),
    ("\\Qa.b", "axb", False),
    ("a{2,3}", "a", False),
    ("a{2,3}", "aa", True),
    ("a{2,3}", "baaab", True),
    ("^a{2,3}$", "aa", True),
    ("^a{2,3}$", "aaaa", False),
    ("(a|b)*c", "abac", True),
    ("(a|b)*c", "ab", False),
    ("x*", "", True),
    ("x*", "abc", True),
    ("a|b|c", "c", True),
    ("a|b|c", "d", False),
    ("(?i)(?:K)x|K\\d", "k1", True),
    ("(?i)(?:K)x|K\\d", "K1", True),
    ("(?i)(?:K)x|K\\d", "\u212ax", True),
    ("(?i:K)x|K\\d", "k1", True),
    ("(?i:K)x|K\\d", "K1", True),
    ("(?i:K)x|K\\d", "kx", True),
    ("\\x{10FFFF}", "\U0010ffff", True),
    ("\\x{10FFFF}", "a", False),
    ("[\\x{0}-\\x{10FFFF}]", "", False),
    ("[\\x{0}-\\x{10FFFF}]", "a", True),
    ("\\x00", "a\x00b", True),
    ("\\x00", "ab", False),
    ("\\x{fffd}", "\udcff", True),
    ("\\x{fffd}", "\ufffd", True),
    ("\\x{fffd}", "a", False),
    ("^.$", "\udcff", True),
    ("^.$", "\xe9", True),
    ("^\\x{e9}$", "\udcc3\udca9", True),
    ("^\\x{e9}$", "\xe9", True),
    ("\u65e5\u672c", "\u65e5\u672c\u8a9e", True),
    ("\u65e5\u672c", "\u65e5", False),
    ("[\u65e5-\u8a9e]", "\u672c", True),
    ("[\u65e5-\u8a9e]", "a", False),
    ("a{0}b", "b", True),
    ("a{0}b", "c", False),
    ("((a{1000}){0}){2}", "", True),
    ("((a{1000}){0}){2}", "x", True),
    ("(|a)+", "", True),
    ("(|a)+", "b", True),
    ("[^\\x00-\\x{10FFFF}]", "a", False),
    ("[^\\x00-\\x{10FFFF}]", "", False),
]


def _error(pattern: str) -> str:
    """Go's err.Error() for pattern, or "" if Go accepts it."""
    try:
        check_syntax(pattern)
    except GoRegexpError as exc:
        return str(exc)
    return ""


# ---------------------------------------------------------------------------
# Go's own lists (src/regexp/syntax/parse_test.go)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "message"), GO_INVALID)
def test_go_invalid_regexps(pattern: str, message: str) -> None:
    with pytest.raises(GoRegexpError) as info:
        check_syntax(pattern)
    assert str(info.value) == message
    assert message == f"error parsing regexp: {info.value.code}: `{info.value.expr}`"
    with pytest.raises(GoRegexpError) as again:
        compile(pattern)
    assert str(again.value) == message


@pytest.mark.parametrize(
    ("pattern", "code"),
    [
        pytest.param("(" * 1000 + ")" * 1000, "expression nests too deeply", id="too-deep"),
        pytest.param("(?:" * 1000 + ")*" * 1000, "expression nests too deeply", id="too-deep-star"),
        pytest.param("(" + "(xx?)" * 1000 + "){1000}", "expression too large", id="too-long"),
        pytest.param("(xx?){1000}" * 1000, "expression too large", id="too-long-concat"),
        pytest.param("\\pL" * 27000, "expression too large", id="too-many-runes"),
    ],
)
def test_go_invalid_regexps_limits(pattern: str, code: str) -> None:
    # Go reports limit errors with the whole pattern as the fragment.
    with pytest.raises(GoRegexpError) as info:
        check_syntax(pattern)
    assert (info.value.code, info.value.expr) == (code, pattern)
    assert str(info.value) == f"error parsing regexp: {code}: `{pattern}`"


@pytest.mark.parametrize("pattern", ONLY_PERL)
def test_go_only_perl_is_accepted(pattern: str) -> None:
    check_syntax(pattern)
    assert isinstance(compile(pattern), GoRegexp)


@pytest.mark.parametrize(("pattern", "message"), ONLY_POSIX)
def test_go_only_posix_is_rejected(pattern: str, message: str) -> None:
    assert _error(pattern) == message


@pytest.mark.parametrize(
    "pattern",
    [p for p, _ in PARSE_DUMPS]
    + ["(" * 999 + ")" * 999, "(?:" * 999 + ")*" * 999, "(" + "|" * 12345 + ")"],
)
def test_go_parse_tests_are_accepted(pattern: str) -> None:
    check_syntax(pattern)
    assert compile(pattern).pattern == pattern


# ---------------------------------------------------------------------------
# Error codes and the fragment Go reports
# ---------------------------------------------------------------------------

BRIEF_EXAMPLES = [
    ("(", "error parsing regexp: missing closing ): `(`"),
    ("(?=a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"),
    ("(a)\\1", "error parsing regexp: invalid escape sequence: `\\1`"),
    ("[", "error parsing regexp: missing closing ]: `[`"),
    ("*", "error parsing regexp: missing argument to repetition operator: `*`"),
    ("a**", "error parsing regexp: invalid nested repetition operator: `**`"),
    ("[z-a]", "error parsing regexp: invalid character class range: `z-a`"),
    ("\\p{Foo}", "error parsing regexp: invalid character class range: `\\p{Foo}`"),
    ("x{1001}", "error parsing regexp: invalid repeat count: `{1001}`"),
    ("a\\", "error parsing regexp: trailing backslash at end of expression: ``"),
]


@pytest.mark.parametrize(("pattern", "message"), BRIEF_EXAMPLES + ERRORS)
def test_error_message(pattern: str, message: str) -> None:
    assert _error(pattern) == message


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_accepted(pattern: str) -> None:
    assert _error(pattern) == ""


def test_error_codes_are_gos() -> None:
    assert goregexp.ERR_MISSING_PAREN == "missing closing )"
    assert goregexp.ERR_UNEXPECTED_PAREN == "unexpected )"
    assert goregexp.ERR_MISSING_BRACKET == "missing closing ]"
    assert goregexp.ERR_INVALID_CHAR_RANGE == "invalid character class range"
    assert goregexp.ERR_INVALID_ESCAPE == "invalid escape sequence"
    assert goregexp.ERR_INVALID_NAMED_CAPTURE == "invalid named capture"
    assert goregexp.ERR_INVALID_PERL_OP == "invalid or unsupported Perl syntax"
    assert goregexp.ERR_INVALID_REPEAT_OP == "invalid nested repetition operator"
    assert goregexp.ERR_INVALID_REPEAT_SIZE == "invalid repeat count"
    assert goregexp.ERR_INVALID_UTF8 == "invalid UTF-8"
    assert goregexp.ERR_MISSING_REPEAT_ARGUMENT == "missing argument to repetition operator"
    assert goregexp.ERR_TRAILING_BACKSLASH == "trailing backslash at end of expression"
    assert goregexp.ERR_NESTING_DEPTH == "expression nests too deeply"
    assert goregexp.ERR_LARGE == "expression too large"
    # Every code the parser can raise is exercised by the tables above.
    seen = {msg.split(": ")[1] for _, msg in GO_INVALID + ERRORS}
    seen |= {"expression nests too deeply", "expression too large"}
    assert seen == {
        value
        for name, value in vars(goregexp).items()
        if name.startswith("ERR_") and name not in ("ERR_INTERNAL_ERROR", "ERR_INVALID_CHAR_CLASS")
    }


# ---------------------------------------------------------------------------
# Limits: the exact thresholds of Go's parser
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "last_accepted", "code"),
    [
        pytest.param(lambda k: "(" * k + ")" * k, 999, "expression nests too deeply", id="parens"),
        pytest.param(lambda k: "(" * k + "a" + ")" * k, 999, "expression nests too deeply", id="a"),
        pytest.param(
            lambda k: "(?:" * k + ")*" * k, 999, "expression nests too deeply", id="stars"
        ),
        pytest.param(
            lambda k: "(" + "x?" * k + "){1000}", 1676, "expression too large", id="quests"
        ),
        pytest.param(
            lambda k: "(" + "a" * k + "){1000}", 3353, "expression too large", id="string"
        ),
        pytest.param(lambda k: "(xx?){1000}" * k, 671, "expression too large", id="repeats"),
        pytest.param(lambda k: "\\pL" * k, 25458, "expression too large", id="runes"),
    ],
)
def test_limit_thresholds(family: Callable[[int], str], last_accepted: int, code: str) -> None:
    check_syntax(family(last_accepted))
    rejected = family(last_accepted + 1)
    with pytest.raises(GoRegexpError) as info:
        check_syntax(rejected)
    assert (info.value.code, info.value.expr) == (code, rejected)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(a{500}){2}", ""),
        ("(a{501}){2}", "error parsing regexp: invalid repeat count: `{2}`"),
        ("((a{10}){10}){10}", ""),
        ("((a{10}){10}){11}", "error parsing regexp: invalid repeat count: `{11}`"),
        # Go stops counting at x{0}; RE2-C++ would reject this one.
        ("((a{1000}){0}){2}", ""),
        ("((a{1000}){1}){2}", "error parsing regexp: invalid repeat count: `{2}`"),
        ("(a{2,}){500}", ""),
        ("(a{2,}){501}", "error parsing regexp: invalid repeat count: `{501}`"),
        ("a{1000}b{1000}", ""),
    ],
)
def test_nested_repeat_counts(pattern: str, message: str) -> None:
    assert _error(pattern) == message


# ---------------------------------------------------------------------------
# Unicode class names
# ---------------------------------------------------------------------------


def test_unicode_name_lists() -> None:
    assert len(UNICODE_CATEGORIES) == 36
    assert len(UNICODE_SCRIPTS) == 163
    assert {"Any", *UNICODE_CATEGORIES, *UNICODE_SCRIPTS} == UNICODE_CLASS_NAMES
    assert {"L", "Lu", "Nd", "Zs", "Greek", "Latin", "Han", "Kawi", "Nag_Mundari"} <= (
        UNICODE_CLASS_NAMES
    )


@pytest.mark.parametrize("name", sorted(UNICODE_CLASS_NAMES))
def test_unicode_names_are_accepted(name: str) -> None:
    for pattern in (f"\\p{{{name}}}", f"\\P{{{name}}}", f"\\p{{^{name}}}", f"[\\P{{^{name}}}x]"):
        check_syntax(pattern)
    check_syntax(f"(?i)\\p{{{name}}}")


@pytest.mark.parametrize("letter", "CLMNPSZ")
def test_one_letter_unicode_names(letter: str) -> None:
    check_syntax(f"\\p{letter}")
    check_syntax(f"\\P{letter}")
    check_syntax(f"[\\p{letter}]")


@pytest.mark.parametrize(
    "name",
    [
        "Foo",
        "greek",
        "GREEK",
        "Letter",
        "L&",
        "LC",
        "Lc",
        "Cn",
        "ASCII",
        "Assigned",
        "IsGreek",
        "Latn",
        "Old Italic",
        "Old-Italic",
        "Greek ",
        "",
        "^",
        "any",
        "X",
    ],
)
def test_unknown_unicode_names_are_rejected(name: str) -> None:
    # Go 1.23 looks names up exactly in unicode.Categories and unicode.Scripts.
    assert _error(f"\\p{{{name}}}") == (
        f"error parsing regexp: invalid character class range: `\\p{{{name}}}`"
    )
    assert _error(f"a[b\\P{{{name}}}c]") == (
        f"error parsing regexp: invalid character class range: `\\P{{{name}}}`"
    )


# ---------------------------------------------------------------------------
# Parse trees, in the notation of Go's parse_test.go
# ---------------------------------------------------------------------------

_OP_NAMES = {
    goregexp._OP_NO_MATCH: "no",
    goregexp._OP_EMPTY_MATCH: "emp",
    goregexp._OP_LITERAL: "lit",
    goregexp._OP_CHAR_CLASS: "cc",
    goregexp._OP_ANY_CHAR_NOT_NL: "dnl",
    goregexp._OP_ANY_CHAR: "dot",
    goregexp._OP_BEGIN_LINE: "bol",
    goregexp._OP_END_LINE: "eol",
    goregexp._OP_BEGIN_TEXT: "bot",
    goregexp._OP_END_TEXT: "eot",
    goregexp._OP_WORD_BOUNDARY: "wb",
    goregexp._OP_NO_WORD_BOUNDARY: "nwb",
    goregexp._OP_CAPTURE: "cap",
    goregexp._OP_STAR: "star",
    goregexp._OP_PLUS: "plus",
    goregexp._OP_QUEST: "que",
    goregexp._OP_REPEAT: "rep",
    goregexp._OP_CONCAT: "cat",
    goregexp._OP_ALTERNATE: "alt",
}


def _dump(pattern: str, flags: int) -> str:
    """Go's parse_test.go dump() of the tree the port builds."""
    out: list[str] = []

    def walk(node: goregexp._Node) -> None:
        op = node.op
        if op in (goregexp._OP_STAR, goregexp._OP_PLUS, goregexp._OP_QUEST, goregexp._OP_REPEAT):
            out.append(("n" if node.flags & goregexp._NON_GREEDY else "") + _OP_NAMES[op])
        elif op == goregexp._OP_LITERAL:
            out.append("str" if len(node.runes) > 1 else "lit")
            if node.flags & goregexp._FOLD_CASE and any(
                goregexp._simple_fold(r) != r for r in node.runes
            ):
                out.append("fold")
        else:
            out.append(_OP_NAMES[op])
        out.append("{")
        if op == goregexp._OP_END_TEXT and not node.flags & goregexp._WAS_DOLLAR:
            out.append("\\z")
        elif op == goregexp._OP_LITERAL:
            out.append("".join(map(chr, node.runes)))
        elif op == goregexp._OP_REPEAT:
            out.append(f"{node.min},{node.max} ")
        elif op == goregexp._OP_CAPTURE and node.name:
            out.append(node.name + ":")
        elif op == goregexp._OP_CHAR_CLASS:
            r = node.runes
            out.append(
                " ".join(
                    hex(r[i]) if r[i] == r[i + 1] else f"{hex(r[i])}-{hex(r[i + 1])}"
                    for i in range(0, len(r), 2)
                )
            )
        for sub in node.sub:
            walk(sub)
        out.append("}")

    walk(goregexp._Parser(pattern, flags).parse())
    return "".join(out)


_TEST_FLAGS = goregexp._CLASS_NL | goregexp._DOT_NL | goregexp._PERL_X | goregexp._UNICODE_GROUPS


@pytest.mark.parametrize(("pattern", "dump"), PARSE_DUMPS)
def test_parse_tree_matches_go_parse_tests(pattern: str, dump: str) -> None:
    # Go's TestParseSimple cases (flags MatchNL|PerlX|UnicodeGroups).
    assert _dump(pattern, _TEST_FLAGS) == dump


@pytest.mark.parametrize(("pattern", "dump"), PERL_DUMPS)
def test_parse_tree_with_perl_flags(pattern: str, dump: str) -> None:
    assert _dump(pattern, goregexp._PERL) == dump


# ---------------------------------------------------------------------------
# Matching (MatchString: unanchored)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "text", "expected"), MATCHES)
def test_match_string(pattern: str, text: str, expected: bool) -> None:
    assert compile(pattern).search(text) is expected


def test_brief_matching_examples() -> None:
    assert compile("web").search("web-01")
    assert compile("web").search("myweb")
    assert not compile("^web$").search("web-1")
    assert compile("(?i)WEB").search("web")
    assert compile("\\pL+").search("ünïcödé")
    assert not compile("^\\pL+$").search("node-1")


# Go's QuoteMeta: a backslash before each of \.+*?()|[]{}^$.
def _quote_meta(s: str) -> str:
    return "".join("\\" + c if c in "\\.+*?()|[]{}^$" else c for c in s)


@given(st.text(max_size=12), st.text(max_size=30))
@settings(max_examples=200, deadline=None)
def test_quoted_literal_matches_substring(needle: str, haystack: str) -> None:
    pattern = _quote_meta(needle)
    check_syntax(pattern)
    assert compile(pattern).search(haystack) is (needle in haystack)
    assert compile(pattern).search(haystack[:5] + needle + haystack[5:])


_ASCII = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10)


@given(_ASCII, _ASCII)
@settings(max_examples=200, deadline=None)
def test_case_insensitive_ascii_literal(needle: str, haystack: str) -> None:
    pattern = "(?i)" + _quote_meta(needle)
    assert compile(pattern).search(haystack) is (needle.lower() in haystack.lower())


# Patterns built from the characters Go's parser gives a meaning to.
_PATTERN_ALPHABET = list("ab0129xzPpQEidswDSWAbBCUmsk_-,:<>=!'") + list("()[]{}|*+?^$.\\") * 3
_PATTERNS = st.text(st.sampled_from(_PATTERN_ALPHABET), max_size=16)


@given(_PATTERNS)
@settings(max_examples=1500, deadline=None)
def test_accepted_patterns_compile_for_re2(pattern: str) -> None:
    """What check_syntax accepts, compile() turns into a working RE2 matcher."""
    error = _error(pattern)
    if error:
        with pytest.raises(GoRegexpError) as info:
            compile(pattern)
        assert str(info.value) == error
        assert info.value.expr in pattern
        return
    compiled = compile(pattern)
    assert compiled.pattern == pattern
    compiled.search("ab0129 xz\nPQ-\u00e9")


@given(
    st.text(
        st.characters() | st.sampled_from(["\udcff", "\ud800", "\udcc3", "\udca9"]), max_size=20
    )
)
@settings(max_examples=500, deadline=None)
def test_any_text_is_accepted_or_rejected_cleanly(pattern: str) -> None:
    # Any str at all (lone surrogates included): a GoRegexpError or a matcher, nothing else.
    if _error(pattern):
        with pytest.raises(GoRegexpError):
            compile(pattern)
    else:
        assert isinstance(compile(pattern).search(pattern), bool)


# ---------------------------------------------------------------------------
# Invalid UTF-8, RE2 differences, API details
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("a\udcffb", "error parsing regexp: invalid UTF-8: `\udcffb`"),
        ("(?P<n\udcff>x)", "error parsing regexp: invalid UTF-8: `\udcff`"),
        ("(?P<n\udcff", "error parsing regexp: invalid UTF-8: `\udcff`"),
        ("\\p{\udcff}", "error parsing regexp: invalid UTF-8: `\udcff`"),
        ("\\Q\udcffa\\Eb", "error parsing regexp: invalid UTF-8: `\udcffa`"),
        ("(?\udcff)", "error parsing regexp: invalid UTF-8: `\udcff)`"),
        # Escaped bytes that spell a valid character are that character.
        ("\udcc3\udca9", ""),
        ("[[:3\udcc3\udc80K\udcff[[:P", "error parsing regexp: invalid UTF-8: `\udcff[[:P`"),
    ],
)
def test_invalid_utf8(pattern: str, message: str) -> None:
    assert _error(pattern) == message


def test_no_word_boundary_only_between_characters() -> None:
    # RE2-C++ alone finds \B between the bytes of ẞ; Go (and this port) does not.
    import re2

    assert re2.search(rb"\B", "s\u1e9eK".encode()) is not None
    assert not compile("\\B").search("s\u1e9eK")
    assert compile("\\B").search("\u1e9eK")


@pytest.mark.parametrize(
    "pattern",
    ["((a{1000}){0}){2}", "(?P<n>a)(?P<n>b)", "\\p{Kawi}"],
)
def test_accepted_even_where_re2_syntax_differs(pattern: str) -> None:
    # RE2-C++ rejects the first two (repeat counted through {0}, duplicate group
    # name); the translation hands RE2 only constructs it accepts.
    check_syntax(pattern)
    assert isinstance(compile(pattern).search("a"), bool)


def test_error_object() -> None:
    with pytest.raises(GoRegexpError) as info:
        check_syntax("a(")
    error = info.value
    assert isinstance(error, ValueError)
    assert (error.code, error.expr) == ("missing closing )", "a(")
    assert str(error) == "error parsing regexp: missing closing ): `a(`"
    clone = pickle.loads(pickle.dumps(error))
    assert (type(clone), clone.code, clone.expr, str(clone)) == (
        GoRegexpError,
        error.code,
        error.expr,
        str(error),
    )


def test_check_syntax_returns_none() -> None:
    assert check_syntax("a+b") is None  # type: ignore[func-returns-value]


def test_compile_is_cached() -> None:
    first = compile("cache-me[0-9]+")
    assert compile("cache-me[0-9]+") is first
    assert repr(first) == "GoRegexp('cache-me[0-9]+')"
    assert first.re2_pattern == "cache\\x{2d}me[0-9]+"


def test_text_with_lone_surrogates() -> None:
    assert compile("^a.b$").search("a\udcffb")
    assert compile("\\x{fffd}").search("\udc80")
    assert compile("^\\x{e9}$").search("\udcc3\udca9")


def test_engine_error_when_re2_runs_out_of_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(goregexp, "_RE2_MAX_MEM", 1 << 16)
    goregexp._compile_cached.cache_clear()
    try:
        check_syntax("\\pL{1000}")
        with pytest.raises(GoRegexpEngineError):
            compile("\\pL{1000}")
    finally:
        goregexp._compile_cached.cache_clear()


def test_import_is_cheap() -> None:
    # Neither re2 nor the Unicode tables are loaded until a pattern needs them.
    code = (
        "import sys; import pytest_consul_events.gocompat.regexp as m; "
        "m.check_syntax('a(b)*'); print('re2' in sys.modules, m._unicode.cache_info().currsize)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "0"]
