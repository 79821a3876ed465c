"""Split buffer-language text into classified lines.

This is the lexical half of the language: it knows which words are
directives, but nothing about what they do. The loader (``load.py``) gives
them meaning, for the buffer and for profiles alike.
"""

from dataclasses import dataclass

# Directives whose first word is matched exactly.
WORDS = frozenset(
    {
        "!profile", "!api", "!completion", "!infill", "!context", "!note",
        "!begin", "!end", "!error", "!exclude", "!prepend", "!stats", "!debug",
        "!reddit", "!reddit!", "!github", "!gpt-oss", "!user", "!assistant", "!wire", "!heuristics",
    }
)


@dataclass(frozen=True)
class Line:
    """One input line: ``word`` is the directive name, or None for text."""

    lineno: int
    text: str
    word: str | None = None
    args: str = ""


def split_lines(text):
    """Split on ``\\n`` and drop one trailing ``\\r`` per line (CRLF == LF)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # text ending in a newline has no extra empty line
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def classify(lineno, line):
    """Classify one line. ``!!`` escapes a text line that starts with ``!``."""
    if line.startswith("!!"):
        return Line(lineno, line[1:])
    word, _, args = line.partition(" ")
    if word in WORDS:
        return Line(lineno, line, word, args)
    if len(word) > 2 and word[:2] in ("!:", "!>"):
        return Line(lineno, line, word[:2], args)
    return Line(lineno, line)


def key_of(line):
    """The KEY of a ``!:KEY`` or the HEADER of a ``!>HEADER`` line."""
    return line.text.partition(" ")[0][2:]


def scan(text):
    """Yield the classified lines of ``text``, numbered from 1."""
    for lineno, line in enumerate(split_lines(text), start=1):
        yield lineno, line


def near_miss(line):
    """The directive a text line starting with ``!`` looks like a misspelling of (``!User``, ``! user``, ``!usr``,
    ``!user:``), or None. Such a line is text, as in Illume; this only lets the user hear about it."""
    if not line.startswith("!") or line.startswith("!!"):
        return None
    word = line[1:].strip().partition(" ")[0].rstrip(":").lower()
    if len(word) < 3 or word.startswith((":", ">")):
        return None
    names = sorted(w[1:] for w in WORDS)
    if word in names:
        return "!" + word
    import difflib  # only for a line that is no directive: most runs never need it

    close = difflib.get_close_matches(word, names, n=1, cutoff=0.75)
    return "!" + close[0] if close else None
