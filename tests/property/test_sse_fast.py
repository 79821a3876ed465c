"""Framing's fast path (a read of plain ``data: {...}`` events parsed in one go) frames every byte stream as the line-by-line path does.

Streams mix the usual events with every other shape a server sends:
comments, ``event:`` and ``error:`` fields, CRLF, multi-line data, bare
JSON lines, ``[DONE]``, text that is not JSON, values beyond jsonsafe's
limits, long numbers, invalid UTF-8 and lines over the size limit; they
are cut into reads at arbitrary points. Both paths must give the same
events, in the same order, and the same error after the same events.
"""

import json
import subprocess
import sys

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bridge import sse
from budget import examples

LIMIT = 300  # bytes in one event: small, so that over-long lines are cheap to make


def chunk(text):
    return "data: " + json.dumps({"choices": [{"delta": {"content": text}, "finish_reason": None}]}, ensure_ascii=False) + "\n\n"


PIECES = st.one_of(
    st.text(max_size=6).map(chunk).map(str.encode),  # the usual event, many times over
    st.text(max_size=6).map(chunk).map(str.encode),
    st.text(max_size=6).map(chunk).map(str.encode),
    st.sampled_from([
        "data: [DONE]\n\n", ": keep-alive\n\n", ":\n", "\n", "\n\n", " \n", "\r\n", "event: delta\n", "event: error\n", "id: 7\n",
        "retry: 10\n", 'error: {"message": "boom"}\n', "error: plain\n", 'data: {"a":\ndata: 1}\n\n', 'data: {"a":\n\n',
        'data:{"x":1}\n\n', 'data:  {"x": 2}\n\n', 'data: {"x": 3}\r\n\r\n', 'data: {"x": 4}\n', 'data: 5\n\n', "data: not json\n\n",
        'data: "\\ud83d"\n\ndata: "\\ude00"\n\n', "data: NaN\n\n", "data: 1e999\n\n", 'data: {"n": 18446744073709551616}\n\n',
        'data: {"n": 123456789012345678}\n\n', "data: " + "[" * 70 + "]" * 70 + "\n\n", '{"bare": true}\n', '{"bare":\n1}\n',
        '[1,\n', "]\n", "plain text\n", "\r\r\n", "data: \n\n", '{"error": {"message": "x"}}\n',
        "data: " + "x" * (LIMIT + 5) + "\n\n", 'data: {"long": "' + "y" * (LIMIT - 10) + '"}\n\n',
    ]).map(str.encode),
    st.binary(max_size=4),  # bytes, often not UTF-8
    st.sampled_from([b"\xe2\x82", b"\xff", b"\xc3\xa9", b"\xed\xa0\x80"]),
)


@st.composite
def reads(draw):
    """(the stream's bytes, cut into reads at arbitrary points)."""
    data = b"".join(draw(st.lists(PIECES, max_size=30)))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=8)))
    bounds = [0, *cuts, len(data)]
    return data, [data[a:b] for a, b in zip(bounds, bounds[1:])]


def framed(parts, fast):
    """The events of ``parts`` as text (float bits and key order shown), then the error that ended them, if any."""
    seen = []
    try:
        for event in sse.events(iter(parts), LIMIT, fast=fast, fast_json=0):  # the fast JSON reader for every read
            seen.append(repr(event))
    except sse.FrameError as err:
        seen.append(f"FrameError: {err.reason}")
    return seen


@settings(max_examples=examples(600))
@given(stream=reads())
@example(stream=(b"", [b""]))
@example(stream=(b'data: {"a": 1}\n\ndata: {"b": 2}\n\n', [b'data: {"a": 1}\n\nda', b'ta: {"b": 2}\n\n']))
@example(stream=(b'data: {"a": 1}\n\ndata: ' + b"[" * 70 + b"]" * 70 + b"\n\n", [b'data: {"a": 1}\n\ndata: ' + b"[" * 70 + b"]" * 70 + b"\n\n"]))
def test_fast_framing_gives_the_line_by_line_events(stream):
    _, parts = stream
    assert framed(parts, fast=True) == framed(parts, fast=False)


def test_a_read_of_usual_events_yields_them_all():
    data = "".join(chunk(t) for t in ["a", " b", "é"]).encode()
    events = list(sse.events(iter([data]), LIMIT))
    assert [e.data["choices"][0]["delta"]["content"] for e in events] == ["a", " b", "é"]
    assert [e.kind for e in events] == [None] * 3 and events[0].raw == chunk("a")[6:-2]


def test_a_short_reply_does_not_load_the_fast_json_reader():
    """Importing orjson costs a few ms, more than a short reply's parsing: a short reply is read by json alone."""
    script = ("import sys; from bridge import sse; "
              "list(sse.events([b'data: {\"a\": 1}\\n\\n' * 10])); print('orjson' in sys.modules, end=' '); "
              "list(sse.events([b'data: {\"a\": 1}\\n\\n' * 2000])); print('orjson' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (result.stdout, result.stderr) == ("False True\n", "")
