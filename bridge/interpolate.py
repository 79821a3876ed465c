"""``{key}`` interpolation for ``!api`` URLs and FIM templates."""

import json

from .errors import BuildError


def interpolate(text, values):
    """Replace each ``{key}`` with ``values[key]``: strings raw, anything else as JSON."""
    out = []
    rest = text
    while True:
        before, brace, after = rest.partition("{")
        out.append(before)
        if not brace:
            return "".join(out)
        key, close, rest = after.partition("}")
        if not close:
            raise BuildError("unmatched '{'", hint="close it with '}', or quote the URL to use it literally")
        if key not in values:
            raise BuildError(f"missing key: {key}", hint=f"set it with !:{key} VALUE")
        value = values[key]
        out.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":")))
