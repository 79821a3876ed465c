"""!context, !reddit and !github put file contents into the message being written."""

import json

import pytest

from bridge.errors import DirectiveError

from .helpers import request


def messages(text, monkeypatch, cwd):
    monkeypatch.chdir(cwd)
    return request(text).json["messages"]


def test_context_file_is_fenced(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("print('hi')\n")
    got = messages("!context a.py\n!user\nExplain.\n", monkeypatch, tmp_path)
    assert got[0] == {"role": "system", "content": "**`a.py`**\n```\nprint('hi')\n```"}


def test_fence_is_longer_than_longest_backtick_run(tmp_path, monkeypatch):
    (tmp_path / "doc.md").write_text("````\ncode\n````\ninline ``````x``````\n")
    got = messages("!user\n!context doc.md\n", monkeypatch, tmp_path)
    assert got[0]["content"].splitlines()[1] == "`" * 7


def test_context_folder_walk_order_and_names(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    (root / "sub").mkdir(parents=True)
    (root / "b.py").write_text("b\n")
    (root / "a.py").write_text("a\n")
    (root / "sub" / "c.py").write_text("c\n")
    (root / "notes.txt").write_text("skip\n")
    got = messages("!user\n!context proj .py\n", monkeypatch, tmp_path)[0]["content"]
    assert [l for l in got.splitlines() if l.startswith("**")] == ["**`proj/a.py`**", "**`proj/b.py`**", "**`proj/sub/c.py`**"]
    got = messages("!user\n!context proj/ .py\n", monkeypatch, tmp_path)[0]["content"]
    assert got.splitlines()[0] == "**`a.py`**"


def test_context_in_the_current_message(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("x\n")
    got = messages("sys\n!user\nLook:\n!context f\nWell?\n", monkeypatch, tmp_path)
    assert got[1]["content"] == "Look:\n**`f`**\n```\nx\n```\n\nWell?"


def test_context_missing_file_error_has_location(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DirectiveError) as err:
        request("!user\n\n!context nope.txt\n")
    assert err.value.where == "<stdin>:3" and "nope.txt" in err.value.message


def test_reddit_thread(tmp_path, monkeypatch):
    thread = [
        {"data": {"children": [{"data": {"title": "T", "author": "op", "subreddit": "vim", "selftext": "Body"}}]}},
        {"data": {"children": [{"data": {"author": "c1", "body": "one\ntwo", "replies": {"data": {"children": [{"data": {"author": "c2", "body": "deep"}}]}}}}]}},
    ]
    (tmp_path / "t.json").write_text(json.dumps(thread))
    with_comments = messages("!user\n!reddit t.json\n", monkeypatch, tmp_path)[0]["content"]
    assert with_comments == "# Reddit Post\n\nT\nby u/op in r/vim\n---\nBody\n---\n\nu/c1:\n> one\n> two\n\n> u/c2:\n>> deep\n---"
    without = messages("!user\n!reddit! t.json\n", monkeypatch, tmp_path)[0]["content"]
    assert without == "# Reddit Post\n\nT\nby u/op in r/vim\n---\nBody\n---"


def test_github_issue(tmp_path, monkeypatch):
    (tmp_path / "i.json").write_text(json.dumps({"html_url": "https://gh/i/1", "title": "Bug", "user": {"login": "me"}, "body": "It breaks."}))
    (tmp_path / "c.json").write_text(json.dumps([{"user": {"login": "you"}, "body": "Works here.\nReally."}]))
    got = messages("!user\n!github i.json c.json\n", monkeypatch, tmp_path)[0]["content"]
    assert got == "---\nhttps://gh/i/1\nBug\nby @me\n\nIt breaks.\n\n@you:\n> Works here.\n> Really.\n---"
