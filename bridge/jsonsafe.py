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

A reply stream parses hundreds of thousands of small values, so it may ask for
the fast reader (``fast=True``): ``orjson``, a C parser, tried first, its value
taken only where it is exactly json's. It refuses on its own everything
outside that (lone surrogate escapes, ``NaN``, ``1e999``, numbers next to a
double's limit, nesting past 1024, syntax errors): json then reads the text
again, so every error and every refused value is json's, word for word. The
one value it reads differently, an integer beyond 64 bits (a float there), is
ruled out by the caller beforehand: ``fast_numbers`` of the bytes the text
came from (once per network read, not per value) says that no run of 19
digits is in them. The answers are the same with or without ``orjson``
installed; only the speed differs.
"""

import json
import re
from itertools import repeat

MAX_DEPTH = 64
LONG_NUMBER = 19  # digits in a row: from here an integer may be beyond 64 bits, which orjson reads as a float
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


def fast_numbers(data):
    """True when ``data`` (bytes) holds no run of ``LONG_NUMBER`` digits: the fast reader reads every number in it (and in any part of it) as json does."""
    return _LONG_RUN not in data.translate(_DIGIT_MASK)


_DIGIT_MASK = bytes(49 if 48 <= byte <= 57 else 48 for byte in range(256))  # each digit to b"1", every other byte to b"0"
_LONG_RUN = b"1" * LONG_NUMBER
_fast_loads = None  # orjson.loads once the first fast read asked for it (False: not installed)


def _fast_reader():
    global _fast_loads
    try:
        from orjson import loads as _fast_loads
    except ImportError:  # the same answers without it, only slower
        _fast_loads = False
    return _fast_loads


def loads(text, *, max_depth=MAX_DEPTH, surrogates=False, fast=False):
    """Parse ``text`` (str, or bytes as JSON encodes them) within the limits; raise JSONError (a ValueError) otherwise.

    ``fast``: ``fast_numbers`` holds for the bytes ``text`` came from: try the fast reader first (the same answer, sooner).
    """
    if not isinstance(text, str):
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    try:
        value = _decode(text, fast)
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


def fast_all(texts, max_depth=MAX_DEPTH):
    """The values of ``texts`` (all from bytes that passed ``fast_numbers``) when the fast reader reads every one
    within ``max_depth``, each exactly ``loads(text, fast=True)``'s, surrogates kept or not; else None: ask ``loads`` for each."""
    reader = _fast_loads if _fast_loads is not None else _fast_reader()
    if not reader or not texts:
        return None
    if max(map(str.count, texts, repeat("["))) + max(map(str.count, texts, repeat("{"))) > max_depth:
        return None  # one may nest too deep: loads checks it
    try:
        return list(map(reader, texts))  # it refuses every lone surrogate: nothing to replace or keep
    except ValueError:
        return None


def _decode(text, fast=False):
    """The value of ``text``: orjson's when asked for and it reads it, in one scan when nothing surrounds it (a stream event), else by json's full reading and its errors."""
    if fast:
        reader = _fast_loads if _fast_loads is not None else _fast_reader()
        if reader:
            try:
                return reader(text)
            except ValueError:  # outside what it reads exactly as json does: json's reading below says what it is
                pass
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

