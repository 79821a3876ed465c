"""Bench tasks: holes that put the original back exactly, sampled with a seed, from the files a user would want read."""

import os
import subprocess

import pytest

from benchkit import REPO
from bridge import fim
from bridge.bench import tasks
from bridge.errors import BridgeError

PYTHON = '''import os


def area(width, height):
    """The area."""
    if width < 0 or height < 0:
        raise ValueError("negative")
    return width * height


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y
'''
C = """#include <stdio.h>

int main(void) {
    int total = 0;
    for (int i = 0; i < 10; i++) {
        total += i;
    }
    printf("%d\\n", total);  // é in a comment: columns count bytes
    return 0;
}
"""


@pytest.mark.parametrize("name, text", [("geo.py", PYTHON), ("sum.c", C), ("plain.txt", "alpha beta(gamma, delta) = 12\n")])
@pytest.mark.parametrize("kind", tasks.KINDS)
def test_every_hole_puts_the_original_back_through_the_infill_split(name, text, kind):
    """prefix + expected + suffix, as ``fim.split`` cuts the file at the hole's cursor, is the original file."""
    found = tasks.holes(name, text, kind)
    if kind != "block" or name != "plain.txt":
        assert found, f"no {kind} hole in {name}"
    for hole in found:
        task = tasks.cut(name, "root", text, kind, hole)
        ctx = fim.split(task.text, task.line, task.col, name)
        assert fim.prefix_text(ctx) + task.expected + fim.suffix_text(ctx) == text, task
        assert task.expected.strip() and task.id == f"{name}:{task.line}:{task.col}:{kind}"


@pytest.mark.parametrize("kind, line, expected", [
    ("line", 'raise ValueError("negative")', ['raise ValueError("negative")']),
    ("block", "if width < 0 or height < 0:", ['raise ValueError("negative")']),
    ("block", "def __init__(self, x, y):", ["self.x = x\n        self.y = y"]),
])
def test_hole_texts(kind, line, expected):
    """Whole lines start after the indentation (which stays, as an editor keeps it); block bodies are the lines under a ':' or '{'."""
    lines = PYTHON.split("\n")
    index = lines.index(next(l for l in lines if l.strip() == line))
    got = [h[3] for h in tasks.holes("geo.py", PYTHON, kind) if h[0] == index + (kind == "block")]
    assert got == expected


def test_comment_lines_and_long_lines_are_not_holes():
    text = "# a comment that is long enough\nx = 1\n" + "y = [" + "1, " * 80 + "]\n"
    assert [h[3] for h in tasks.holes("a.py", text, "line")] == ["x = 1"]


def test_a_block_longer_than_the_limit_is_not_a_hole():
    body = "".join(f"    x{i} = {i}\n" for i in range(tasks.MAX_BLOCK_LINES + 1))
    assert tasks.holes("a.py", "def f():\n" + body + "\nz = 1\n", "block") == []
    assert len(tasks.holes("a.py", "def f():\n" + body[: body.index("x12")] + "\nz = 1\n", "block")) == 1


def source(folder, env=None):
    return tasks.Source(str(folder), dict(os.environ) if env is None else env)


def test_sampling_is_deterministic_and_takes_the_kinds_in_turn():
    first = tasks.sample([source(REPO)], 8, 3)
    again = tasks.sample([source(REPO)], 8, 3)
    other = tasks.sample([source(REPO)], 8, 4)
    assert [t.id for t in first] == [t.id for t in again] != [t.id for t in other]
    assert [t.kind for t in first] == list(tasks.KINDS) * 2
    assert len({t.id for t in first}) == 8 and {t.path for t in first} == {"src/shapes.py", "src/stack.js"}


def test_a_kind_no_file_has_is_dropped_and_the_count_is_a_maximum(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\ny = 2\n")
    got = tasks.sample([source(tmp_path)], 50, 1, ("block", "line"))
    assert sorted(t.expected for t in got) == ["x = 1", "y = 2"]


def test_a_file_can_be_named_and_two_paths_holding_the_same_names_give_distinct_tasks(tmp_path):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "a.py").write_text("x = compute(1, 2)\n")
    single = tasks.sample([source(tmp_path / "one" / "a.py")], 2, 1, ("line",))
    assert [(t.id, t.path, t.expected) for t in single] == [("a.py:1:1:line", "a.py", "x = compute(1, 2)")]
    both = tasks.sample([source(tmp_path / "one"), source(tmp_path / "two")], 2, 1, ("line",))
    assert sorted(t.id for t in both) == [f"{tmp_path}/one/a.py:1:1:line", f"{tmp_path}/two/a.py:1:1:line"]
    assert {t.path for t in both} == {"a.py"}  # the name the model is shown stays the file's name in its folder


def git(folder, *args):
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})


def test_a_git_work_tree_lists_its_files_with_gitignore_respected_and_secrets_left_out(tmp_path):
    git(tmp_path, "init", "-q")
    for name in ("main.py", "build/gen.py", "notes.md", "secrets.py", ".env.py", "ignored.py", "new.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    (tmp_path / ".gitignore").write_text("ignored.py\nbuild/\n")
    git(tmp_path, "add", "main.py", ".gitignore", "secrets.py")
    assert tasks.source_names(str(tmp_path)) == ["main.py", "new.py"]  # untracked but not ignored: listed


def test_a_plain_folder_is_walked_without_hidden_or_vendored_folders(tmp_path):
    for name in ("a.py", "sub/b.go", ".hidden/c.py", "node_modules/d.js", "credentials.py", "e.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    assert tasks.source_names(str(tmp_path)) == ["a.py", "sub/b.go"]


def test_files_are_read_through_the_confined_reader(tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET = 1\n")
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "a.py").write_text("x = 1\r\ny = 2\r\n")
    (folder / "link.py").symlink_to(outside)
    src = source(folder)
    assert src.names == ["a.py", "link.py"]
    assert src.text("a.py") == "x = 1\ny = 2\n"  # CRLF read as the editor shows it
    assert src.text("link.py") is None and src.skipped == [("link.py", "a link that leads outside the current folder")]
    assert {t.path for t in tasks.sample([src], 10, 1)} == {"a.py"}


CHATS = [
    ({"a.chat": "!user\nhi\n"}, "bench --chat {d}/a.chat: no check file; put exactly one of a.expect, a.regex or a.check beside it"),
    ({"a.chat": "!user\nhi\n", "a.expect": "x", "a.regex": "x"}, "bench --chat {d}/a.chat: more than one check file; put exactly one of a.expect, a.regex or a.check beside it"),
    ({"a.chat": "!user\nhi\n", "a.regex": "(unclosed"}, "{d}/a.regex: not a regular expression: missing ), unterminated subpattern at position 0; fix the pattern (Python syntax)"),
    ({"notes.txt": "x"}, "bench --chat {d}: no *.chat or *.bufbridge buffers in it; add NAME.chat with NAME.expect, NAME.regex or NAME.check"),
]


@pytest.mark.parametrize("files, message", CHATS)
def test_chat_folder_mistakes(tmp_path, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(BridgeError) as caught:
        tasks.chat_tasks(str(tmp_path), dict(os.environ))
    assert str(caught.value) == message.format(d=tmp_path)


def test_chat_tasks_are_sorted_with_their_checks(tmp_path):
    for name, text in {"b.chat": "!user\nb\n", "b.check": "true\n", "a.bufbridge": "!user\na\n", "a.expect": "A\n", "c.txt": ""}.items():
        (tmp_path / name).write_text(text)
    got = tasks.chat_tasks(str(tmp_path), dict(os.environ))
    assert [(t.id, t.check, t.spec) for t in got] == [("chat:a.bufbridge", "expect", "A\n"), ("chat:b.chat", "check", str(tmp_path / "b.check"))]
