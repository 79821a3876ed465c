"""The editor host's protocol: JSON messages, one per line, in Vim's channel format.

Every message is a JSON array on one line (UTF-8, ending in ``\\n``), the
framing Vim's ``json`` channel mode speaks natively and any editor can speak
with a line reader and a JSON codec. ``doc/host-protocol.md`` describes it
for other editors; this module is the only code that knows it.

- The editor asks: ``[ID, {"method": NAME, ...}]`` with ID a positive integer.
- The host answers each ask once: ``[ID, RESULT]``; RESULT is an object, with
  ``"error"`` set when the ask was refused.
- The host tells, unasked: ``[0, {"event": NAME, "request": ID, ...}]`` (a
  zero ID is what Vim passes to the channel's own callback).
"""

import json
from dataclasses import dataclass

VERSION = 1


class ProtocolError(ValueError):
    """A line from the editor that is not a message of this protocol."""


@dataclass(frozen=True)
class Ask:
    """One message from the editor: its id, method and parameters."""

    id: int
    method: str
    params: dict


def decode(line):
    """The Ask on one line from the editor; ProtocolError when it is not one."""
    try:
        message = json.loads(line)
    except ValueError as err:
        raise ProtocolError(f"not JSON: {err}") from None
    if not (isinstance(message, list) and len(message) == 2 and type(message[0]) is int and message[0] > 0):
        raise ProtocolError("a message is [ID, {\"method\": ...}] with a positive integer ID")
    params = message[1]
    if not isinstance(params, dict) or not isinstance(params.get("method"), str):
        raise ProtocolError("a message is [ID, {\"method\": ...}] with a positive integer ID")
    return Ask(message[0], params["method"], {k: v for k, v in params.items() if k != "method"})


MAX_EXTRA = 64  # context items in one request's ``extra``


def extra_items(value):
    """A request's ``extra`` param as (filename, text) pairs, in order; ProtocolError when it is not a list of such objects."""
    if value is None:
        return []
    ok = isinstance(value, list) and len(value) <= MAX_EXTRA and all(
        isinstance(item, dict) and isinstance(item.get("filename"), str) and isinstance(item.get("text"), str)
        for item in value
    )
    if not ok:
        raise ProtocolError(f"extra must be a list of at most {MAX_EXTRA} {{\"filename\": ..., \"text\": ...}} objects")
    return [(item["filename"], item["text"]) for item in value]


def answer(ask_id, result):
    """The line that answers ask ``ask_id``."""
    return _line([ask_id, result])


def event(name, request, **fields):
    """The line of an unasked event about request ``request``."""
    return _line([0, {"event": name, "request": request, **fields}])


def _line(message):
    # ensure_ascii: a piece of a reply may hold text that is not valid UTF-8 on
    # its own (half a surrogate pair); escaped, the line always is.
    return (json.dumps(message, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")
