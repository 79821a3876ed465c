"""JSON from places we do not control: one set of limits for every reader.

Buffers, files a buffer names, command-line files and server streams all
parse JSON through ``loads``, so each gets the same answer to the same
hostile input:

- a value nested deeper than ``MAX_DEPTH`` is a ``JSONError``, never a
  RecursionError later on;
- ``NaN``, ``Infinity`` and numbers beyond a double (``1e999``, an integer of
  thousands of digits) are not JSON a server accepts: like any other text
  that is not JSON they are a ``JSONError`` with ``syntax`` set, so
  ``!:KEY 1e999`` is sent as the string ``"1e999"``, as Illume (Go's
  decoder) does, never as ``Infinity``;
- an unpaired UTF-16 surrogate escape (``"\\ud800"``, half of a character,
  which cannot be written as UTF-8) becomes U+FFFD, again as Go's decoder
  does, unless the caller keeps it to join it with its other half
  (``surrogates=True``: a reply stream may split a character across events).
"""

import json
import re

MAX_DEPTH = 64
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_MAY_HOLD_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")


class JSONError(ValueError):
    """The text is not JSON we accept; ``reason`` says why in a few words."""

    def __init__(self, reason, *, syntax=False):
        super().__init__(reason)
        self.reason = reason
        self.syntax = syntax  # not a JSON value at all, rather than one beyond our limits


def _no_constant(name):
    raise JSONError(f"{name} is not a JSON number", syntax=True)


def _finite(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise JSONError(f"the number {text[:40]} is too large for JSON", syntax=True)
    return value


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)  # built once: json.loads(**hooks) builds one per call


def loads(text, *, max_depth=MAX_DEPTH, surrogates=False):
    """Parse ``text`` (str, or bytes as JSON encodes them) within the limits; raise JSONError (a ValueError) otherwise."""
    if not isinstance(text, str):
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    try:
        value = _decode(text)
    except RecursionError:
        raise JSONError(f"it nests deeper than {max_depth} levels") from None
    except JSONError:
        raise
    except json.JSONDecodeError as err:
        raise JSONError(f"{err.msg} at line {err.lineno} column {err.colno}", syntax=True) from None
    except ValueError as err:  # an integer of thousands of digits
        raise JSONError(str(err).split(";")[0].split(":")[0].lower(), syntax=True) from None
    if text.count("[") + text.count("{") > max_depth:  # else too few brackets to nest that deep: a stream event's hot path
        check_depth(value, max_depth)
    if not surrogates and _MAY_HOLD_SURROGATE.search(text):
        value = _replace_surrogates(value)
    return value


def _decode(text):
    """The value of ``text``: in one scan when nothing surrounds it (a stream event), else by json's full reading and its errors."""
    try:
        value, end = _DECODER.raw_decode(text)
        if end == len(text):
            return value
    except json.JSONDecodeError:
        pass  # read again below, for json's own message and position
    return _DECODER.decode(text)


def check_depth(value, max_depth=MAX_DEPTH):
    """Raise JSONError when ``value`` nests deeper than ``max_depth`` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                raise JSONError(f"it nests deeper than {max_depth} levels")
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))


def _replace_surrogates(value):
    """``value`` with every unpaired surrogate as U+FFFD (its depth is already bounded)."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_replace_surrogates(key): _replace_surrogates(item) for key, item in value.items()}
    return value

