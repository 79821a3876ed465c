"""Read a byte stream of server-sent events (or JSON lines) into events.

Lines are split on bytes, so a multi-byte character split across network
reads is decoded whole. Comment lines (``:``), ``id:``/``retry:`` fields
and blank keep-alives are skipped. A ``data:`` line is dispatched as soon as
it holds a complete JSON value, without waiting for the blank line, so a
server that omits blank lines still streams; the rest of the SSE framing is
honoured (multi-line data joined, an unterminated last event flushed at EOF).
Lines that are bare JSON (Ollama's NDJSON, a non-streamed reply) are events
too.

Framing is linear in the bytes received: each byte is split and decoded
once, and a JSON value spread over several lines is parsed only when its
brackets balance. One event (or one line) may hold at most ``MAX_EVENT``
bytes; JSON is parsed by ``jsonsafe`` (depth and number limits), keeping
unpaired surrogates, which the output joins or replaces. A stream beyond
these limits raises ``FrameError``.
"""

import re
from itertools import repeat
from typing import NamedTuple

from . import jsonsafe

DONE = "[DONE]"
MAX_EVENT = 16 * 1024 * 1024  # bytes in one event or line: far above any real chunk, bounds memory
FAST_JSON = 16 * 1024  # bytes in one read from which its values go to the fast JSON reader: importing it (a few ms) pays off


class FrameError(ValueError):
    """The stream breaks a limit; ``reason`` completes "the reply from URL …"."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class Event(NamedTuple):
    """One event: its ``event:`` type (or None) and its data, parsed as JSON where it is JSON."""

    kind: str | None
    data: object
    raw: str


_new_event = tuple.__new__  # _new_event(Event, (kind, data, raw)): what Event._make does, without a Python call per event


def _too_large(limit):
    return FrameError(f"sent an event larger than {limit // (1024 * 1024)} MiB, the limit for one event")


def lines(chunks, limit=MAX_EVENT):
    """The complete lines (str, without line endings) of each byte chunk, one list per chunk.

    A chunk's complete lines are decoded in one call: a line break is one
    byte that no UTF-8 sequence contains, so this is the decoding of each line
    on its own, and an invalid sequence is replaced the same way. The caller
    handles a whole list before the next chunk is read.
    """
    for text, _ in _batches(chunks, limit):
        yield _split(text)


def _batches(chunks, limit):
    """Each of ``lines``' lists as one text (its lines still joined), with whether ``jsonsafe.fast_numbers`` holds for it."""
    parts, size = [], 0  # the unterminated line so far, in pieces: joined once, when it ends
    for chunk in chunks:
        end = chunk.rfind(b"\n")
        if end < 0:
            parts.append(chunk)
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            continue
        complete = chunk[:end]
        if parts:
            complete = b"".join(parts) + complete
        parts, size = ([chunk[end + 1:]], len(chunk) - end - 1) if end + 1 < len(chunk) else ([], 0)
        if len(complete) > limit:
            yield from _within(complete, limit)
        yield _batch(complete)
    if parts:
        yield _batch(b"".join(parts))


def _batch(data):
    """(the text of ``data``, whether its numbers suit the fast JSON reader)."""
    return data.decode("utf-8", errors="replace"), jsonsafe.fast_numbers(data)


def _within(complete, limit):
    """Raise FrameError when a line of ``complete`` is beyond ``limit``, after yielding the lines before it."""
    split = complete.split(b"\n")
    for index, line in enumerate(split):
        if len(line) > limit:
            if index:
                yield _batch(b"\n".join(split[:index]))
            raise _too_large(limit)


def _split(text):
    """Lines of ``text``, a CR before each line break removed (CRLF framing)."""
    if "\r" not in text:
        return text.split("\n")
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def _parse(text, fast=False):
    """The JSON value of ``text``, ``DONE``, or None when it is not JSON; FrameError beyond jsonsafe's limits.

    ``fast``: the bytes ``text`` came from passed ``jsonsafe.fast_numbers``.
    """
    if text == DONE:
        return DONE
    try:
        return jsonsafe.loads(text, surrogates=True, fast=fast)
    except jsonsafe.JSONError as err:
        if err.syntax:
            return None
        raise FrameError(f"sent JSON that bufbridge does not accept: {err.reason}") from None


# A JSON token that changes nesting: a bracket, or a whole string (skipped, so brackets in it do not count).
_TOKEN = re.compile(r'[\[\]{}]|"[^"\\]*(?:\\.[^"\\]*)*("?)')


class Gather:
    """A JSON value spread over several lines: parsed once its brackets balance, each line scanned once."""

    def __init__(self, limit):
        self.lines, self.size, self.limit = [], 0, limit
        self.depth = 0
        self.blank = True  # every line so far is empty or white space: nothing to parse, nothing joined
        self.broken = False  # no more lines can make it JSON: stop trying

    def add(self, line, parsed=None):
        """Add a line; return its JSON value once complete, else None. ``parsed`` is a parse of this line alone already tried."""
        self.lines.append(line)
        self.size += len(line) + 1
        if self.size > self.limit:
            raise _too_large(self.limit)
        if self.broken:
            return None
        for match in _TOKEN.finditer(line):
            token = match.group()
            if token in ("[", "{"):
                self.depth += 1
            elif token in ("]", "}"):
                self.depth -= 1
            elif not match.group(1):  # a string left open at the end of a line: never JSON
                self.depth = -1
            if self.depth < 0:
                self.broken = True
                return None
        self.blank = self.blank and (not line or line.isspace())
        if self.depth or self.blank:
            return None
        if len(self.lines) == 1 and parsed is False:
            value = None  # the caller already parsed this very text
        else:
            value = _parse(self.text())
        self.broken = value is None
        return value

    def text(self):
        return "\n".join(self.lines)


def events(chunks, limit=MAX_EVENT, *, fast=True, fast_json=FAST_JSON):
    """Events from a byte stream; all those of one chunk before the next chunk is asked for.

    The usual read is a run of ``data: VALUE`` lines one blank line apart,
    and starts between two events: its values are split out and parsed in one
    go (``fast``). Any other read, or one whose values are not all JSON or
    break a limit, takes the line-by-line path, which yields the same events
    (and raises the same error after the same events); ``fast=False`` takes
    it for every read (the reference the tests compare with). A read of at
    least ``fast_json`` bytes uses the fast JSON reader (``jsonsafe``), which
    gives the same values: a short reply does not wait for its import.
    """
    kind, data = None, None  # data: the Gather of the current event's data lines
    whole = None  # a bare JSON value spread over lines without SSE framing
    for text, short in _batches(chunks, limit):
        short = short and fast and len(text) >= fast_json  # the fast JSON reader for this read's values
        values = _usual(text) if fast and kind is None and data is None and whole is None else None
        if values is not None:
            parsed = jsonsafe.fast_all(values) if short else None  # all at once, else one by one:
            if parsed is None:
                try:
                    parsed = [_parse(value, short) for value in values]
                except FrameError:
                    parsed = None  # the line-by-line path raises it, after the events before it
            if parsed is not None and None not in parsed:
                yield from map(_new_event, repeat(Event), zip(repeat(None), parsed, values))
                continue
        for line in _split(text):
            if whole is not None:
                value = whole.add(line)
                if value is not None:
                    yield Event(None, value, whole.text())
                if value is not None or whole.broken:
                    whole = None  # a bare line that can never become JSON is dropped, not kept open
                continue
            if line.startswith("data:"):  # the usual line first: one data line holding one JSON value
                field, value = "data", line[5:]
            elif not line or line.isspace():
                if data is not None:
                    text = data.text()
                    yield Event(kind, _parse(text), text)
                kind, data = None, None
                continue
            else:
                field, colon, value = line.partition(":")
                if not colon or field not in ("event", "error", "id", "retry"):
                    whole = yield from _other(line, limit)
                    continue
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                if data is None:
                    parsed = _parse(value, short)
                    if parsed is not None:
                        yield Event(kind, parsed, value)
                        kind = None
                        continue
                    data = Gather(limit)
                    parsed = data.add(value, parsed=False)
                else:
                    parsed = data.add(value)
                if parsed is not None:
                    yield Event(kind, parsed, data.text())
                    kind, data = None, None
            elif field == "event":
                kind = value.strip() or None
            elif field == "error":  # older llama.cpp builds: a non-standard "error:" field
                yield Event("error", _parse(value) or {"error": value}, value)
    if data is not None:
        text = data.text()
        yield Event(kind, _parse(text), text)
    elif whole is not None:
        text = whole.text()
        yield Event(None, _parse(text), text)


def _usual(text):
    """The values of ``text`` when its lines are ``data: VALUE`` lines one blank line apart (a blank line
    may come first, the last data line may be followed by its blank line), else None."""
    if "\r" in text:
        return None
    if text.startswith("\n"):
        text = text[1:]
    if text.endswith("\n"):
        text = text[:-1]
    if not text.startswith("data: "):
        return None
    values = text[6:].split("\n\ndata: ")
    return values if text.count("\n") == 2 * len(values) - 2 else None  # else some line is another kind


def _other(line, limit):
    """Yield the event of a line that is no SSE field; return the Gather of a bare JSON value it starts, if any."""
    if line.startswith(":") or not line.lstrip().startswith(("{", "[")):
        return None  # a comment / keep-alive, or text that is not JSON
    value = _parse(line)
    if value is not None:
        yield Event(None, value, line)
        return None
    whole = Gather(limit)
    whole.add(line, parsed=False)
    return None if whole.broken else whole
