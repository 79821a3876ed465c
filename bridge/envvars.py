"""``$VAR`` / ``${VAR}`` expansion that remembers what it expanded.

Every expanded value is a secret for redaction (security rule 3), and the
variable names are kept so that messages can say ``$OPENAI_API_KEY`` instead
of the value.
"""

import re
from dataclasses import dataclass

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

    template: str = ""


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
    return Expansion(value, tuple(names), tuple(secrets), tuple(missing), template=text)
