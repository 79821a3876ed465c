"""Chat buffers get the bufbridge filetype and syntax, in a real Vim and a real Neovim."""

import re

import pytest

from bridge import parse

from .drivers import REPO

pytestmark = pytest.mark.editor


@pytest.mark.parametrize("name, lines, filetype", [
    ("talk.chat", ["hello"], "bufbridge"),
    ("talk.bufbridge", [], "bufbridge"),
    ("notes.txt", ["A system prompt", "!user", "hi"], "bufbridge"),
    ("untyped", ["!profile llama.cpp", "!completion", "Once"], "bufbridge"),
    ("notes.txt", ["just notes", "!username is not a directive"], "text"),
    ("script.py", ["# !user", "!user = 1"], "python"),
])
def test_chat_buffers_are_detected(editor, workdir, name, lines, filetype):
    (workdir / name).write_text("".join(line + "\n" for line in lines))
    editor.command("filetype off | filetype on")
    editor.command(f"edit {name}")
    assert editor.eval("&filetype") == filetype


CHAT = [
    "!profile llama.cpp",  # 1
    "!:temperature 0.2",  # 2
    "!note a comment",  # 3
    "You are terse.",  # 4
    "!user",  # 5
    "!!user is text",  # 6
    "!assistant",  # 7
    "<think>",  # 8
    "pondering",  # 9
    "</think>",  # 10
    "An answer.",  # 11
    "!error",  # 12
    "HTTP 500 from http://x/: boom",  # 13
    "!unknown is text, still in the error",  # 14
    "!user",  # 15
    "again",  # 16
]


@pytest.mark.parametrize("line, col, group", [
    (1, 1, "bufbridgeDirective"), (1, 12, "bufbridgeArgument"),
    (2, 1, "bufbridgeKey"), (2, 17, "bufbridgeArgument"),
    (3, 1, "bufbridgeNote"), (4, 1, ""),
    (5, 1, "bufbridgeRole"), (6, 1, "bufbridgeEscape"), (6, 4, ""),
    (8, 1, "bufbridgeThinkTag"), (9, 1, "bufbridgeThink"), (11, 1, ""),
    (12, 1, "bufbridgeError"), (13, 5, "bufbridgeError"), (14, 3, "bufbridgeError"),
    (15, 1, "bufbridgeRole"), (16, 1, ""),
])
def test_syntax_marks_each_part_of_the_language(editor, workdir, line, col, group):
    (workdir / "c.chat").write_text("".join(text + "\n" for text in CHAT))
    editor.command("filetype off | filetype on")
    editor.command("syntax on")
    editor.command("edit c.chat")
    assert editor.eval(f"synIDattr(synID({line}, {col}, 1), 'name')") == group


def test_the_syntax_knows_every_directive():
    syntax = (REPO / "syntax" / "bufbridge.vim").read_text()
    listed = re.search(r"let s:directives = '([^']*)'", syntax).group(1)
    words = {"!" + word.replace("!\\=", "") for word in listed.split("\\|")} | {"!reddit!"}
    assert words | {"!user", "!assistant", "!note", "!error"} == parse.WORDS
