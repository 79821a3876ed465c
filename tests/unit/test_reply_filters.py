"""Reply text filters: !gpt-oss harmony markup, and the echo of a continued !assistant reply."""

import pytest

from bridge import harmony
from bridge.textfilter import Replacer

RAW = "<|channel|>analysis<|message|>User wants a pun.<|end|><|start|>assistant<|channel|>final<|message|>Cats are purrfect.<|return|>"
EXPECTED = "<think>\nUser wants a pun.\n</think>\n\nCats are purrfect."


def run(chunks):
    f = harmony.filter()
    return "".join(f.feed(c) for c in chunks) + f.flush()


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_any_chunking_gives_the_same_text(size):
    assert run([RAW[i : i + size] for i in range(0, len(RAW), size)]) == EXPECTED


def test_final_channel_alone_has_no_think():
    assert run(["<|channel|>final<|message|>Hi", "<|return|>"]) == "Hi"


def test_replacer_flushes_a_held_back_partial_pattern():
    r = Replacer({"<|end|>": ""})
    assert r.feed("a <|en") == "a "
    assert r.flush() == "<|en"


# The continuation of an !assistant reply: a server that echoes the prefill first must not duplicate it.
from bridge.stream import EchoFilter  # noqa: E402


@pytest.mark.parametrize(
    "chunks, expected",
    [
        (["One, two,", " three"], " three"),  # echoed whole
        (["One", ", tw", "o, three"], " three"),  # echoed in pieces
        ([" three", ", four"], " three, four"),  # no echo
        (["One, two, three"], " three"),  # echo and continuation in one piece
        (["On", "ce upon"], "Once upon"),  # starts like the prefill, then differs: kept whole
        (["One"], "One"),  # the stream ends while it could still be the echo: nothing is lost
    ],
)
def test_echo_filter(chunks, expected):
    f = EchoFilter("One, two,")
    assert "".join(f.feed(c) for c in chunks) + f.flush() == expected
