"""Security rule 5 against the real CLI: files a buffer names stay in the current folder.

Every test runs ``bufbridge`` in a fresh project folder (the current folder)
next to a folder ``outside`` with canary files, a canary in the environment
(readable through ``/proc/self/environ``) and a user profile with a literal
key in the configuration folder. A loopback server captures what would be
sent. A refusal is exactly one ``!error`` line, nothing reaches the server and
no canary shows anywhere; an opt-in or a trusted profile reads what it names.
Faults (FIFOs, sockets, devices, symlink loops, huge files) end in bounded time.
"""

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import fakeserver as fs
from bridge import files
from loopback import assert_clean, run  # the real CLI, shared with the loopback tests

CANARY_FILE = "canary-outside-7a41c0"
CANARY_ENV = "canary-environ-93be2d"
CONFIG_KEY = "sk-config-literal-55f1e8"
ERROR = b"\n\n!error\n\n"
TIME_LIMIT = 15  # seconds for one bufbridge run that must not hang (generous for a busy machine)


@dataclass
class World:
    proj: Path
    outside: Path
    config: Path
    server: fs.FakeServer

    def buffer(self, *lines):
        return "".join(line + "\n" for line in (f"!api {self.server.url}/v1", "!user", *lines, "hi"))

    def run(self, *lines, args=(), env=None):
        started = time.monotonic()
        result = run(self.buffer(*lines), *args, env={"CANARY_ENV": CANARY_ENV, "HOME": str(self.outside), **(env or {})}, timeout=TIME_LIMIT)
        assert time.monotonic() - started < TIME_LIMIT
        assert_clean(result)
        return result

    def sent(self):
        """Everything the server received, as text."""
        return "".join(r.raw.decode("utf-8", "replace") for r in self.server.requests)


def reddit_thread(title, comments=()):
    return [{"data": {"children": [{"data": {"title": title, "author": "op", "subreddit": "vim", "selftext": "Body"}}]}},
            {"data": {"children": list(comments)}}]


def reply_chain(levels):
    """A reddit comment with ``levels`` levels of replies under it."""
    node = {"data": {"author": f"u{levels}", "body": f"level {levels}", "replies": ""}}
    for level in range(levels - 1, 0, -1):
        node = {"data": {"author": f"u{level}", "body": f"level {level}", "replies": {"data": {"children": [node]}}}}
    return node


def nested(depth):
    return "[" * depth + "]" * depth


@pytest.fixture
def world(tmp_path, isolated_config, monkeypatch):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "canary.txt").write_text(CANARY_FILE + "\n")
    (outside / "canary.profile").write_text(CANARY_FILE + "\n")
    (outside / "thread.json").write_text(json.dumps(reddit_thread(CANARY_FILE)))
    (outside / "issue.json").write_text(json.dumps({"title": CANARY_FILE}))

    proj = tmp_path / "proj"
    (proj / "sub").mkdir(parents=True)
    (proj / "a.py").write_text("A = 1\n")
    (proj / "sub" / "b.py").write_text("B = 2\n")
    (proj / "link_out.txt").symlink_to(outside / "canary.txt")
    (proj / "dir_out").symlink_to(outside)
    (proj / "environ.txt").symlink_to("/proc/self/environ")
    (proj / "config_link").symlink_to(isolated_config)
    (proj / "loop").symlink_to("loop")
    (proj / "evil.profile").write_text("!context ../outside/canary.txt\n")
    (proj / "fifo.txt").parent.mkdir(exist_ok=True)
    os.mkfifo(proj / "fifo.txt")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(proj / "sock.txt"))  # stays on disk as a socket file
    with open(proj / "big.txt", "wb") as f:
        f.truncate(256 << 20)  # sparse: nothing is written
    with open(proj / "limit.txt", "wb") as f:
        f.truncate(files.MAX_FILE_BYTES + 1)
    (proj / "not_reddit.json").write_text(json.dumps({"kind": "Listing"}))
    (proj / "reddit_children.json").write_text(json.dumps([{"data": {"children": {"0": 1}}}]))
    (proj / "reddit_comment.json").write_text(json.dumps(reddit_thread("T", ["not a comment"])))
    (proj / "reddit_author.json").write_text(json.dumps(reddit_thread("T", [{"data": {"author": ["x"], "body": "b"}}])))
    (proj / "deep.json").write_text(nested(5000))
    (proj / "issue_list.json").write_text("[1, 2]")
    (proj / "issue_user.json").write_text(json.dumps({"title": "T", "user": "me"}))
    (proj / "comments_object.json").write_text(json.dumps({"body": "x"}))
    (proj / "issue.json").write_text(json.dumps({"title": "T", "body": "B"}))
    (proj / "not_json.json").write_text("{")

    (isolated_config / "profiles").mkdir()
    (isolated_config / "profiles" / "secret.profile").write_text(f"!>x-api-key {CONFIG_KEY}\n{CONFIG_KEY}\n")
    monkeypatch.chdir(proj)
    with fs.FakeServer(fs.Reply(fs.openai_chat_stream(["ok"]))) as server:
        yield World(proj, outside, isolated_config, server)


def no_canary(world, result):
    for canary in (CANARY_FILE, CANARY_ENV, CONFIG_KEY):
        assert canary.encode() not in result.stdout + result.stderr
        assert canary not in world.sent()


def error_line(result):
    """The one ``!error`` line of a refused run."""
    assert result.returncode == 1, result
    assert result.stdout.startswith(ERROR) and result.stdout.endswith(b"\n"), result.stdout
    line = result.stdout[len(ERROR):-1].decode()
    assert "\n" not in line and "internal error" not in line
    return line


LONG = "x" * 300
OUTSIDE = "outside the current folder"
ALLOW = "--allow-files"

# (id, directive line, what the error line says, whether it names --allow-files)
REFUSED = [
    ("absolute", "!context {outside}/canary.txt", OUTSIDE, True),
    ("dotdot", "!context ../outside/canary.txt", OUTSIDE, True),
    ("tilde profile", "!profile ~/canary.profile", OUTSIDE, True),
    ("link out", "!context link_out.txt", "a link that leads " + OUTSIDE, True),
    ("folder link out", "!context dir_out .txt", "a link that leads " + OUTSIDE, True),
    ("walk outside", "!context .. .txt", OUTSIDE, True),
    ("reddit outside", "!reddit ../outside/thread.json", OUTSIDE, True),
    ("github outside", "!github issue.json ../outside/issue.json", OUTSIDE, True),
    ("profile path outside", "!profile {outside}/canary.profile", OUTSIDE, True),
    ("proc environ", "!context /proc/self/environ", "in /proc, which is never read", False),
    ("proc by link", "!context environ.txt", "in /proc, which is never read", False),
    ("proc walk", "!context /proc/self .txt", "in /proc, which is never read", False),
    ("sys", "!context /sys/kernel .txt", "in /sys, which is never read", False),
    ("dev zero", "!context /dev/zero", "in /dev, which is never read", False),
    ("config profile file", "!context {config}/profiles/secret.profile", "in the configuration folder", False),
    ("config profile by path", "!profile {config}/profiles/secret.profile", "in the configuration folder", False),
    ("config walk by link", "!context config_link .profile", "in the configuration folder", False),
    ("untrusted profile reads out", "!profile ./evil.profile", OUTSIDE, True),
    ("fifo", "!context fifo.txt", "a FIFO, not a regular file", False),
    ("socket", "!context sock.txt", "a socket, not a regular file", False),
    ("sparse 256 MiB", "!context big.txt", "larger than 1 MiB", False),
    ("one byte over", "!context limit.txt", "larger than 1 MiB", False),
    ("symlink loop", "!context loop", "a symlink loop", False),
    ("nul", "!context a\0b", "NUL", False),
    ("nul profile path", "!profile ./a\0b", "NUL", False),
    ("nul profile name", "!profile a\0b", "no profile named", False),
    ("long name", f"!context {LONG}", "the name is too long", False),
    ("long profile path", f"!profile ./{LONG}", "the name is too long", False),
    ("long profile name", f"!profile {LONG}", "no profile named", False),
    ("missing", "!context nope.txt", "no such file nope.txt", False),
    ("missing folder", "!context nope .py", "no such folder nope", False),
    ("missing profile file", "!profile ./nope.profile", "no such file", False),
    ("folder as file", "!context sub", "sub: a folder", False),
    ("profile is a folder", "!profile ./sub", "sub: a folder", False),
    ("file as folder", "!context a.py .py", "not a folder", False),
    ("reddit not a thread", "!reddit not_reddit.json", "not a saved reddit thread (the top level is not an array)", False),
    ("reddit children", "!reddit reddit_children.json", "[0].data.children is not an array", False),
    ("reddit comment", "!reddit reddit_comment.json", "[1].data.children[0] is not an object", False),
    ("reddit author", "!reddit reddit_author.json", "[1].data.children[0].data.author is not a string", False),
    ("reddit too deep", "!reddit deep.json", "nests deeper than", False),
    ("reddit not json", "!reddit! not_json.json", "is not JSON", False),
    ("github list", "!github issue_list.json", "not a saved GitHub issue (the top level is not an object)", False),
    ("github user", "!github issue_user.json", "user is not an object", False),
    ("github comments", "!github issue.json comments_object.json", "not a saved list of GitHub comments", False),
    ("github too deep", "!github deep.json", "nests deeper than 64", False),
]


@pytest.mark.parametrize("line, says, allow", [row[1:] for row in REFUSED], ids=[row[0] for row in REFUSED])
def test_refused_with_one_clear_line(world, line, says, allow):
    line = line.format(outside=world.outside, config=world.config)
    result = world.run(line)
    message = error_line(result)
    where = "./evil.profile:1: " if "evil" in line else "<stdin>:3: "
    assert message.startswith(where) and says in message, message
    assert (ALLOW in message) == allow, message
    assert world.server.requests == []
    no_canary(world, result)


CONFIDENTIAL = [row for row in REFUSED if OUTSIDE in row[2] or "never read" in row[2] or "configuration" in row[2]]


@pytest.mark.parametrize("line", [row[1] for row in CONFIDENTIAL], ids=[row[0] for row in CONFIDENTIAL])
def test_a_dry_run_refuses_the_same_way(world, line):
    line = line.format(outside=world.outside, config=world.config)
    result = world.run(line, "!debug")
    assert error_line(result) == error_line(world.run(line))  # no request shown: the same one line
    no_canary(world, result)


# Never read for a buffer, even with the opt-in.
NEVER = [
    ("proc", "!context /proc/self/environ", "in /proc"),
    ("dev", "!context /dev/zero", "in /dev"),
    ("config", "!context {config}/profiles/secret.profile", "in the configuration folder"),
    ("config profile", "!profile {config}/profiles/secret.profile", "in the configuration folder"),
    ("fifo outside", "!context {outside}/fifo", "a FIFO"),
]


@pytest.mark.parametrize("line, says", [row[1:] for row in NEVER], ids=[row[0] for row in NEVER])
def test_never_read_even_with_the_opt_in(world, line, says):
    os.mkfifo(world.outside / "fifo")
    result = world.run(line.format(outside=world.outside, config=world.config), args=["--allow-files"])
    assert says in error_line(result)
    assert world.server.requests == []
    no_canary(world, result)


# How the opt-in is given: (id, command-line arguments, config.toml)
OPT_INS = [
    ("option", ["--allow-files"], None),
    ("config file", [], "allow_files = true\n"),
]
OUTSIDE_READS = [
    "!context ../outside/canary.txt",
    "!context {outside}/canary.txt",
    "!context link_out.txt",
    "!context dir_out .txt",
    "!profile ~/canary.profile",
    "!reddit ../outside/thread.json",
    "!github ../outside/issue.json",
    "!profile ./evil.profile",
]


@pytest.mark.parametrize("args, config", [row[1:] for row in OPT_INS], ids=[row[0] for row in OPT_INS])
@pytest.mark.parametrize("line", OUTSIDE_READS)
def test_the_opt_in_reads_outside(world, args, config, line):
    if config:
        (world.config / "config.toml").write_text(config)
    result = world.run(line.format(outside=world.outside), args=args)
    assert (result.returncode, result.stdout) == (0, b"\n\n!assistant\n\nok"), result
    assert CANARY_FILE in world.server.requests[0].text


@pytest.mark.parametrize("value", ['"yes"', "1", '"false"'])
def test_the_config_flag_must_be_true_or_false(world, value):
    (world.config / "config.toml").write_text(f"allow_files = {value}\n")
    message = error_line(world.run("!context a.py"))
    assert "allow_files" in message and "true or false" in message
    assert world.server.requests == []


@pytest.mark.parametrize("how", ["user profile", "--profile path", "BUFBRIDGE_PROFILE path"])
def test_trusted_profiles_read_where_they_like(world, how):
    text = f"!context {world.outside}/canary.txt\n"
    args, env = [], {}
    if how == "user profile":
        (world.config / "profiles" / "reader.profile").write_text(text)
        result = world.run("!profile reader")
    else:
        (world.outside / "reader.profile").write_text(text)
        if how == "--profile path":
            args = ["--profile", str(world.outside / "reader.profile")]
        else:
            env = {"BUFBRIDGE_PROFILE": str(world.outside / "reader.profile")}
        result = world.run(args=args, env=env)
    assert result.returncode == 0, result
    assert CANARY_FILE in world.server.requests[0].text


def test_inside_the_folder_reads_as_before(world):
    (world.proj / "inside.profile").write_text("!context sub/b.py\n")
    result = world.run("!context a.py", "!context sub/ .py", "!profile ./inside.profile", "!profile sub/../inside.profile")
    assert result.returncode == 0, result
    text = world.server.requests[0].json["messages"][0]["content"]
    assert [l for l in text.splitlines() if l.startswith("**")] == ["**`a.py`**", "**`b.py`**", "**`sub/b.py`**", "**`sub/b.py`**"]
    assert "**`a.py`**\n```\nA = 1\n```" in text and "**`b.py`**\n```\nB = 2\n```" in text


def test_a_walk_skips_what_it_may_not_read_and_says_so(world):
    (world.proj / "big.txt").unlink()
    (world.proj / "limit.txt").unlink()
    result = world.run("!context . .txt .profile")
    assert result.returncode == 0, result
    sent = world.server.requests[0].json["messages"][0]["content"]
    assert "**`./a.py`**" not in sent  # suffixes filter
    no_canary(world, result)
    note = result.stdout.decode().split("!note ", 1)[1]
    assert note.startswith("<stdin>:3: !context left out 6 files: ./config_link/ (in the configuration folder"), note
    for name in ("./dir_out/ (a link that leads outside", "./environ.txt (in /proc", "./fifo.txt (a FIFO", "./link_out.txt (a link", "and 1 more"):
        assert name in note, note
    assert ALLOW in note and "\n" not in note.rstrip("\n")


def test_a_walk_in_a_dry_run_shows_no_outside_content(world):
    result = world.run("!context . .txt", "!debug")
    assert result.returncode == 1 and "larger than 1 MiB" in error_line(result)  # big.txt is in the walk
    (world.proj / "big.txt").unlink()
    (world.proj / "limit.txt").unlink()
    result = world.run("!context . .txt", "!debug")
    assert result.returncode == 0 and world.server.requests == []
    no_canary(world, result)
    assert b"left out" in result.stdout


def test_symlink_loops_visit_each_real_folder_once(world):
    tree = world.proj / "tree"
    (tree / "deeper").mkdir(parents=True)
    (tree / "x.py").write_text("X\n")
    (tree / "deeper" / "y.py").write_text("Y\n")
    (tree / "l1").symlink_to(".")
    (tree / "l2").symlink_to(".")
    (tree / "deeper" / "up").symlink_to("..")
    (tree / "deeper" / "self").symlink_to(tree / "deeper")
    result = world.run("!context tree .py")
    assert result.returncode == 0, result
    sent = world.server.requests[0].json["messages"][0]["content"]
    assert [l for l in sent.splitlines() if l.startswith("**")] == ["**`tree/deeper/y.py`**", "**`tree/x.py`**"]


def test_a_deep_folder_does_not_recurse(world):
    path = world.proj
    for _ in range(300):
        path = path / "d"
    path.mkdir(parents=True)
    (path / "z.py").write_text("Z\n")
    result = world.run("!context d .py")
    assert result.returncode == 0, result
    assert "Z\n" in world.server.requests[0].json["messages"][0]["content"]


def test_a_walk_has_a_total_limit(world):
    (world.proj / "big.txt").unlink()
    (world.proj / "limit.txt").unlink()
    many = world.proj / "many"
    many.mkdir()
    chunk = "x" * (files.MAX_FILE_BYTES - 10) + "\n"
    for i in range(files.MAX_TOTAL_BYTES // files.MAX_FILE_BYTES + 1):
        (many / f"{i:02}.txt").write_text(chunk)
    message = error_line(world.run("!context many .txt"))
    assert message.startswith("<stdin>:3: !context: many: its files add up to more than 8 MiB")
    assert world.server.requests == []


def test_deep_reddit_replies_are_read_without_recursion(world):
    (world.proj / "thread.json").write_text(json.dumps(reddit_thread("T", [reply_chain(60)])))
    result = world.run("!reddit thread.json")
    assert result.returncode == 0, result
    text = world.server.requests[0].json["messages"][0]["content"]
    assert ">" * 60 + " level 60" in text.splitlines()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_permission_denied_is_one_clear_line(world):
    (world.proj / "locked.txt").write_text("x\n")
    (world.proj / "locked.txt").chmod(0)
    assert "locked.txt: permission denied" in error_line(world.run("!context locked.txt"))
