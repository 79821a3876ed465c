#!/usr/bin/env python3
"""Write the reference part of ``doc/bufbridge.txt`` from the README's tables.

The README is the one source for every directive, command-line option,
environment variable and stop heuristic: this script renders its tables as
the ``REFERENCE`` section of the Vim help file, so ``:help bufbridge-reference``
says exactly what the README says. ``--check`` exits 1 when the help file is
out of date (the test suite runs it).

    python scripts/gendoc.py          # rewrite the section
    python scripts/gendoc.py --check  # is it up to date?
"""

import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
HELP = ROOT / "doc" / "bufbridge.txt"
WIDTH = 78
KEY_WIDTH = 24  # the first column; a longer key gets its description on the next line

# (README section heading, help sub-heading, help tag): the README tables that are the reference.
SECTIONS = (
    ("### Messages", "Directives: messages", "bufbridge-directives"),
    ("### Request settings", "Directives: request settings", None),
    ("### Modes", "Directives: modes", None),
    ("### Text from files", "Directives: text from files", None),
    ("### Control and output", "Directives: control and output", None),
    ("## Profiles", "Built-in profiles", "bufbridge-profiles"),
    ("### Backends and wire formats", "Backends and wire formats (!wire NAME)", "bufbridge-backends"),
    ("## Command line", "The bufbridge command", "bufbridge-cli"),
    ("## Fill in the middle", "Cursor infill options (bufbridge --infill-at)", "bufbridge-infill-options"),
    ("### FIM templates", "FIM templates (--fim NAME, !profile fim:NAME)", "bufbridge-fim-templates"),
    ("### Stop heuristics", "Stop heuristics (--no-stop NAME)", "bufbridge-stop-heuristics"),
    ("## A local model: `bufbridge serve`", "A local model: bufbridge serve", "bufbridge-serve"),
    ("## Which profile serves you better: `bufbridge bench`", "Which profile serves you better: bufbridge bench", "bufbridge-bench"),
)
HEADER = "REFERENCE"
TAG = "bufbridge-reference"
INTRO = (
    "The buffer language and the bufbridge command, as in the README (this section\n"
    "is generated from it by scripts/gendoc.py, so the two always agree).\n"
)


def tables(markdown, heading):
    """The tables of the README section that starts at ``heading``, up to the next heading."""
    lines = markdown.splitlines()
    start = lines.index(heading) + 1
    found, rows = [], []
    for line in lines[start:]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append(_cells(line))
        elif rows:
            found.append(rows)
            rows = []
    if rows:
        found.append(rows)
    # drop each table's header and its |---| line
    return [[row for row in table[2:]] for table in found]


def _cells(line):
    cells = re.split(r"(?<!\\)\|", line.strip()[1:-1])
    return [_plain(cell.strip().replace("\\|", "|")) for cell in cells]


def _plain(text):
    """Markdown inline markup as help text: links lose their targets, emphasis its stars (a *word* is a tag in help)."""
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = text.replace("**", "")
    text = re.sub(r"`` (.+?) ``", r"\1", text)
    return re.sub(r"(?<![`\w])\*([^*`]+)\*(?![`\w])", r"\1", text)


def render_row(cells):
    """One table row: the first cell as the key, the others as its wrapped description."""
    key, rest = cells[0], " — ".join(cell for cell in cells[1:] if cell)
    indent = " " * KEY_WIDTH
    if len(key) < KEY_WIDTH - 1:
        first = key.ljust(KEY_WIDTH)
        lines = textwrap.wrap(rest, WIDTH, initial_indent=first, subsequent_indent=indent, break_on_hyphens=False)
        return lines or [key]
    return [key] + textwrap.wrap(rest, WIDTH, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False)


def _heading(title, tag):
    if not tag:
        return [title]
    tag = f"*{tag}*"
    return [title + " " * (WIDTH - len(title) - len(tag)) + tag]


def render(markdown):
    """The whole REFERENCE section, from its heading to the blank line before ABOUT."""
    out = [*_heading(HEADER, TAG), "", *INTRO.splitlines()]
    for heading, title, tag in SECTIONS:
        out += ["", *_heading(title, tag)]
        for table in tables(markdown, heading):
            out.append("")
            for row in table:
                out += render_row(row)
    text = "\n".join(out) + "\n"
    stray = [tag for tag in TAGS.findall(text) if tag not in {TAG} | {t for *_, t in SECTIONS}]
    if stray:  # helptags would make these tags (and may find them twice): reword the README
        raise SystemExit(f"the README's tables would define help tags: {', '.join(stray)}")
    return text


TAGS = re.compile(r"\*([^*\s|]+)\*")


def split_help(text):
    """(before, reference, after) of the help file; reference is "" when it has none yet."""
    marker = f"\n\n{HEADER} "
    about = "\n\nABOUT "
    end = text.index(about) + 2
    start = text.find(marker)
    if start < 0:
        return text[:end], "", text[end:]
    return text[:start + 2], text[start + 2:end], text[end:]


def updated(help_text, markdown):
    before, _, after = split_help(help_text)
    return before + render(markdown) + "\n" + after


def main(argv):
    markdown = README.read_text(encoding="utf-8")
    current = HELP.read_text(encoding="utf-8")
    wanted = updated(current, markdown)
    if "--check" in argv:
        if wanted != current:
            print("doc/bufbridge.txt is out of date: run python scripts/gendoc.py", file=sys.stderr)
            return 1
        return 0
    HELP.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
