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

from . import jsonsafe
from .errors import BuildError, ProfileError

MESSAGE_SHOWN = 200  # characters of a schema message in an error line
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
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        raise ProfileError(f"cannot read the template: {err.strerror}", where=str(path)) from None
    except UnicodeDecodeError as err:
        raise ProfileError(f"not UTF-8 text (byte {err.start + 1})", where=str(path), hint="save the template as UTF-8") from None
    return parse(text, name, path)


def parse(text, name, path="<template>"):
    """Parse and validate template text; ``path`` is only used in error locations."""
    data = _json(text, path)
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


def _json(text, path):
    """The template's JSON, within the limits every reader applies (``jsonsafe``); a syntax error names its line and column."""
    try:
        return jsonsafe.loads(text)
    except jsonsafe.JSONError as err:
        if err.syntax:
            try:
                json.loads(text)
            except json.JSONDecodeError as located:
                raise ProfileError(located.msg, where=f"{path}:{located.lineno}:{located.colno}") from None
        raise ProfileError(f"the template cannot be used: {err.reason}", where=f"{path}") from None


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
        message = error.message  # it may quote the whole value: keep its start and its verdict at the end
        message = message if len(message) <= MESSAGE_SHOWN else f"{message[:MESSAGE_SHOWN // 2]} … {message[-MESSAGE_SHOWN // 2:]}"
        raise ProfileError(
            f"{location}: {message}",
            where=f"{path}:{line_of(text, where)}",
            hint="see fim_templates/schema.json for the allowed fields",
        )
    for json_path, allowed in PLACEHOLDERS.items():
        value = _get(data, json_path)
        unknown = sorted(set(PLACEHOLDER.findall(value)) - allowed) if isinstance(value, str) else []
        if isinstance(value, str) and "{" in PLACEHOLDER.sub("", value):
            raise ProfileError(
                f"{'/'.join(json_path)}: a '{{' that starts no placeholder",
                where=f"{path}:{line_of(text, list(json_path))}",
                hint="this field may use " + ", ".join("{%s}" % a for a in sorted(allowed)) + ", and no other '{'",
            )
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
    pos = counted = 0
    line = 1
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            break
        token = match.group(1) or match.group(2) or match.group(3)
        if token is None:
            break
        start = match.start(match.lastindex)
        line += text.count("\n", counted, start)  # counted once: the file's lines are walked a single time
        counted = start
        tokens.append((token, line))
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

    try:
        return interpolate(template, {"prefix": prefix, "suffix": suffix})
    except BuildError as err:
        err.hint = "a FIM template fills in only {prefix} and {suffix}, and a '{' must start one of them"
        raise


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
        err.hint = "the repo form fills in only {repo}, {filename} and {text}, and a '{' must start one of them"
        raise
    return head + body + tail
