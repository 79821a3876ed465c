"""FIM templates: JSON data files validated against ``fim_templates/schema.json``.

A template is loaded as if it were the profile lines ``!infill TEMPLATE``
plus ``!:stop [...]``; its other fields (order, repository-level form, stop
heuristics) are read by the FIM code.
"""

import json
import re
from dataclasses import dataclass, field

from .errors import ProfileError

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Template:
    """A validated FIM template."""

    name: str
    template: str
    stop: tuple = ()
    order: str = "psm"
    data: dict = field(default_factory=dict)


def load(path, name):
    """Read, parse and validate a template file; errors carry ``file:line``."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ProfileError(err.msg, where=f"{path}:{err.lineno}:{err.colno}") from None
    _validate(data, text, path)
    return Template(name, data["template"], tuple(data.get("stop", ())), data.get("order", "psm"), data)


def _validate(data, text, path):
    import jsonschema  # imported only when a template is used

    from .profiles import data_dir

    schema = json.loads((data_dir("fim_templates") / "schema.json").read_text(encoding="utf-8"))
    error = jsonschema.validators.validator_for(schema)(schema).iter_errors(data)
    first = next(iter(sorted(error, key=lambda e: list(e.absolute_path))), None)
    if first is not None:
        location = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise ProfileError(
            f"{location}: {first.message}",
            where=f"{path}:{_line_of(text, first.absolute_path)}",
            hint="see fim_templates/schema.json for the allowed fields",
        )
    unknown = set(PLACEHOLDER.findall(data["template"])) - {"prefix", "suffix"}
    if unknown:
        raise ProfileError(
            f"template has unknown placeholder {{{sorted(unknown)[0]}}}",
            where=f"{path}:{_line_of(text, ['template'])}",
            hint="only {prefix} and {suffix} are filled in",
        )


def _line_of(text, json_path):
    """Best-effort line number of the deepest key of ``json_path`` in ``text``."""
    keys = [p for p in json_path if isinstance(p, str)]
    if not keys:
        return 1
    needle = json.dumps(keys[-1]) + ":"
    compact = needle.replace(":", "")
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith(needle) or stripped.startswith(compact):
            return lineno
    return 1


def render(template, prefix, suffix):
    """Fill ``{prefix}`` and ``{suffix}`` into a template string (Illume's interpolation)."""
    from .interpolate import interpolate

    return interpolate(template, {"prefix": prefix, "suffix": suffix})
