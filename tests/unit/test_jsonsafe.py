"""JSON from buffers, files and servers: one set of limits, and what a value beyond them becomes."""

import pytest

from bridge import jsonsafe
from bridge.errors import printable

from .helpers import request, run


@pytest.mark.parametrize("text, value", [
    ('{"a": [1, "x", null, true]}', {"a": [1, "x", None, True]}),
    ('"\\ud83d\\ude00"', "\U0001F600"),  # a surrogate pair is one character
    ('"\\ud800x"', "\ufffdx"),  # half a character: U+FFFD, as Go's decoder (Illume) does
    ('{"\\udc00": ["\\ud83d"]}', {"\ufffd": ["\ufffd"]}),
    ("[" * 64 + "]" * 64, None),  # exactly the limit
])
def test_values_within_the_limits(text, value):
    parsed = jsonsafe.loads(text)
    if value is None:  # 64 nested lists
        for _ in range(63):
            (parsed,) = parsed
        assert parsed == []
    else:
        assert parsed == value


@pytest.mark.parametrize("text, reason, syntax", [
    ("[" * 65 + "]" * 65, "nests deeper than 64 levels", False),
    ("[" * 5000 + "]" * 5000, "nests deeper than 64 levels", False),  # past the C decoder's recursion limit
    ('{"a": ' * 100 + "1" + "}" * 100, "nests deeper than 64 levels", False),
    ("1e999", "too large for JSON", True),
    ("-1e999", "too large for JSON", True),
    ("NaN", "not a JSON number", True),
    ("Infinity", "not a JSON number", True),
    ("1" * 5000, "limit", True),
    ("[1, 2", "Expecting", True),
])
def test_values_beyond_the_limits_are_one_error(text, reason, syntax):
    with pytest.raises(jsonsafe.JSONError) as caught:
        jsonsafe.loads(text)
    assert reason in caught.value.reason
    assert caught.value.syntax is syntax


def test_a_stream_may_keep_half_a_character_to_join_it_with_the_other_half():
    assert jsonsafe.loads('"\\ud83d"', surrogates=True) == "\ud83d"


@pytest.mark.parametrize("value, sent", [
    ("1e999", "1e999"),  # not a double: text, as Illume sends it, never Infinity
    ("NaN", "NaN"),
    ('"\\ud800"', "\ufffd"),
    ('["\\ud83d\\ude00"]', ["\U0001F600"]),
])
def test_body_keys_are_always_sendable_json(value, sent):
    req = request(f"!:x {value}\n!user\nq\n")
    assert req.json["x"] == sent
    assert "Infinity" not in req.body and "NaN" not in req.body.replace('"NaN"', "")
    req.body.encode("utf-8")  # no unpaired surrogate can reach the wire


def test_a_body_key_nested_too_deeply_is_an_error_at_its_line():
    status, out, _ = run("!user\nq\n!:x " + "[" * 100 + "]" * 100 + "\n", "--debug")
    assert status == 1
    assert out.count("\n!error\n") == 1
    assert "<stdin>:3: the value cannot be sent: it nests deeper than 64 levels" in out


def test_prepend_with_half_a_character_is_sendable():
    status, out, _ = run('!prepend "\\ud800>"\n!user\nq\n', "--debug")
    assert status == 0, out


@pytest.mark.parametrize("raw, shown", [
    ("a\rb", "a\\rb"), ("a\x00b", "a\\0b"), ("\x1b[2J", "\\x1b[2J"), ("x\u2028y", "x\\u2028y"),
    ("\x7f\x85", "\\x7f\\x85"), ("\ud800", "\\ud800"), ("tab\there", "tab\\there"), ("é ✓ 😀", "é ✓ 😀"),
])
def test_printable_escapes_what_would_move_the_cursor_or_split_a_line(raw, shown):
    assert printable(raw) == shown


def test_an_error_never_echoes_raw_control_characters_from_the_buffer():
    status, out, _ = run("!profile x\x1b[2J\r\x00y\n!user\nq\n", "--debug")
    assert status == 1
    line = out.split("\n!error\n\n", 1)[1]
    assert line.endswith("\n") and "\n" not in line[:-1]
    assert not any(ch in line[:-1] for ch in "\r\x00\x1b")
    assert "x\\x1b[2J" in line


def test_an_error_block_is_not_sent_again():
    req = request("!user\nhi\n\n!error\n\nHTTP 500 from http://x/: boom\nand more\n!user\nagain\n")
    assert req.json["messages"] == [{"role": "user", "content": "hi"}, {"role": "user", "content": "again"}]


def test_an_error_block_ends_at_the_next_directive_even_a_note():
    req = request("!user\nhi\n!error\nboom\n!note retried\nkept\n")
    assert req.json["messages"] == [{"role": "user", "content": "hi\nkept"}]
