"""Suggestions as you type, in a real Vim (pty) and a real Neovim: ghost text, accept keys, type-through, cancel.

The profile ``box`` sends cursor infill to ``server``; ``--no-stop all`` keeps
the stop heuristics (tested elsewhere) out of the way, so the suggestion is
exactly what the server streams.
"""

import json
import sys

import pytest

import fakeserver as fs

from .drivers import wait_until

pytestmark = pytest.mark.editor

KINDS = ["vim", "nvim"]
BOX = "let g:bufbridge_infill_args = ['--profile', 'box', '--no-stop', 'all']"
NO_PROVIDER = "let g:loaded_python3_provider = 0"
SUGGESTION = "x + 1\nprint(y)"

# Keys as each editor takes them: Vim reads the terminal, Neovim <> notation.
KEYS = {
    "esc": ("\x1b", "<Esc>"),
    "tab": ("\t", "<Tab>"),
    "s-tab": ("\x1b[Z", "<S-Tab>"),
    "c-right": ("\x1b[1;5C", "<C-Right>"),
    "c-g s": ("\x07s", "<C-G>s"),
}


def key(editor, name):
    return KEYS[name][0 if editor.kind == "vim" else 1]


@pytest.fixture
def start(start_editor, box):
    def start_one(kind, *, before=()):
        editor = start_editor(kind, before=[NO_PROVIDER, BOX, *before])
        editor.kind = kind
        return editor
    return start_one


def ghost(editor):
    """The text properties (Vim) or extmarks (Neovim) of suggestions in the current buffer."""
    if editor.kind == "vim":
        return editor.eval("flatten(map(range(1, line('$')), {_, l -> filter(prop_list(l),"
                           " {_, p -> p.type ==# 'bufbridge_suggestion'})}))")
    return editor.eval("nvim_buf_get_extmarks(0, nvim_create_namespace('bufbridge_suggestion'), 0, -1, {'details': v:true})")


def shown(editor):
    """The buffer's lines as they are drawn, ghost text included: Vim's screen; Neovim's lines with its extmarks applied."""
    if editor.kind == "vim":
        rows = editor.eval("[execute('redraw'), map(range(1, 12), {_, r -> "
                           "trim(join(map(range(1, 100), {_, c -> screenstring(r, c)}), ''), ' ', 2)})][1]")
        rows = [row for row in rows if row != "~"]
        while rows and rows[-1] == "":
            rows.pop()
        return rows
    lines = editor.lines()
    drawn = [[line] for line in lines]
    for _, row, col, details in ghost(editor):
        inline = "".join(chunk[0] for chunk in details.get("virt_text", []))
        drawn[row][0] = lines[row][:col] + inline + lines[row][col:]
        drawn[row] += ["".join(chunk[0] for chunk in line) for line in details.get("virt_lines", [])]
    return [line for group in drawn for line in group]


def suggestion(editor):
    return editor.eval("bufbridge#suggestion()")


def type_in_python(editor, lines, keys):
    editor.set_lines(lines)
    editor.command("set filetype=python")
    editor.feed(keys)


def wait_shown(editor, text, timeout=15):
    wait_until(lambda: suggestion(editor) == text, timeout, message=f"the suggestion {text!r}")


@pytest.mark.parametrize("kind", KINDS)
def test_a_pause_shows_the_suggestion_as_ghost_text_and_tab_accepts_it_in_one_undo_step(kind, start, server):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["x + 1", "\nprint(y)"]))
    editor = start(kind)
    type_in_python(editor, ["x = 1"], "oy = ")
    wait_shown(editor, SUGGESTION)

    got = server.requests[0].json
    assert (got["input_prefix"], got["prompt"], got["input_suffix"]) == ("x = 1\n", "y = ", "\n")
    assert shown(editor) == ["x = 1", "y = x + 1", "print(y)"]
    assert editor.lines() == ["x = 1", "y = "], "a suggestion is not in the buffer"
    assert editor.eval("bufbridge#status()") == "bufbridge: suggestion"

    editor.feed(key(editor, "tab"))
    wait_until(lambda: editor.lines() == ["x = 1", "y = x + 1", "print(y)"], message="the accepted suggestion")
    assert editor.eval("[line('.'), col('.')]") == [3, 9]
    assert ghost(editor) == [] and suggestion(editor) == ""
    editor.feed(key(editor, "esc") + "u")
    wait_until(lambda: editor.lines() == ["x = 1", "y = "], message="one u to remove the accepted suggestion")
    assert len(server.requests) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_shift_tab_takes_the_first_line_and_the_word_key_the_next_word(kind, start, server):
    server.routes["/infill"] = fs.Reply(fs.llama_stream([SUGGESTION]))
    editor = start(kind)
    type_in_python(editor, ["x = 1"], "oy = ")
    wait_shown(editor, SUGGESTION)

    editor.feed(key(editor, "c-right"))
    wait_until(lambda: editor.lines() == ["x = 1", "y = x"], message="the first word")
    assert suggestion(editor) == " + 1\nprint(y)"
    assert shown(editor) == ["x = 1", "y = x + 1", "print(y)"]
    editor.feed(key(editor, "c-right"))
    wait_until(lambda: editor.lines() == ["x = 1", "y = x +"], message="the next word")
    editor.feed(key(editor, "s-tab"))
    wait_until(lambda: editor.lines() == ["x = 1", "y = x + 1", ""], message="the rest of the first line")
    assert suggestion(editor) == "print(y)"
    assert shown(editor) == ["x = 1", "y = x + 1", "print(y)"]
    editor.feed(key(editor, "s-tab"))
    wait_until(lambda: editor.lines() == ["x = 1", "y = x + 1", "print(y)"], message="the last line")
    assert len(server.requests) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_typing_the_next_characters_keeps_the_rest_and_anything_else_hides_it(kind, start, server):
    server.routes["/infill"] = fs.Reply(fs.llama_stream([SUGGESTION]))
    editor = start(kind)
    type_in_python(editor, ["x = 1"], "oy = ")
    wait_shown(editor, SUGGESTION)

    editor.feed("x +")
    wait_shown(editor, " 1\nprint(y)")
    assert shown(editor) == ["x = 1", "y = x + 1", "print(y)"]
    assert len(server.requests) == 1, "typing through asks for nothing new"

    editor.feed("-")
    wait_until(lambda: suggestion(editor) == "" and ghost(editor) == [], message="the suggestion hidden")
    editor.feed(key(editor, "esc"))
    assert editor.lines() == ["x = 1", "y = x +-"]


@pytest.mark.parametrize("kind", KINDS)
def test_esc_leaves_no_ghost_text_and_deleting_and_retyping_is_served_from_the_cache(kind, start, server):
    server.routes["/infill"] = fs.Reply(fs.llama_stream([SUGGESTION]))
    editor = start(kind)
    type_in_python(editor, ["x = 1"], "oy = ")
    wait_shown(editor, SUGGESTION)

    editor.feed(key(editor, "esc"))
    wait_until(lambda: editor.eval("mode()") == "n", message="Normal mode")
    assert ghost(editor) == []
    assert suggestion(editor) == ""
    assert editor.lines() == ["x = 1", "y = "]

    editor.feed("A")  # the same place again: the same suggestion, at once and from the cache
    wait_shown(editor, SUGGESTION)
    assert shown(editor) == ["x = 1", "y = x + 1", "print(y)"]
    assert len(server.requests) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_keystroke_during_a_slow_reply_cancels_it(kind, start, server):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["x + 1\n", "print(y)"])[:1] + [fs.HOLD])
    editor = start(kind)
    type_in_python(editor, ["x = 1"], "oy = ")
    wait_shown(editor, "x + 1")  # the first piece shows while the reply is still streaming
    assert shown(editor) == ["x = 1", "y = x + 1"]
    assert editor.eval("bufbridge#status()") == "bufbridge: suggesting"

    editor.feed("z")
    assert server.wait_for_disconnect(10), "the server kept generating"
    wait_until(lambda: ghost(editor) == [], message="no ghost text")
    editor.feed(key(editor, "esc"))


@pytest.mark.parametrize("kind", KINDS)
def test_tab_without_a_suggestion_does_what_it_did_before(kind, start, server):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["NEVER"]))
    editor = start(kind)
    editor.set_lines(["notes"])
    editor.feed("o" + key(editor, "tab") + "b" + key(editor, "esc"))  # a text file: no suggestions
    wait_until(lambda: editor.lines() == ["notes", "\tb"], message="a tab")
    assert server.requests == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_user_mapping_of_tab_still_works_when_no_suggestion_shows(kind, start, server):
    server.routes["/infill"] = fs.Reply(fs.llama_stream([SUGGESTION]))
    editor = start(kind, before=["inoremap <Tab> TAB"])
    editor.set_lines(["notes"])
    editor.feed("o" + key(editor, "tab") + key(editor, "esc"))
    wait_until(lambda: editor.lines() == ["notes", "TAB"], message="the user's own Tab")

    type_in_python(editor, ["x = 1"], "oy = ")
    wait_shown(editor, SUGGESTION)
    editor.feed(key(editor, "tab"))
    wait_until(lambda: editor.lines() == ["x = 1", "y = x + 1", "print(y)"], message="the accepted suggestion")


@pytest.mark.parametrize("kind", KINDS)
def test_a_server_that_is_down_gives_one_message(kind, start, server):
    server.routes["/infill"] = fs.text_reply(503, "loading model")
    editor = start(kind)
    type_in_python(editor, ["x = 1"], "oy = ")
    wait_until(lambda: "503" in editor.messages(), message="the message")
    for count, typed in [(2, "a"), (3, "b")]:
        editor.feed(typed)
        wait_until(lambda: len(server.requests) >= count, message=f"request {count}")
        wait_until(lambda: editor.eval("bufbridge#status()") == "", message=f"request {count} to end")
    editor.feed(key(editor, "esc"))
    lines = [line for line in editor.messages().splitlines() if "503" in line]
    assert len(lines) == 1, lines


@pytest.mark.parametrize("kind", KINDS)
def test_trigger_control(kind, start, server):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["1"]))
    editor = start(kind, before=["let g:bufbridge_suggest_filetypes = {'markdown': 'auto'}"])
    editor.set_lines(["x = 1"])
    editor.command("set filetype=python | let b:bufbridge_suggest = 'manual'")
    editor.feed("oy = ")
    wait_until(lambda: editor.eval("mode()") == "i" and editor.lines()[-1] == "y = ", message="typing")
    editor.feed(key(editor, "c-g s"))  # the manual key
    wait_shown(editor, "1")
    assert len(server.requests) == 1
    editor.feed(key(editor, "esc"))

    editor.command("enew! | set filetype=markdown")  # prose, but asked for
    editor.feed("ia = ")
    wait_shown(editor, "1")
    assert len(server.requests) == 2
    editor.feed(key(editor, "esc"))


@pytest.mark.parametrize("kind", KINDS)
def test_context_is_a_ring_of_recent_chunks_from_the_project_never_a_secret(kind, start, server, workdir):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["1"]))
    (workdir / "util.py").write_text("".join(f"def util{i}():\n    return {i}\n" for i in range(3)))
    (workdir / ".env").write_text("TOKEN=hunter2\nA=1\nB=2\n")
    (workdir / "notes.md").write_text("# notes\nsecret plans\nmore\n")
    editor = start(kind, before=["set hidden", "filetype on"])
    editor.command("edit util.py | normal! ggyG")
    editor.command("edit .env | set filetype=sh | normal! ggyG")
    editor.command("edit notes.md | normal! ggyG")
    editor.command("edit main.py")
    editor.feed("ix = ")
    wait_shown(editor, "1")
    editor.feed(key(editor, "esc"))

    extra = server.requests[0].json["input_extra"]
    assert [item["filename"] for item in extra] == ["util.py"]
    assert extra[0]["text"] == (workdir / "util.py").read_text()
    assert "hunter2" not in server.requests[0].body.decode()

    wait_until(lambda: editor.eval("mode()") == "n", message="Normal mode")
    editor.feed("A2")  # another place: another request, with the very same context (the server's cache)
    wait_until(lambda: len(server.requests) == 2, message="the second request")
    assert server.requests[1].json["input_extra"] == extra
    wait_shown(editor, "1")
    editor.feed(key(editor, "esc"))


@pytest.mark.parametrize("kind", KINDS)
def test_an_edit_goes_into_the_ring_but_not_into_a_request_near_it(kind, start, server, workdir):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["1"]))
    (workdir / "main.py").write_text("".join(f"a{i} = {i}\n" for i in range(100)))
    editor = start(kind, before=["filetype on", "let g:bufbridge_suggest = 'manual'"])
    editor.command("edit main.py | call cursor(90, 1)")
    editor.feed("ix" + key(editor, "esc"))  # an edit at line 90: the lines around it become a chunk
    wait_until(lambda: editor.eval("len(bufbridge#ring#chunks())") == 1, message="the chunk")
    assert editor.eval("bufbridge#ring#chunks()[0].first") == 58

    for line, sent in [(85, []), (5, ["main.py"])]:  # near the chunk: left out; far from it: sent
        editor.command(f"call cursor({line}, 1)")
        editor.feed("i" + key(editor, "c-g s"))
        count = len(server.requests) + 1
        wait_until(lambda: len(server.requests) == count, message=f"the request at line {line}")
        assert [item["filename"] for item in server.requests[-1].json.get("input_extra", [])] == sent
        editor.feed(key(editor, "esc"))
        wait_until(lambda: editor.eval("mode()") == "n", message="Normal mode")


@pytest.mark.parametrize("kind", KINDS)
def test_moving_the_cursor_away_hides_the_suggestion(kind, start, server):
    server.routes["/infill"] = fs.Reply(fs.llama_stream([SUGGESTION]))
    editor = start(kind)
    type_in_python(editor, ["x = 1"], "oy = ")
    wait_shown(editor, SUGGESTION)
    editor.feed("\x1b[D" if kind == "vim" else "<Left>")
    wait_until(lambda: ghost(editor) == [] and suggestion(editor) == "", message="the suggestion hidden")
    editor.feed(key(editor, "esc"))


@pytest.mark.parametrize("kind", KINDS)
def test_the_functions_wire_any_key_and_the_info_says_how_long_it_took(kind, start, server):
    timings = {"prompt_n": 12, "prompt_ms": 3.4, "cache_n": 30, "predicted_n": 4, "predicted_ms": 2.1}
    server.routes["/infill"] = fs.Reply(fs.llama_stream([SUGGESTION], timings=timings))
    editor = start(kind, before=["let g:bufbridge_suggest_info = 1",
                                 "imap <expr> <C-J> bufbridge#suggestion() !=# '' ? bufbridge#accept('word') : 'none'"])
    editor.set_lines(["x = 1"])
    editor.command("set filetype=python")
    editor.feed("o\n" if kind == "vim" else "o<C-J>")  # Vim reads CTRL-J as a NL on the terminal
    wait_until(lambda: editor.lines() == ["x = 1", "none"], message="the other branch of the <expr> map")
    editor.feed("\x15y = " if kind == "vim" else "<C-U>y = ")
    wait_shown(editor, SUGGESTION)
    status = editor.eval("bufbridge#status()")
    assert status.startswith("bufbridge: suggestion (") and "ms to first text" in status, status
    assert "ms in all" in shown(editor)[2], "the info after the suggestion"
    assert shown(editor)[2].startswith("print(y) (")
    status = wait_until(lambda: "server:" in editor.eval("bufbridge#status()") and editor.eval("bufbridge#status()"),
                        message="the server's own figures in the info")
    assert "server: prompt 12 tok in 3 ms, 30 cached, generated 4 tok in 2 ms" in status, status
    editor.feed("\n" if kind == "vim" else "<C-J>")
    wait_until(lambda: editor.lines() == ["x = 1", "y = x"], message="the word accepted")
    editor.feed(key(editor, "esc"))
    wait_until(lambda: editor.eval("mode()") == "n", message="Normal mode")
    assert editor.eval("bufbridge#accept('all')") == "", "nothing to accept outside Insert mode"


NO_HOST = "import sys\nif sys.argv[-1] == 'host': sys.exit(2)\nfrom bridge.cli import entry\nentry()"


@pytest.mark.parametrize("kind", KINDS)
def test_without_a_host_suggestions_say_so_once_and_stop_asking(kind, start_editor, box, server, tmp_path):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["1"]))
    script = tmp_path / "nohost.py"
    script.write_text(NO_HOST)
    editor = start_editor(kind, command=[sys.executable, str(script)], before=[NO_PROVIDER, BOX])
    editor.kind = kind
    type_in_python(editor, ["x = 1"], "oy = ")
    wait_until(lambda: "could not start" in editor.messages(), message="the message")
    editor.feed("ab")
    wait_until(lambda: editor.lines()[-1] == "y = ab", message="typing")
    editor.feed(key(editor, "esc"))
    wait_until(lambda: editor.eval("mode()") == "n", message="Normal mode")
    assert editor.eval("bufbridge#suggest#trigger(bufnr(''))") == "off"
    assert len([line for line in editor.messages().splitlines() if "could not start" in line]) == 1
    assert server.requests == []
    editor.command("BufBridgeInfill")  # the command still works, a process per request
    wait_until(lambda: len(server.requests) == 1, message="the infill")
