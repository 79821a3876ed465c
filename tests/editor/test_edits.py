"""The user undoes, reloads or edits while a reply streams: the reply never lands in the user's text.

Each test holds the server at a Gate after the first piece ("first"), acts
as the user would, and then checks the exact buffer. A change that removes
or alters the reply's own text stops the reply at once (the filter closes
its connection, which the server sees, without the test opening the gate);
any other edit leaves it streaming at its own place.

Each runs in Vim and in Neovim through the host, and in both through a plain
job, one process per request (the path taken when the host cannot run).
"""

import sys

import pytest

import fakeserver as fs

from .drivers import wait_until
from .test_stream import gated, streaming, wait_done, wait_no_filter

pytestmark = pytest.mark.editor

# `bufbridge [OPTIONS] host` exits at once, as a bufbridge without a host would: the plugin falls back to a plain job.
NO_HOST = [sys.executable, "-c",
           "import sys\nif sys.argv[-1] == 'host': sys.exit(2)\nfrom bridge.cli import entry\nentry()"]
CARRIERS = ["vim", "nvim", "vim-job", "nvim-job"]

QUESTION = ["!user", "Tell me about lighthouses."]
PIECES = ["first", " piece\nsecond", " line\n"]
FIRST = ["", "!assistant", "", "first"]  # the reply when the server holds the rest
WHOLE = ["", "!assistant", "", "first piece", "second line", ""]


@pytest.fixture(params=CARRIERS)
def carrier(request, start_editor):
    """The plugin in Vim and Neovim with the host, and in each with a plain job."""
    kind, _, job = request.param.partition("-")
    editor = start_editor(kind, command=NO_HOST if job else None)
    yield editor
    if job:  # the fallback really was taken
        assert "each reply starts a process of its own" in editor.messages()


def hold_after_first(server):
    """The server sends "first", then waits at the returned gate."""
    script, gate = gated(fs.openai_chat_stream(PIECES), 2)
    server.reply = fs.Reply(script)
    return gate


def send_and_wait_for_first(editor, server, text):
    gate = hold_after_first(server)
    editor.set_lines(text)
    editor.command("BufBridge")
    assert gate.wait_reached(10), "the request never reached the server"
    wait_until(lambda: editor.lines() == text + FIRST, message="the first piece")
    return gate


def assert_stopped(editor, server, why):
    """The reply stopped by itself: the server saw the connection close, the filter is gone."""
    assert server.wait_for_disconnect(10), "the server did not see the connection close"
    wait_done(editor)
    wait_no_filter(editor)
    assert f"bufbridge: stopped: {why}" in editor.messages()


def assert_finished(editor, server, gate):
    gate.open()
    wait_done(editor)
    assert server.requests[0].completed and not server.requests[0].disconnected, editor.messages()
    assert "stopped" not in editor.messages()


# (what the user does after the first piece, the buffer it leaves at once, the final buffer, why it stopped or None)
# Buffers are relative to the text sent, t.
EDITS = {
    "undo": ("u", lambda t: t, lambda t: t, "the reply in buffer {buf} was undone"),
    "delete the reply's line": ("Gdd", lambda t: t + FIRST[:-1], lambda t: t + FIRST[:-1],
                                "the place of the reply in buffer {buf} was deleted"),
    "type inside the reply": ("GIx\x1b", lambda t: t + FIRST[:-1] + ["xfirst"], lambda t: t + FIRST[:-1] + ["xfirst"],
                              "the reply in buffer {buf} was changed"),
    "add a last line": ("Gomine\x1b", lambda t: t + FIRST + ["mine"], lambda t: t + WHOLE + ["mine"], None),
    "type at the end of the reply": ("GA!\x1b", lambda t: t + FIRST[:-1] + ["first!"],
                                     lambda t: t + WHOLE[:-1] + ["!"], None),
    "add a line above": ("ggOtop\x1b", lambda t: ["top"] + t + FIRST, lambda t: ["top"] + t + WHOLE, None),
    "edit the question": ("3GAsea\x1b", lambda t: t[:2] + [t[2] + "sea"] + FIRST, lambda t: t[:2] + [t[2] + "sea"] + WHOLE,
                          None),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_while_the_reply_streams(carrier, server, edit):
    keys, at_once, final, why = EDITS[edit]
    text = [f"!api {server.url}/", *QUESTION]
    gate = send_and_wait_for_first(carrier, server, text)
    buf = carrier.eval("bufnr('')")

    carrier.feed(keys)
    if why is None:
        wait_until(lambda: carrier.lines() == at_once(text), message=f"the edit {keys!r}")
        assert streaming(carrier)
        assert_finished(carrier, server, gate)
    else:
        assert_stopped(carrier, server, why.format(buf=buf))
    assert carrier.lines() == final(text)


def test_undo_of_the_part_after_an_edit_stops_the_reply_and_keeps_the_edit(carrier, server):
    script = fs.openai_chat_stream(PIECES)
    first, second = fs.Gate(), fs.Gate()
    server.reply = fs.Reply(script[:2] + [first] + script[2:3] + [second] + script[3:])
    text = [f"!api {server.url}/", *QUESTION]
    carrier.set_lines(text)
    carrier.command("BufBridge")
    wait_until(lambda: carrier.lines() == text + FIRST, message="the first piece")
    carrier.feed("ggOmine\x1b")  # the user's edit: the rest of the reply is a step of its own
    wait_until(lambda: carrier.lines()[0] == "mine", message="the user's edit")
    first.open()
    assert second.wait_reached(10)
    wait_until(lambda: carrier.lines() == ["mine"] + text + WHOLE[:3] + ["first piece", "second"],
               message="the second piece")

    carrier.feed("u")
    assert_stopped(carrier, server, f"the reply in buffer {carrier.eval('bufnr()')} was undone")
    assert carrier.lines() == ["mine"] + text + FIRST
    carrier.feed("u")
    wait_until(lambda: carrier.lines() == text + FIRST, message="u to undo the user's own edit")


def test_text_typed_after_the_question_before_the_reply_stays_in_the_question(carrier, server):
    gate = fs.Gate()
    reply = fs.Reply(fs.openai_chat_stream(PIECES))

    def answer_when_opened(received):  # no byte of the reply, not even its headers, before the gate
        gate.reached.set()
        gate.opened.wait(20)
        return reply

    server.handler = answer_when_opened
    text = [f"!api {server.url}/", *QUESTION]
    carrier.set_lines(text)
    carrier.command("BufBridge")
    assert gate.wait_reached(10)
    carrier.feed("GA And boats?\x1b")
    wait_until(lambda: carrier.lines()[-1] == text[-1] + " And boats?", message="the user's typing")

    assert_finished(carrier, server, gate)
    assert carrier.lines() == text[:2] + [text[2] + " And boats?"] + WHOLE


def test_reloading_the_file_stops_the_reply_and_writes_nothing_into_it(carrier, server, workdir):
    gate = hold_after_first(server)
    text = [f"!api {server.url}/", *QUESTION]
    chat = workdir / "chat.txt"
    chat.write_text("".join(line + "\n" for line in text))
    carrier.command("edit chat.txt")
    carrier.command("BufBridge")
    assert gate.wait_reached(10)
    wait_until(lambda: carrier.lines() == text + FIRST, message="the first piece")
    on_disk = text + ["changed elsewhere"]
    chat.write_text("".join(line + "\n" for line in on_disk))

    carrier.feed(":edit!\r")  # typed: a command run from a script would hide the plugin's message
    assert_stopped(carrier, server, f"buffer {carrier.eval('bufnr()')} was closed or reloaded")
    assert carrier.lines() == on_disk
    assert carrier.eval("&modified") == 0


@pytest.mark.parametrize("close", ["bdelete!", "bwipeout!", "set hidden | enew | bunload!"])
def test_closing_the_buffer_stops_the_reply(carrier, server, close):
    text = [f"!api {server.url}/", *QUESTION]
    send_and_wait_for_first(carrier, server, text)
    buf = carrier.eval("bufnr('')")

    carrier.feed(f":{close} {buf}\r")
    assert_stopped(carrier, server, f"buffer {buf} was closed or reloaded")
    assert carrier.eval("bufnr('')") != buf


INFILL_ARGS = "let g:bufbridge_infill_args = ['--profile', 'box', '--no-stop', 'all']"


@pytest.mark.parametrize("kind", ["vim", "nvim"])
def test_undo_during_a_cursor_infill_stops_it(kind, start_editor, server, isolated_config):
    (isolated_config / "profiles").mkdir()
    (isolated_config / "profiles" / "box.profile").write_text(f"!api {server.url}/\n")
    script, gate = gated(fs.llama_stream(["1,\n", "2"]), 1)
    server.routes["/infill"] = fs.Reply(script)
    editor = start_editor(kind, before=[INFILL_ARGS, "let g:loaded_python3_provider = 0"])
    text = ["def f():", "    return ()"]
    editor.set_lines(text)
    editor.command("set filetype=python | call cursor(2, 13)")
    editor.command("BufBridgeInfill")
    # The filter holds a line's newline until it knows more: what arrived so far is "1,".
    wait_until(lambda: editor.lines() == ["def f():", "    return (1,)"], message="the first piece")

    editor.feed("u")
    assert_stopped(editor, server, f"the reply in buffer {editor.eval('bufnr()')} was undone")
    assert editor.lines() == text


@pytest.mark.parametrize("kind", ["vim", "nvim"])
def test_undo_during_a_marker_infill_stops_it(kind, start_editor, server):
    script, gate = gated(fs.llama_stream(["X1", "X2"]), 1)
    server.routes["/infill"] = fs.Reply(script)
    editor = start_editor(kind)
    text = [f"!api {server.url}/", "!heuristics off", "a", "b"]  # the reply as it streams, not line by line
    editor.set_lines(text)
    editor.command("call cursor(4, 1)")
    editor.command("BufBridgeInfill")
    wait_until(lambda: editor.lines() == text[:3] + ["X1"] + text[3:], message="the first piece")

    editor.feed("u")
    assert_stopped(editor, server, f"the reply in buffer {editor.eval('bufnr()')} was undone")
    assert editor.lines() == text


def test_a_change_to_a_hidden_reply_stops_it_at_the_next_piece(carrier, server):
    script = fs.openai_chat_stream(PIECES)
    first, second = fs.Gate(), fs.Gate()
    server.reply = fs.Reply(script[:2] + [first] + script[2:3] + [second] + script[3:])
    text = [f"!api {server.url}/", *QUESTION]
    carrier.command("set hidden")
    carrier.set_lines(text)
    carrier.command("BufBridge")
    wait_until(lambda: carrier.lines() == text + FIRST, message="the first piece")
    buf = carrier.eval("bufnr('')")
    carrier.command("enew")
    carrier.command(f"call deletebufline({buf}, '$')")  # no event in that buffer: the next piece finds it

    first.open()
    assert_stopped(carrier, server, f"the place of the reply in buffer {buf} was deleted")
    carrier.command(f"buffer {buf}")
    assert carrier.lines() == text + FIRST[:-1]
