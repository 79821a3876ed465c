"""JSON from places we do not control: one set of limits for every reader.

Buffers, files a buffer names, command-line files and server streams all
parse JSON through ``loads``, so each gets the same answer to the same
hostile input: a value nested deeper than ``MAX_DEPTH``, a number that is not
finite (``NaN``, ``Infinity``, ``1e999`` — none of them JSON a server
accepts), or a string with an unpaired UTF-16 surrogate (``"\\ud800"``, which
cannot be written as UTF-8) is a ``JSONError`` with a one-line reason, never
a RecursionError or a UnicodeEncodeError later on.
"""

import json
import math
import re

MAX_DEPTH = 64
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONError(ValueError):
    """The text is not JSON we accept; ``reason`` says why in a few words."""

    def __init__(self, reason, *, syntax=False):
        super().__init__(reason)
        self.reason = reason
        self.syntax = syntax  # not JSON at all, rather than JSON beyond our limits


def _no_constant(name):
    raise JSONError(f"{name} is not a JSON number")


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise JSONError(f"the number {text[:40]} is too large for JSON")
    return value


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)  # built once: json.loads(**hooks) builds one per call


def loads(text, *, max_depth=MAX_DEPTH, surrogates=False):
    """Parse ``text`` as JSON within the limits; raise JSONError (a ValueError) otherwise.

    ``surrogates=True`` keeps unpaired surrogates (a reply stream may split a
    character across two events; the writer joins them).
    """
    try:
        value = _DECODER.decode(text if isinstance(text, str) else text.decode(json.detect_encoding(text), "surrogatepass"))
    except RecursionError:
        raise JSONError(f"it nests deeper than {max_depth} levels") from None
    except JSONError:
        raise
    except json.JSONDecodeError as err:
        raise JSONError(f"{err.msg} at line {err.lineno} column {err.colno}", syntax=True) from None
    except ValueError as err:  # e.g. an integer with thousands of digits
        raise JSONError(str(err).split(";")[0]) from None
    if surrogates and text.count("[") + text.count("{") <= max_depth:
        return value  # too few brackets to nest deeper (a reply stream's chunk: its hot path)
    check(value, max_depth=max_depth, surrogates=surrogates)
    return value


def check(value, *, max_depth=MAX_DEPTH, surrogates=False):
    """Raise JSONError when ``value`` nests deeper than ``max_depth`` or holds an unpaired surrogate."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not surrogates and _LONE_SURROGATE.search(item):
                raise JSONError("a string holds an unpaired UTF-16 surrogate (half of a character)")
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > max_depth:
            raise JSONError(f"it nests deeper than {max_depth} levels")
        if isinstance(item, dict):
            stack.extend((key, depth + 1) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        else:
            stack.extend((child, depth + 1) for child in item)


def dumps(value):
    """Compact JSON as bufbridge sends it: UTF-8 text, sorted keys, never NaN or Infinity."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)
