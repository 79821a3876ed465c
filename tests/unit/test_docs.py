"""The README is the one source of the reference; :help carries it, generated, and neither misses a name."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bridge import cli, parse, serve

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
HELP = (REPO / "doc" / "bufbridge.txt").read_text(encoding="utf-8")
REFERENCE = HELP[HELP.index("\nREFERENCE "):HELP.index("\nABOUT ")]
PLUGIN = (REPO / "plugin" / "bufbridge.vim").read_text() + "".join(
    path.read_text() for path in sorted((REPO / "autoload").rglob("*.vim")))


def test_the_help_files_reference_is_generated_from_the_readme():
    check = subprocess.run([sys.executable, str(REPO / "scripts" / "gendoc.py"), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def _options(p):
    return sorted({o for action in p._actions for o in action.option_strings if o.startswith("--") and o != "--help"})


@pytest.mark.parametrize("option", _options(cli.parser()) + _options(serve.parser()))
def test_every_command_line_option_is_in_the_reference(option):
    assert re.search(rf"`{re.escape(option)}\b", REFERENCE), f"{option} is in neither the README's tables nor :help"


@pytest.mark.parametrize("word", sorted(parse.WORDS | {"!:", "!>"}))
def test_every_directive_is_in_the_reference(word):
    assert f"`{word}" in REFERENCE, f"{word} is in neither the README's directive tables nor :help"


@pytest.mark.parametrize("name", sorted(
    set(re.findall(r"\b[gb]:bufbridge_[a-z_]+", PLUGIN))
    | set(re.findall(r"<Plug>\([\w-]+\)", PLUGIN))
    | set(re.findall(r"command! -bar (\w+)", PLUGIN))
))
def test_every_editor_command_map_and_option_is_in_both(name):
    assert name in README, f"{name} is missing from the README"
    assert name in HELP, f"{name} is missing from :help bufbridge"
