"""hashicorp/hcl v1.0.0 as Consul vendors it: grammar choice, syntax tree, values, errors.

The expected texts are derived from hashicorp/hcl v1.0.0's source (hcl/scanner, hcl/parser,
json/scanner, json/parser, decoder.go), not observed on a real agent. How Consul wraps them
(``Failed to parse ACL rules: ...``) and decodes its policies is tested in
tests/model/test_acl.py.
"""

from __future__ import annotations

import pytest

from pytest_consul_events.gocompat import hcl


def shape(node: hcl.Node | None) -> object:
    """A plain-Python view of a tree: items as (keys, value), literals as (type, text)."""
    if isinstance(node, hcl.ObjectList):
        return [(tuple(hcl.token_value(k.token) for k in i.keys), shape(i.val)) for i in node.items]
    if isinstance(node, hcl.ObjectType):
        return {"object": shape(node.list)}
    if isinstance(node, hcl.ListType):
        return [shape(elem) for elem in node.elems]
    if isinstance(node, hcl.LiteralType):
        return (node.token.type, node.token.text)
    return node


def decode_error(source: str) -> hcl.HCLError:
    with pytest.raises(hcl.HCLError) as caught:
        hcl.decode(source)
    return caught.value


def string_field(source: str, field_name: str) -> str | None:
    return hcl.decode_string_field(hcl.decode(source), "root", field_name)


def rules_field(source: str) -> list[dict[str, str]] | None:
    return hcl.decode_struct_list_field(hcl.decode(source), "root", "rule", "Name", ("Policy",))


# --- syntax errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        ('event "foo" {', "At 1:15: object expected closing RBRACE got: EOF"),
        (
            'event "foo"',
            "At 1:12: key 'event \"foo\"' expected start of object ('{') or assignment ('=')",
        ),
        (
            'event "foo" { policy = write }',
            "At 1:24: Unknown token: {Type:IDENT Pos:1:24 Text:write JSON:false}",
        ),
        ('event "foo" { policy = "write }', "At 1:32: literal not terminated"),
        ("}", "At 1:1: expected: IDENT | STRING | ASSIGN | LBRACE got: RBRACE"),
        ('event "a" "b" = {}', "At 1:15: nested object expected: LBRACE got: ASSIGN"),
        ('/ event "a" {}', "At 1:1: expected '/' for comment"),
        ('event "a" { policy = "read" } /* open', "At 1:38: comment not terminated"),
        ('{"event": {"foo": {"policy": write}}}', "1:34: illegal char"),
    ],
)
def test_syntax_errors_have_hcls_text(source: str, detail: str) -> None:
    error = decode_error(source)
    assert str(error) == error.message == detail
    assert not isinstance(error, hcl.GoPanic)


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        ("a = 0x", "At 1:7: illegal hexadecimal number"),
        ('a = "\\q"', "At 1:7: illegal char escape"),
        ("a = <EOF", "At 1:6: heredoc expected second '<', didn't see it"),
        ("a = <<\nx\n", "At 1:7: zero-length heredoc anchor"),
        ("a = <<E X\n", "At 1:8: invalid characters in heredoc anchor"),
        ("a = <<EOF\nx\n", "At 3:1: heredoc not terminated"),
        ("[1]", "At 1:1: expected: IDENT | STRING | ASSIGN | LBRACE got: LBRACK"),
        (
            "a = [{x = }]",
            "At 1:6: error while trying to parse object within list: At 1:12: object expected"
            " closing RBRACE got: RBRACK",
        ),
        ('{"a": 01}', "1:8: numbers cannot start with 0"),
        ("{: 1}", "expected: STRING got: COLON"),
    ],
)
def test_more_scanner_and_parser_errors(source: str, detail: str) -> None:
    assert str(decode_error(source)) == detail


def test_deep_nesting_is_an_hcl_error_not_a_crash() -> None:
    assert str(decode_error('{"a": ' * 5000)) == hcl.NESTING_TOO_DEEP


# --- choosing the grammar (lexMode) ---------------------------------------------------------


def test_json_is_chosen_by_the_first_non_space_character() -> None:
    root = hcl.decode(' \t\n {"deploy": "write"}')
    key = root.items[0].keys[0].token
    assert (key.type, key.text, key.json, str(key.pos)) == ("STRING", '"deploy"', True, "-")


@pytest.mark.parametrize("space", ["\u2028", "\xa0", "\x85", "\u3000"])
def test_go_unicode_spaces_before_the_brace_still_choose_json(space: str) -> None:
    # lexMode skips unicode.IsSpace; the JSON scanner then rejects the character (JSON errors
    # carry no "At " prefix).
    assert str(decode_error(space + '{"a": 1}')) == f"1:1: illegal char: {space}"


def test_a_character_that_is_not_a_go_space_chooses_hcl() -> None:
    assert str(decode_error('\u200b{"a": 1}')) == "At 1:1: illegal char"


def test_text_starting_with_a_comment_is_hcl_even_if_json_follows() -> None:
    error = decode_error('# rules\n{"event": {"deploy": {"policy": "write"}}}')
    assert str(error) == "At 2:1: expected: IDENT | STRING got: LBRACE"


# --- the syntax tree ------------------------------------------------------------------------


def test_hcl_blocks_and_assignments() -> None:
    root = hcl.decode('event "deploy" {\n  policy = "write"\n}')
    assert shape(root) == [
        (("event", "deploy"), {"object": [(("policy",), ("STRING", '"write"'))]})
    ]
    item = root.items[0]
    assert [str(key.token.pos) for key in item.keys] == ["1:1", "1:7"]
    assert isinstance(item.val, hcl.ObjectType)
    assert str(item.val.lbrace) == "1:16"


def test_equals_sign_and_quoted_names() -> None:
    assert shape(hcl.decode('"event" = { "deploy" = { policy = "write" } }')) == [
        (
            ("event",),
            {"object": [(("deploy",), {"object": [(("policy",), ("STRING", '"write"'))]})]},
        )
    ]


def test_all_three_comment_styles_are_skipped() -> None:
    plain = 'event "a" { policy = "read" }\nevent_prefix "b" { policy = "write" }'
    commented = """
    # hash comment
    // slash comment
    /* block
       comment */
    event "a" { policy = "read" } // trailing
    event_prefix "b" { /* inline */ policy = "write" }
    """
    assert shape(hcl.decode(commented)) == shape(hcl.decode(plain))


def test_literal_kinds() -> None:
    root = hcl.decode('a = 1\nb = 1.5e3\nc = true\nd = 0x1F\ne = "s"\nf = [1, "x"]')
    assert shape(root) == [
        (("a",), ("NUMBER", "1")),
        (("b",), ("FLOAT", "1.5e3")),
        (("c",), ("BOOL", "true")),
        (("d",), ("NUMBER", "0x1F")),
        (("e",), ("STRING", '"s"')),
        (("f",), [("NUMBER", "1"), ("STRING", '"x"')]),
    ]


def test_json_nested_objects_are_flattened_into_multi_key_items() -> None:
    root = hcl.decode('{"event": {"deploy": {"policy": "write"}}}')
    assert shape(root) == [
        (("event", "deploy"), {"object": [(("policy",), ("STRING", '"write"'))]})
    ]


def test_json_list_of_objects_is_flattened_like_hcl_v1() -> None:
    root = hcl.decode('{"event": [{"a": {"policy": "read"}}, {"b": {"policy": "write"}}]}')
    assert shape(root) == [
        (("event", "a"), {"object": [(("policy",), ("STRING", '"read"'))]}),
        (("event", "b"), {"object": [(("policy",), ("STRING", '"write"'))]}),
    ]


def test_json_parser_stops_after_the_first_complete_object() -> None:
    root = hcl.decode('{"a": "b"} this is ignored by hcl v1')
    assert shape(root) == [(("a",), ("STRING", '"b"'))]


def test_json_parser_tolerates_a_missing_closing_brace() -> None:
    assert shape(hcl.decode('{"a": "b"')) == [(("a",), ("STRING", '"b"'))]


def test_empty_source_is_an_empty_list() -> None:
    assert hcl.decode("").items == []


# --- values (token.Value) -------------------------------------------------------------------


def test_hcl_strings_are_unquoted_with_gos_escapes() -> None:
    assert string_field(r'a = "wri\x74e \u00e9 \101 \t"', "a") == "write é A \t"


def test_hcl_interpolations_are_copied_through() -> None:
    assert string_field('a = "${x.y["k"]}!"', "a") == '${x.y["k"]}!'


def test_bytes_that_are_not_utf8_are_kept_as_surrogates() -> None:
    assert string_field(r'a = "\xff"', "a") == "\udcff"


def test_json_strings_are_unquoted_and_null_is_empty() -> None:
    root = hcl.decode('{"a": "\\u00e9\\t", "b": null}')
    assert hcl.decode_string_field(root, "root", "a") == "é\t"
    assert hcl.decode_string_field(root, "root", "b") == ""


def test_heredoc_keeps_its_trailing_newline() -> None:
    assert string_field("a = <<EOF\nwrite\nEOF\n", "a") == "write\n"


def test_indented_heredoc_loses_the_terminators_indentation() -> None:
    assert string_field("a = <<-EOF\n    one\n      two\n    EOF\n", "a") == "one\n  two\n"


# --- decoding into struct fields ------------------------------------------------------------


def test_string_field_takes_the_last_match_and_folds_case_like_go() -> None:
    root = hcl.decode('a = "x"\nA = "y"\n\u212a = 1\nflag = true')
    assert hcl.decode_string_field(root, "root", "a") == "y"
    assert hcl.decode_string_field(root, "root", "k") == "1"  # KELVIN SIGN folds with k
    assert hcl.decode_string_field(root, "root", "flag") == "true"
    assert hcl.decode_string_field(root, "root", "missing") is None


def test_string_field_rejects_a_list() -> None:
    with pytest.raises(hcl.HCLError) as caught:
        string_field("x = [1]", "x")
    assert str(caught.value) == "At 1:5: root.x: unknown type for string *ast.ListType"


def test_keyed_struct_lists_from_hcl_and_json_agree() -> None:
    hcl_source = 'rule "a" { policy = "r" extra = 1 }\nrule "b" {}\nRULE "c" { POLICY = 2 }'
    json_source = '{"rule": {"a": {"policy": "r"}, "b": {}, "c": {"policy": 2}}}'
    expected = [
        {"Name": "a", "Policy": "r"},
        {"Name": "b", "Policy": ""},
        {"Name": "c", "Policy": "2"},
    ]
    assert rules_field(hcl_source) == rules_field(json_source) == expected
    assert rules_field('other "x" {}') is None


def test_unlabelled_block_items_become_labelled_structs() -> None:
    # decoder.go expands the block's own items: the key becomes the label.
    assert rules_field('rule { policy = "write" }') == [{"Name": "policy", "Policy": "write"}]


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        ('rule "x" { policy = ["w"] }', "At 1:21: root.rule[0].Policy: unknown type for string"),
        ('rule = "x"', "At 1:8: unknown slice type: *ast.LiteralType"),
        ('{"rule": [1]}', "At -: root.rule[0]: not an object type for struct (*ast.LiteralType)"),
    ],
)
def test_keyed_struct_list_errors(source: str, detail: str) -> None:
    with pytest.raises(hcl.HCLError) as caught:
        rules_field(source)
    assert str(caught.value).startswith(detail)


# --- where hcl's Go code panics -------------------------------------------------------------


def test_position_of_an_empty_object_panics_like_go() -> None:
    # `acl {}`: decoding the string reports ObjectList.Pos() of an empty list, which panics.
    with pytest.raises(hcl.GoPanic) as caught:
        string_field("acl {}", "acl")
    assert str(caught.value) == "runtime error: index out of range [0] with length 0"


def test_a_string_the_scanner_accepts_but_unquote_rejects_panics() -> None:
    with pytest.raises(hcl.GoPanic) as caught:
        string_field(r'a = "\400"', "a")
    assert str(caught.value) == r'unquote "\400" err: invalid syntax'
    assert isinstance(caught.value, hcl.HCLError)


def test_positions_print_like_go() -> None:
    assert (str(hcl.Pos()), str(hcl.Pos(3, 7))) == ("-", "3:7")
