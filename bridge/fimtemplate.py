"""FIM templates: JSON data files validated against ``fim_templates/schema.json``.

A template is loaded as if it were the profile lines ``!infill TEMPLATE``
plus ``!:stop [...]``; its other fields are read by the cursor-infill code
(``fim.py``): ``repo``, the repository-level form used for extra files, and
``heuristics``, the stop heuristics turned on or off (``stops.py``).

Every error names the file and the line of the offending value.
"""

import json
import re
from dataclasses import dataclass, field

from .errors import BuildError, ProfileError

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# The placeholders each string field may use.
PLACEHOLDERS = {
    ("template",): {"prefix", "suffix"},
    ("repo", "header"): {"repo"},
    ("repo", "file"): {"filename", "text"},
    ("repo", "current"): {"filename"},
}


@dataclass(frozen=True)
class Template:
    """A validated FIM template."""

    name: str
    template: str
    stop: tuple = ()
    order: str = "psm"
    repo: dict | None = None  # {"header", "file", "current"} format strings
    heuristics: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)


def load(path, name):
    """Read, parse and validate a template file; errors carry ``file:line``."""
    return parse(path.read_text(encoding="utf-8"), name, path)


def parse(text, name, path="<template>"):
    """Parse and validate template text; ``path`` is only used in error locations."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ProfileError(err.msg, where=f"{path}:{err.lineno}:{err.colno}") from None
    _validate(data, text, path)
    return Template(
        name,
        data["template"],
        tuple(data.get("stop", ())),
        data.get("order", "psm"),
        data.get("repo"),
        data.get("heuristics", {}),
        data,
    )


def _schema():
    from .profiles import data_dir

    return json.loads((data_dir("fim_templates") / "schema.json").read_text(encoding="utf-8"))


def _validate(data, text, path):
    import jsonschema  # imported only when a template is used

    schema = _schema()
    errors = jsonschema.validators.validator_for(schema)(schema).iter_errors(data)
    error = jsonschema.exceptions.best_match(errors)
    if error is not None:
        where = list(error.absolute_path) + _unexpected_key(error)
        location = "/".join(str(p) for p in where) or "(top level)"
        raise ProfileError(
            f"{location}: {error.message}",
            where=f"{path}:{line_of(text, where)}",
            hint="see fim_templates/schema.json for the allowed fields",
        )
    for json_path, allowed in PLACEHOLDERS.items():
        value = _get(data, json_path)
        unknown = sorted(set(PLACEHOLDER.findall(value)) - allowed) if isinstance(value, str) else []
        if unknown:
            raise ProfileError(
                f"{'/'.join(json_path)}: unknown placeholder {{{unknown[0]}}}",
                where=f"{path}:{line_of(text, list(json_path))}",
                hint="this field may use " + ", ".join("{%s}" % a for a in sorted(allowed)),
            )


def _unexpected_key(error):
    """For "additional properties" errors, the path step of the first unexpected key (to point at its line)."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return []
    allowed = set(error.schema.get("properties", {}))
    extra = sorted(k for k in error.instance if k not in allowed)
    return extra[:1]


def _get(data, json_path):
    for key in json_path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


# --- where a value is in the file --------------------------------------------

_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|([{}\[\]:,])|(-?[0-9][0-9.eE+-]*|true|false|null))', re.S)


def line_of(text, json_path):
    """The line (from 1) where ``json_path`` (keys and indices) is in JSON ``text``; its nearest ancestor's if absent."""
    lines = _lines_by_path(text)
    path = tuple(json_path)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def _lines_by_path(text):
    """{path: line} for every value in ``text``; a member's line is its key's."""
    tokens = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            break
        token = match.group(1) or match.group(2) or match.group(3)
        if token is None:
            break
        tokens.append((token, text.count("\n", 0, match.start(match.lastindex)) + 1))
        pos = match.end()
    found = {}
    _walk(tokens, 0, (), 1, found)
    return found


def _walk(tokens, i, path, line, found):
    """Record ``path`` and walk the value starting at token ``i``; return the index after it."""
    if i >= len(tokens):
        return i
    token, token_line = tokens[i]
    found[path] = line if path else token_line
    if token == "{":
        i += 1
        while i < len(tokens) and tokens[i][0] != "}":
            key, key_line = tokens[i]
            i = _walk(tokens, i + 2, path + (json.loads(key),), key_line, found)  # skip the ':'
            i += tokens[i][0] == "," if i < len(tokens) else 0
        return i + 1
    if token == "[":
        i += 1
        index = 0
        while i < len(tokens) and tokens[i][0] != "]":
            i = _walk(tokens, i, path + (index,), tokens[i][1], found)
            i += tokens[i][0] == "," if i < len(tokens) else 0
            index += 1
        return i + 1
    return i + 1


# --- rendering ---------------------------------------------------------------


def render(template, prefix, suffix):
    """Fill ``{prefix}`` and ``{suffix}`` into a template string (Illume's interpolation)."""
    from .interpolate import interpolate

    return interpolate(template, {"prefix": prefix, "suffix": suffix})


def render_repo(repo, name, files, current):
    """The repository-level context before the FIM prompt: a header, each extra file, then the current file's header.

    ``files`` are ``(filename, text)`` pairs, already in their final order.
    """
    from .interpolate import interpolate

    try:
        head = interpolate(repo["header"], {"repo": name})
        body = "".join(interpolate(repo["file"], {"filename": f, "text": t}) for f, t in files)
        tail = interpolate(repo.get("current", ""), {"filename": current})
    except BuildError as err:
        err.message = f"template repo form: {err.message}"
        raise
    return head + body + tail
