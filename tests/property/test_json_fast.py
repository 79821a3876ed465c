"""The fast JSON reader (``jsonsafe.loads(fast=True)``, orjson first) gives json's answer to every text: each value, each error.

Texts are JSON-ish: real JSON with any whitespace, hostile numbers and
strings, duplicate keys and deep nesting, then cut or spliced with the
fragments a parser trips on. Whenever ``fast_numbers`` lets a stream use the
fast reader, the value (types, float bits, key order) or the error (reason
and kind) must be the one json alone gives.
"""

import json
import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bridge import jsonsafe
from budget import examples

NUMBER = st.from_regex(r"\A-?(0|[1-9][0-9]{0,20})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,4})?\Z")
HARD_NUMBERS = ["1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "2.4703282292062327e-324",
                "2.4703282292062328e-324", "4.9e-324", "1e-400", "1e400", "9007199254740993", "9223372036854775807",
                "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551615",
                "18446744073709551616", "1" * 5000, "0e0", "-0", "-0.0", "1E+2", "1e-0", "8.98846567431158e307"]
SLOPPY = ["01", "1.", ".5", "+1", "-", "1e", "0x10", "NaN", "Infinity", "-Infinity", "nan", "true", "null", "truee"]
STRINGS = ['"\\ud800"', '"\\udc00x"', '"\\ud83d\\ude00"', '"\\ud83d"', '"\\u0000"', '"\\u00e9"', '"é\U0001F600"', '"\x01"',
           '"\\x"', '"\\/"', '"a\\"b"', '"\\uD800\\uDBFF"', '"\x7f"', '"\u2028"']
WHITESPACE = [" ", "\t", "\n", "\r", "\x0c", "\x0b", "\xa0", "\u3000", "\ufeff", "\x00"]
FRAGMENTS = ["{", "}", "[", "]", ",", ":", '"', "\\", '"a"', *WHITESPACE, *SLOPPY, *STRINGS, *HARD_NUMBERS[:6]]

SCALAR = (st.none() | st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70) | st.floats(allow_nan=False, allow_infinity=False)
          | st.text(max_size=6))
VALUE = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
                     max_leaves=12)


@st.composite
def jsonish(draw):
    """A text near JSON: a dumped value with its numbers and strings swapped for hostile ones, maybe nested deep, cut or spliced."""
    text = json.dumps(draw(VALUE), ensure_ascii=draw(st.booleans()), separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])))
    for _ in range(draw(st.integers(0, 3))):  # hostile leaves and duplicate keys in place of a null
        leaf = draw(st.sampled_from(["number", "hard", "string", "dup"]))
        new = {"number": NUMBER, "hard": st.sampled_from(HARD_NUMBERS), "string": st.sampled_from(STRINGS),
               "dup": st.just('{"a": 1, "b": 2, "a": [3]}')}[leaf]
        if "null" in text:
            text = text.replace("null", draw(new), 1)
    depth = draw(st.sampled_from([0, 0, 0, 63, 64, 65, 1100]))
    text = "[" * depth + text + "]" * depth
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(FRAGMENTS)) + text[at:]
    if draw(st.booleans()):
        text = draw(st.sampled_from(WHITESPACE[:4] + [""])) + text + draw(st.sampled_from(WHITESPACE[:4] + [""]))
    if draw(st.integers(0, 5)) == 0:
        text = text[:draw(st.integers(0, len(text)))]
    return text


def canonical(value):
    """``value`` with what ``==`` hides made visible: the type of every item, float bits (-0.0), key order."""
    if isinstance(value, float):
        return ("float", value.hex() if math.isfinite(value) else repr(value))
    if isinstance(value, dict):
        return ("dict", [(canonical(k), canonical(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [canonical(item) for item in value])
    return (type(value).__name__, value)


def outcome(text, **options):
    try:
        return "value", canonical(jsonsafe.loads(text, **options))
    except jsonsafe.JSONError as err:
        return "error", err.reason, err.syntax


def test_the_fast_reader_is_installed():
    """orjson is a dependency: without it the property below would compare json with itself."""
    assert jsonsafe._fast_reader()


@settings(max_examples=examples(1500))
@given(text=jsonish() | st.lists(st.sampled_from(FRAGMENTS + list("0123456789.eE-+")), max_size=20).map("".join), surrogates=st.booleans())
@example(text='{"a": 1, "a": 2}', surrogates=False)
@example(text='"\\ud800"', surrogates=True)
@example(text="1.7976931348623159e308", surrogates=False)
@example(text="[" * 65 + "]" * 65, surrogates=False)
@example(text="[" * 1100 + "]" * 1100, surrogates=False)
def test_fast_reader_gives_json_s_answer(text, surrogates):
    if jsonsafe.fast_numbers(text.encode("utf-8", "surrogatepass")):
        assert outcome(text, surrogates=surrogates, fast=True) == outcome(text, surrogates=surrogates)


@pytest.mark.parametrize("text", ["18446744073709551616", "-9223372036854775809", '{"n": 1234567890123456789}', '"x1234567890123456789"'])
def test_a_number_the_fast_reader_would_read_otherwise_keeps_a_stream_on_json(text):
    """orjson reads an integer beyond 64 bits as a float: any run of 19 digits makes the caller stay with json."""
    assert not jsonsafe.fast_numbers(text.encode())


@pytest.mark.parametrize("text", ['{"n": 123456789012345678}', '{"choices": [{"delta": {"content": " w"}}], "created": 1700000000}'])
def test_usual_numbers_let_a_stream_use_the_fast_reader(text):
    assert jsonsafe.fast_numbers(text.encode())


@settings(max_examples=examples(500))
@given(texts=st.lists(jsonish(), max_size=6), surrogates=st.booleans())
@example(texts=['{"a": 1}', "[2.5, -0.0]", '"\\ud83d\\ude00"'], surrogates=False)
@example(texts=['{"a": 1}', "[DONE]"], surrogates=True)
def test_a_read_s_values_at_once_are_each_json_s_value(texts, surrogates):
    """``fast_all``: every value as ``loads`` gives it, or None (when any text is not one it reads the same), never another value."""
    if all(jsonsafe.fast_numbers(text.encode("utf-8", "surrogatepass")) for text in texts):
        values = jsonsafe.fast_all(texts)
        if values is not None:
            assert [canonical(v) for v in values] == [outcome(text, surrogates=surrogates)[1] for text in texts]
            assert all(outcome(text, surrogates=surrogates)[0] == "value" for text in texts)


def test_plain_values_are_read_at_once():
    assert jsonsafe.fast_all(['{"a": [1, "x"]}', "2.5", '"\\u00e9"']) == [{"a": [1, "x"]}, 2.5, "é"]
    assert jsonsafe.fast_all(['{"a": 1}', '"\\ud800"']) is None  # a lone surrogate: one by one, json's way
    deep = ["[" * 40 + "]" * 40, '{"a": ' * 30 + "1" + "}" * 30]  # each within the limit, but the counts are not told apart per text
    assert jsonsafe.fast_all(deep) is None and [jsonsafe.loads(text) for text in deep]
