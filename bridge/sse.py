"""Read a byte stream of server-sent events (or JSON lines) into events.

Lines are split on bytes, so a multi-byte character split across network
reads is decoded whole. Comment lines (``:``), ``id:``/``retry:`` fields
and blank keep-alives are skipped. A ``data:`` line is dispatched as soon as
it holds a complete JSON value, without waiting for the blank line, so a
server that omits blank lines still streams; the rest of the SSE framing is
honoured (multi-line data joined, an unterminated last event flushed at EOF).
Lines that are bare JSON (Ollama's NDJSON, a non-streamed reply) are events
too.
"""

import json
from dataclasses import dataclass

DONE = "[DONE]"


@dataclass(frozen=True)
class Event:
    """One event: its ``event:`` type (or None) and its data, parsed as JSON where it is JSON."""

    kind: str | None
    data: object
    raw: str


def lines(chunks):
    """Complete lines (bytes, without the line ending) from an iterable of byte chunks."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line[:-1] if line.endswith(b"\r") else line
    if pending:
        yield pending[:-1] if pending.endswith(b"\r") else pending


def _parse(text):
    if text == DONE:
        return DONE
    try:
        return json.loads(text)
    except ValueError:
        return None


def events(chunks):
    """Events from a byte stream."""
    kind, data = None, []
    whole = []  # a JSON value spread over lines without SSE framing
    for raw in lines(chunks):
        line = raw.decode("utf-8", errors="replace")
        if whole:
            whole.append(line)
            value = _parse("\n".join(whole))
            if value is not None:
                yield Event(None, value, "\n".join(whole))
                whole = []
            continue
        if not line.strip():
            if data:
                text = "\n".join(data)
                yield Event(kind, _parse(text), text)
            kind, data = None, []
            continue
        field, colon, value = line.partition(":")
        if colon and field in ("data", "event", "error", "id", "retry"):
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                kind = value.strip() or None
            elif field == "error":  # older llama.cpp builds: a non-standard "error:" field
                yield Event("error", _parse(value) or {"error": value}, value)
            elif field == "data":
                data.append(value)
                parsed = _parse("\n".join(data))
                if parsed is not None:
                    text = "\n".join(data)
                    yield Event(kind, parsed, text)
                    kind, data = None, []
        elif line.startswith(":"):
            continue  # comment / keep-alive
        elif line.lstrip().startswith(("{", "[")):
            value = _parse(line)
            if value is None:
                whole = [line]
            else:
                yield Event(None, value, line)
    if data:
        text = "\n".join(data)
        yield Event(kind, _parse(text), text)
    elif whole:
        text = "\n".join(whole)
        yield Event(None, _parse(text), text)
