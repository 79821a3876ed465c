"""``{key}`` interpolation for ``!api`` URLs and FIM templates."""

import json

from .errors import BuildError

# A key repeated with a long value multiplies it: `!api {a}{a}…` with a 1 MB
# `!:a` would ask for gigabytes. No URL or prompt is anywhere near this long.
MAX_LENGTH = 64 * 1024 * 1024
KEY_SHOWN = 60  # characters of a key quoted in an error line


def interpolate(text, values, *, limit=MAX_LENGTH):
    """Replace each ``{key}`` with ``values[key]``: strings raw, anything else as JSON.

    One pass over ``text``; the result may be at most ``limit`` characters.
    """
    out, size, at, rendered = [], 0, 0, {}
    while True:
        brace = text.find("{", at)
        piece = text[at:] if brace < 0 else text[at:brace]
        out.append(piece)
        size += len(piece)
        if brace < 0:
            return "".join(out)
        close = text.find("}", brace + 1)
        if close < 0:
            raise BuildError("unmatched '{'", hint="close it with '}', or quote the URL to use it literally")
        key = text[brace + 1:close]
        if key not in values:
            shown = key if len(key) <= KEY_SHOWN else key[:KEY_SHOWN] + "…"
            raise BuildError(f"missing key: {shown}", hint=f"set it with !:{shown} VALUE")
        if key not in rendered:
            value = values[key]
            rendered[key] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        out.append(rendered[key])
        size += len(rendered[key])
        if size > limit:
            raise BuildError(
                f"the text would be longer than {limit // (1024 * 1024)} MiB once {{{key[:KEY_SHOWN]}}} is filled in",
                hint="a {key} repeated with a long value? write it fewer times",
            )
        at = close + 1
