""":BufBridgeInfill in a real Vim and a real Neovim: cursor infill in source files, the !infill marker elsewhere.

Cursor infill (security rule 4) runs ``bufbridge --infill-at LINE:COL``: the
file is text, so a line ``!api URL`` in it must not redirect the request.
``server`` is where the editor's settings send it (the profile ``box``);
``other`` is the server a line in the buffer names.
"""

import json
import os
import subprocess
import sys

import pytest

import fakeserver as fs

from .drivers import REPO, EditorError, descendants, wait_until
from .test_stream import wait_no_filter

pytestmark = pytest.mark.editor

KINDS = ["vim", "nvim"]
BOX = "let g:bufbridge_infill_args = ['--profile', 'box', '--no-stop', 'all']"
# Neovim's python ftplugin asks has('python3'), which looks for a Python provider: a second per test.
NO_PROVIDER = "let g:loaded_python3_provider = 0"


@pytest.fixture
def other():
    """A server named by a line of the buffer."""
    with fs.FakeServer(timeout=20) as srv:
        yield srv


@pytest.fixture
def start(start_editor):
    """``start_editor``, with no Python provider for Neovim to look for."""
    def start_quickly(kind, *, before=(), command=None):
        return start_editor(kind, before=[NO_PROVIDER, *before], command=command)
    return start_quickly


def wait_done(editor, timeout=15):
    wait_until(lambda: not editor.eval("exists('b:bufbridge_job')"), timeout, message="the reply to finish")


def source_of(lines):
    """The text the filter reads for ``lines``."""
    return "".join(line + "\n" for line in lines)


def offset(lines, lnum, col):
    """The character offset of (lnum, col) in ``source_of(lines)``, for ASCII lines."""
    return len(source_of(lines[: lnum - 1])) + col - 1


def infill_in_python(editor, lines, lnum, col):
    editor.set_lines(lines)
    editor.command("set filetype=python")
    editor.command(f"call cursor({lnum}, {col})")
    editor.command("BufBridgeInfill")


@pytest.mark.parametrize("kind", KINDS)
def test_cursor_infill_reads_the_file_as_text_and_inserts_at_the_cursor(kind, start, server, other, box):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(['"a": 1,', '\n        "b"', ": 2\n    "]))
    other.reply = fs.Reply(fs.llama_stream(["stolen"]))
    editor = start(kind, before=[BOX])
    text = [f"!api {other.url}/", "!profile openai", "def f():", "    return {}", "print(f())"]
    infill_in_python(editor, text, 4, 13)  # between the braces
    wait_done(editor)

    assert other.requests == [], "a line of the file redirected the request"
    got = server.requests[0]
    assert got.path == "/infill"
    source, cut = source_of(text), offset(text, 4, 13)
    assert got.json["input_prefix"] == source_of(text[:3])
    assert got.json["prompt"] == "    return {"
    assert got.json["input_suffix"] == source[cut:] == "}\nprint(f())\n"
    assert editor.lines() == text[:3] + ['    return {"a": 1,', '        "b": 2', "    }", "print(f())"]
    assert editor.eval("[line('.'), col('.')]") == [6, 5], "the cursor should stay on the brace"
    assert "process of its own" not in editor.messages()  # the host did it

    editor.feed("u")
    wait_until(lambda: editor.lines() == text, message="one u to remove the whole infill")


@pytest.mark.parametrize("kind", KINDS)
def test_a_failed_cursor_infill_says_why_and_leaves_the_buffer_alone(kind, start, isolated_config):
    (isolated_config / "profiles").mkdir()
    port = fs.closed_port()
    (isolated_config / "profiles" / "box.profile").write_text(f"!api http://127.0.0.1:{port}/\n")
    editor = start(kind, before=[BOX])
    text = ["def f():", "    return 1"]
    editor.set_lines(text)
    editor.command("set filetype=python | call cursor(2, 5)")
    tick = editor.eval("b:changedtick")
    editor.command("BufBridgeInfill")
    wait_done(editor)

    assert editor.lines() == text
    assert editor.eval("b:changedtick") == tick
    messages = editor.messages()
    assert f"bufbridge: error: cannot connect to http://127.0.0.1:{port}/infill: connection refused" in messages
    assert "exited with status" not in messages


def test_a_message_too_long_for_the_command_line_shows_its_first_clause_and_keeps_the_rest(start, isolated_config):
    (isolated_config / "profiles").mkdir()
    port = fs.closed_port()
    (isolated_config / "profiles" / "box.profile").write_text(f"!api http://127.0.0.1:{port}/\n")
    editor = start("vim", before=[BOX])
    editor.set_lines(["def f():", "    return 1"])
    editor.command("set filetype=python | call cursor(2, 5)")
    editor.command("BufBridgeInfill")
    wait_done(editor)

    def command_line():
        return editor.eval("join(map(range(1, &columns), {_, c -> screenstring(&lines, c)}), '')").rstrip()

    what = f"bufbridge: error: cannot connect to http://127.0.0.1:{port}/infill: connection refused (no server is listening there)"
    shown = wait_until(lambda: command_line().endswith(" (see :messages)") and command_line(), message="the short form")
    head = shown.removesuffix(" (see :messages)").removesuffix("...")
    assert what.startswith(head) and len(head) > len("bufbridge: error: cannot connect to"), shown
    assert len(shown) < editor.eval("&columns")  # it fits: Vim does not cut it in the middle
    assert what + "; start a local server with `bufbridge serve`" in editor.messages()


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_cursor_infill_changes_nothing(kind, start, server, box):
    server.routes["/infill"] = fs.Reply(fs.llama_stream([]))
    editor = start(kind, before=["let g:bufbridge_infill_args = ['--profile', 'nowhere']"])
    text = ["x = 1", "y = "]
    editor.set_lines(text)
    editor.command("set filetype=python | let b:bufbridge_infill_args = '--profile box'")  # beats g:
    tick = editor.eval("b:changedtick")
    editor.command("call cursor(2, 5)")
    editor.command("BufBridgeInfill")
    wait_done(editor)
    assert len(server.requests) == 1
    assert editor.lines() == text
    assert editor.eval("b:changedtick") == tick


# (filetype, editor settings, b:bufbridge_infill, the mode that must be used)
MODES = [
    ("", [], None, "marker"),
    ("markdown", [], None, "marker"),
    ("text", [], None, "marker"),
    ("markdown.pandoc", [], None, "marker"),
    ("c.doxygen", [], None, "cursor"),
    ("python", [], "marker", "marker"),
    ("markdown", ["let g:bufbridge_infill = 'cursor'"], None, "cursor"),
    ("python", ["let g:bufbridge_infill = 'marker'"], None, "marker"),
    ("python", ["let g:bufbridge_infill = 'marker'"], "cursor", "cursor"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("filetype", "settings", "local", "mode"), MODES)
def test_the_infill_mode_follows_the_filetype_and_the_options(kind, start, server, other, box,
                                                              filetype, settings, local, mode):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["X"]))
    other.routes["/infill"] = fs.Reply(fs.llama_stream(["X"]))
    editor = start(kind, before=[BOX, *settings])
    text = [f"!api {other.url}/", "a", "b"]
    editor.set_lines(text)
    editor.command(f"set filetype={filetype}")
    if local:
        editor.command(f"let b:bufbridge_infill = '{local}'")
    editor.command("call cursor(3, 1)")
    editor.command("BufBridgeInfill")
    wait_done(editor)

    if mode == "marker":  # Illume's model: the buffer's own !api, the reply above the cursor line
        assert (len(other.requests), len(server.requests)) == (1, 0)
        assert other.requests[0].json["input_prefix"] == "a\n"
        assert editor.lines() == text[:2] + ["X", "b"]
    else:  # the editor's settings, the reply at the cursor
        assert (len(other.requests), len(server.requests)) == (0, 1)
        assert server.requests[0].json["input_prefix"] == source_of(text[:2])
        assert editor.lines() == text[:2] + ["bX"]  # Normal mode on a line's last character: after it


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_mode_is_an_error_that_names_the_option(kind, start, server):
    editor = start(kind)
    editor.set_lines(["x = 1"])
    editor.command("let b:bufbridge_infill = 'cursr'")
    with pytest.raises(EditorError, match=r"bufbridge: b:bufbridge_infill must be 'auto', 'cursor' or 'marker', not 'cursr'"):
        editor.command("BufBridgeInfill")
    assert not editor.eval("exists('b:bufbridge_job')")
    assert server.requests == []


@pytest.mark.parametrize("kind", KINDS)
def test_other_buffers_go_to_input_extra_in_sorted_order(kind, start, server, box, workdir):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["0"]))
    for name, content in [("b.py", "B = 2\n"), ("a.py", "A = 1\n"), ("big.py", "x = 1\n" * 50_000),
                          ("hidden.py", "H = 1\n")]:
        (workdir / name).write_text(content)
    (workdir / "sub").mkdir()
    (workdir / "sub" / "main.py").write_text("n = ()\n")
    editor = start(kind, before=[BOX, "set hidden"])
    editor.command("edit b.py")
    editor.command("edit a.py | call setline(1, 'A = 10')")  # modified: the buffer goes, not the file
    editor.command("edit big.py")  # 300 KB: too large to go
    editor.command("edit hidden.py | setlocal nobuflisted")
    editor.command("edit talk.chat | call setline(1, ['!user', 'private']) | set filetype=bufbridge")  # a chat: never
    editor.command("edit notes.txt | call setline(1, 'plans') | set filetype=text")  # prose: never
    editor.command("enew | setlocal buftype=nofile | file scratch.py | call setline(1, 'S = 1')")
    editor.command("edit sub/main.py | set filetype=python | call cursor(1, 6)")
    editor.command("BufBridgeInfill")
    wait_done(editor)

    assert server.requests[0].json["input_extra"] == [
        {"filename": "a.py", "text": "A = 10\n"},
        {"filename": "b.py", "text": "B = 2\n"},
    ]
    assert editor.lines() == ["n = (0)"]


FAKE_FILTER = r"""
import json, sys, time
log, args = sys.argv[1], sys.argv[2:]
if args[-1:] == ["host"]:
    sys.exit(2)  # no host here: the plugin falls back to a process per request, which this fakes
extra = args[args.index("--extra-json") + 1] if "--extra-json" in args else None
with open(log, "w") as f:
    json.dump({"args": args, "stdin": sys.stdin.buffer.read().decode(),
               "extra": json.load(open(extra)) if extra else None}, f)
for chunk in [b"one", b"\n", b"two\nthr", b"ee \xc3", b"\xa9", b"\n\n", b"end"]:
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()
    time.sleep(0.05)
"""


@pytest.mark.parametrize("kind", KINDS)
def test_cursor_infill_runs_the_filter_with_the_cursor_and_takes_any_chunking(kind, start, workdir, tmp_path):
    script, log = tmp_path / "fake_filter.py", tmp_path / "log.json"
    script.write_text(FAKE_FILTER)
    (workdir / "b.py").write_text("B = 2\n")
    (workdir / "a.py").write_text("A = 1\n")
    (workdir / "sub").mkdir()
    (workdir / "sub" / "main.py").write_text("!api http://evil.invalid/\nx = ()\n")
    editor = start(kind, command=[sys.executable, str(script), str(log)],
                          before=["let g:bufbridge_infill_args = '--fim qwen'", "set hidden"])
    editor.command("edit b.py | edit a.py")
    editor.command("edit sub/main.py | set filetype=python | call cursor(2, 6)")
    editor.command("BufBridgeInfill")
    wait_done(editor)

    record = json.loads(log.read_text())
    assert record["args"][:8] == ["--infill-at", "2:6", "--repo", workdir.name, "--filename", os.path.join("sub", "main.py"),
                                  "--fim", "qwen"]
    assert record["args"][8] == "--extra-json" and len(record["args"]) == 10
    assert not os.path.exists(record["args"][9]), "the temporary file outlived the job"
    assert record["stdin"] == "!api http://evil.invalid/\nx = ()\n"
    assert record["extra"] == [{"filename": "a.py", "text": "A = 1\n"}, {"filename": "b.py", "text": "B = 2\n"}]
    assert editor.lines() == ["!api http://evil.invalid/", "x = (one", "two", "three é", "", "end)"]
    editor.feed("u")
    wait_until(lambda: editor.lines() == ["!api http://evil.invalid/", "x = ()"], message="one u to remove it")


@pytest.mark.parametrize("kind", KINDS)
def test_cursor_infill_follows_its_place_when_lines_are_added_above(kind, start, server, box):
    script = fs.llama_stream(["first\n", "second"])
    gate = fs.Gate()
    server.routes["/infill"] = fs.Reply(script[:1] + [gate] + script[1:])
    editor = start(kind, before=[BOX])
    text = ["import os", "value = ()", "end"]
    infill_in_python(editor, text, 2, 10)
    # The filter holds a line's newline until it knows more: what arrived so far is "first".
    wait_until(lambda: editor.lines() == ["import os", "value = (first)", "end"], message="the first piece")

    editor.feed("ggOtop\x1b")
    wait_until(lambda: editor.lines()[0] == "top", message="the user's new first line")
    gate.open()
    wait_done(editor)
    assert editor.lines() == ["top", "import os", "value = (first", "second)", "end"]


@pytest.mark.parametrize("kind", KINDS)
def test_stop_keeps_what_cursor_infill_wrote(kind, start, server, box):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["kept\n", "lost"])[:1] + [fs.HOLD])
    editor = start(kind, before=[BOX])
    text = ["def f():", "    pass"]
    infill_in_python(editor, text, 2, 5)
    wait_until(lambda: editor.lines() == ["def f():", "    keptpass"], message="the first piece")

    editor.command("BufBridgeStop")
    assert server.wait_for_disconnect(10), "the filter kept the connection open"
    wait_done(editor)
    assert editor.lines() == ["def f():", "    keptpass"]
    assert "bufbridge: stopped" in editor.messages()
    wait_no_filter(editor)
    editor.feed("u")
    wait_until(lambda: editor.lines() == text, message="one u to remove it")


# (the line, keys to the place in Insert mode, the reply, the lines after it, the cursor after it, the prompt)
FROM_INSERT = [
    ("x = max(1, ", "A", ["2)"], ["x = max(1, 2)"], [1, 14], "x = max(1, "),
    ("x = max(1, )", "A<Left>", ["a,\n", "    b"], ["x = max(1, a,", "    b)"], [2, 6], "x = max(1, "),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("line", "keys", "reply", "after", "cursor", "prompt"), FROM_INSERT)
def test_cursor_infill_from_insert_mode_leaves_the_cursor_after_it_in_both_editors(kind, start, server, box,
                                                                                     line, keys, reply, after, cursor, prompt):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(reply))
    editor = start(kind, before=[BOX])  # <C-G>i is the default key
    editor.set_lines([line, "print(x)"])
    editor.command("set filetype=python | call cursor(1, 1)")
    keys += "<C-G>i"
    editor.feed(keys.replace("<Left>", "\x1b[D").replace("<C-G>", "\x07") if kind == "vim" else keys)
    wait_until(lambda: server.requests, message="the request")
    wait_done(editor)
    assert editor.eval("[mode(), line('.'), col('.')]") == ["i", *cursor], "typing goes on after the infill"
    editor.feed("\x1b" if kind == "vim" else "<Esc>")

    assert server.requests[0].json["prompt"] == prompt
    assert editor.lines() == [*after, "print(x)"]


# (the line, the cursor column in Normal mode, the line after an infill of "X", the cursor column after it)
END_OF_LINE = [
    ("print(x", 7, "print(xX", 7),      # the last character: after it
    ("x = ()", 6, "x = (X)", 7),        # a closing bracket: before it
    ("s = 'a'", 7, "s = 'aX'", 8),      # a closing quote: before it
    ("y = é", 5, "y = éX", 5),          # a last character of two bytes
    ("abc d", 3, "abXc d", 4),          # elsewhere: before the character under the cursor
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("line", "col", "after", "cursor"), END_OF_LINE)
def test_normal_mode_infill_at_the_end_of_a_line_goes_after_its_last_character(kind, start, server, box, line, col, after, cursor):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["X"]))
    editor = start(kind, before=[BOX])
    infill_in_python(editor, [line, "z"], 1, col)
    wait_done(editor)
    assert editor.lines() == [after, "z"]
    assert editor.eval("[line('.'), col('.')]") == [1, cursor], "the cursor stays on its character"


@pytest.mark.parametrize("kind", KINDS)
def test_filter_options_in_the_command_apply_to_every_request(kind, start, server, home, isolated_config):
    (isolated_config / "profiles").mkdir()
    (isolated_config / "profiles" / "box.profile").write_text(f"!api {server.url}/\n")
    gate = fs.Gate()
    server.reply = fs.Reply([gate] + fs.openai_chat_stream(["ok"]))
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["1"]))
    editor = start(kind, command=[sys.executable, "-m", "bridge", "--allow-env", "--profile", "box"])
    text = [f"!api {server.url}/", "!>x-home $HOME", "!user", "Hi"]
    editor.set_lines(text)
    editor.command("BufBridge")
    assert gate.wait_reached(10)
    commands = []  # the host, started as `bufbridge [OPTIONS] host`
    for pid in descendants(editor.proc.pid):
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            commands.append(f.read().split(b"\0")[:-1])
    assert [b"--allow-env", b"--profile", b"box", b"host"] in [args[-4:] for args in commands]
    gate.open()
    wait_done(editor)
    assert server.requests[0].header("x-home") == str(home)  # --allow-env: expanded
    assert editor.lines()[-1] == "ok"

    editor.command("set hidden | enew | set filetype=python | call setline(1, 'x = ()')")
    editor.command("call cursor(1, 6) | BufBridgeInfill")
    wait_done(editor)
    assert server.requests[1].path == "/infill"  # --profile box: no infill args needed
    assert editor.lines() == ["x = (1)"]
    assert "process of its own" not in editor.messages()


def test_host_is_started_only_as_the_last_argument(isolated_config):
    def bufbridge(*args, text=""):
        return subprocess.run([sys.executable, "-m", "bridge", *args], input=text, capture_output=True, text=True,
                              cwd=REPO, timeout=30)

    done = bufbridge("host", "--allow-env")
    assert done.returncode == 2
    assert "host must be the last argument" in done.stderr
    (isolated_config / "profiles").mkdir()
    (isolated_config / "profiles" / "host.profile").write_text("!api http://127.0.0.1:9/v1\n")
    done = bufbridge("--debug", "--profile", "host", text="!user\nHi\n")  # a profile named host, not the host
    assert done.returncode == 0
    assert "POST http://127.0.0.1:9/v1/chat/completions" in done.stdout


# (the settings, the files that go along as context)
CONTEXTS = [
    ([], ["a.py", "sub/b.py"]),
    (["let g:bufbridge_infill_context = 'project'"], ["a.py", "sub/b.py"]),
    (["let g:bufbridge_infill_context = 'buffers'"], ["{outside}/o.py", "a.py", "link.py", "sub/b.py"]),
    (["let g:bufbridge_infill_context = 'none'"], []),
    (["let g:bufbridge_infill_context = 'none'", "let b:bufbridge_infill_context = 'buffers'"],
     ["{outside}/o.py", "a.py", "link.py", "sub/b.py"]),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("settings", "sent"), CONTEXTS)
def test_infill_context_is_the_project_by_default(kind, start, server, box, workdir, tmp_path, settings, sent):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["0"]))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "o.py").write_text("O = 1\n")
    (outside / "l.py").write_text("L = 1\n")
    (workdir / "link.py").symlink_to(outside / "l.py")  # a name inside, a file outside
    (workdir / "a.py").write_text("A = 1\n")
    (workdir / "sub").mkdir()
    (workdir / "sub" / "b.py").write_text("B = 1\n")
    (workdir / "main.py").write_text("x = ()\n")
    editor = start(kind, before=[BOX, "set hidden", *[s for s in settings if "b:" not in s]])
    for name in ("a.py", "sub/b.py", "link.py", str(outside / "o.py")):
        editor.command(f"edit {name}")
    editor.command("edit main.py | set filetype=python | call cursor(1, 6)")
    for setting in settings:
        if "b:" in setting:
            editor.command(setting)
    editor.command("BufBridgeInfill")
    wait_done(editor)

    got = [item["filename"] for item in server.requests[0].json.get("input_extra", [])]
    assert got == [name.format(outside=outside) for name in sent]
    assert editor.lines() == ["x = (0)"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_infill_context_is_an_error_that_names_the_option(kind, start, server):
    editor = start(kind, before=["let g:bufbridge_infill_context = 'all'"])
    editor.set_lines(["x = 1"])
    editor.command("set filetype=python")
    with pytest.raises(EditorError, match=r"bufbridge: g:bufbridge_infill_context must be 'project', 'buffers' or 'none', not 'all'"):
        editor.command("BufBridgeInfill")
    assert not editor.eval("exists('b:bufbridge_job')")
    assert server.requests == []
