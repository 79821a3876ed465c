"""``$VAR`` / ``${VAR}`` expansion that remembers what it expanded, and redaction.

Every expanded value is a secret (security rule 4): ``redact`` removes it
from any text in every form it can take there, and the variable names are
kept so that messages can say ``$OPENAI_API_KEY`` instead of the value.
"""

import json
import re
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from .errors import printable

VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Expansion:
    """A value after expansion, with the names and values that went into it."""

    value: str
    names: tuple = ()
    secrets: tuple = ()
    missing: tuple = ()

    def redacted(self):
        """The value with each expanded variable shown by name, never by value."""
        return VAR.sub(lambda m: f"[redacted ${m.group(1) or m.group(2)}]", self.template)

    def unsendable(self):
        """``(name, what)`` for each variable whose value cannot go into a header, saying what is wrong but not the value."""
        for name, value in self.values:
            bad = UNSENDABLE.search(value)
            if bad:
                yield name, describe(bad.group())

    template: str = ""
    values: tuple = ()  # ((name, value), ...) of the variables that were set


def references(text):
    """The variable names ``text`` refers to, in order."""
    return tuple(m.group(1) or m.group(2) for m in VAR.finditer(text))


def expand(text, env):
    """Expand ``$VAR`` and ``${VAR}`` from ``env``; unset variables become empty."""
    names, secrets, missing = [], [], []

    def one(match):
        name = match.group(1) or match.group(2)
        names.append(name)
        if name not in env:
            missing.append(name)
            return ""
        value = env[name]
        if value:
            secrets.append(value)
        return value

    value = VAR.sub(one, text)
    values = tuple((name, env[name]) for name in dict.fromkeys(names) if name in env)
    return Expansion(value, tuple(names), tuple(secrets), tuple(missing), template=text, values=values)


UNSENDABLE = re.compile(r"[^\x20-\x7e]")  # a key is printable ASCII: no CR, LF, tab, NUL, or other character
_CONTROL_NAMES = {"\r": "a carriage return (\\r)", "\n": "a line break (\\n)", "\t": "a tab", "\0": "a NUL (\\0)"}


def describe(char):
    """How a message names a character that cannot be sent, without quoting what surrounds it."""
    if char.isascii():
        return _CONTROL_NAMES.get(char) or f"a control character ({printable(char)})"
    return "a non-ASCII character"


def renderings(secret):
    """Every way ``secret`` can be written in a message: raw, trimmed, JSON-, repr-, bytes-repr-, escape- and percent-encoded."""
    forms = set()
    for value in {secret, secret.strip()}:
        forms.update((
            value,
            json.dumps(value)[1:-1],
            json.dumps(value)[1:-1].replace("/", "\\/"),  # JSON writers that escape the solidus
            json.dumps(value, ensure_ascii=False)[1:-1],
            repr(value)[1:-1],
            repr(value.encode("utf-8", "surrogatepass"))[2:-1],
            printable(value),
            quote(value, safe=""),
            quote(value),
            quote_plus(value),
        ))
    return forms


def redact(text, secrets):
    """``text`` with every rendering of every secret replaced by ``[redacted]``."""
    forms = {form for secret in secrets for form in renderings(secret) if len(form) >= 4}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "[redacted]")
    return text
