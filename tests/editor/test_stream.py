"""The plugin in a real Vim and a real Neovim, talking to the real filter and a loopback server."""

import pytest

import fakeserver as fs

from .drivers import EditorError, descendants, host_pids, wait_until

pytestmark = pytest.mark.editor


def gated(script, after):
    """``script`` with a Gate after its first ``after`` items; returns (script, gate)."""
    gate = fs.Gate()
    return script[:after] + [gate] + script[after:], gate


def streaming(editor, buf="''"):
    """Whether a reply is streaming into buffer ``buf`` (default: the current one)."""
    return editor.eval(f"has_key(getbufvar({buf} == '' ? bufnr('') : {buf}, ''), 'bufbridge_job')")


def wait_done(editor, buf="''", timeout=15):
    wait_until(lambda: not streaming(editor, buf), timeout, message="the reply to finish")


def wait_no_filter(editor):
    """The filter process has exited: the editor has no child process left but its long-lived host."""
    def others():
        hosts = set(host_pids(editor))
        below_hosts = {pid for host in hosts for pid in descendants(host)}
        return set(descendants(editor.proc.pid)) - hosts - below_hosts

    wait_until(lambda: not others(), message="the filter process to exit")


def test_send_appends_the_reply_and_the_editor_stays_responsive(editor, server):
    script, gate = gated(fs.openai_chat_stream(["first", " piece\nsecond", " line\n"]), 2)
    server.reply = fs.Reply(script)
    text = [f"!api {server.url}/", "!user", "Question?", "more"]
    editor.set_lines(text)
    editor.command("call cursor(1, 1)")
    editor.command("BufBridge")

    assert gate.wait_reached(10), "the request never reached the server"
    wait_until(lambda: editor.lines()[-1] == "first", message="the first piece in the buffer")
    editor.feed("jj")  # the user moves while the server holds the rest of the reply
    wait_until(lambda: editor.eval("line('.')") == 3, message="the cursor to move during the stream")
    assert streaming(editor)
    assert not server.requests[0].completed

    gate.open()
    wait_done(editor)
    assert editor.lines() == text + ["", "!assistant", "", "first piece", "second line", ""]
    assert editor.eval("line('.')") == 3, "the reply moved the cursor"
    assert server.requests[0].path == "/chat/completions"
    assert server.requests[0].json["messages"] == [{"role": "user", "content": "Question?\nmore"}]
    wait_no_filter(editor)


def test_one_undo_removes_the_whole_reply_and_nothing_else(editor, server):
    pieces = [f"p{i}" + ("\n" if i % 3 == 0 else "") for i in range(12)]
    chunks = fs.openai_chat_stream(pieces)
    script = []
    for chunk in chunks:
        script += [chunk, fs.Pause(0.02)]
    script, gate = gated(script, 10)
    server.reply = fs.Reply(script)
    editor.set_lines([f"!api {server.url}/", "!user", "Hi"])
    editor.feed("GAthere\x1b")  # the user's own last edit
    wait_until(lambda: editor.lines()[-1] == "Hithere", message="the user's edit")
    before = editor.lines()
    editor.command("BufBridge")

    assert gate.wait_reached(10)
    editor.feed("gg")  # keys between two pieces end an undo step unless the plugin joins them
    wait_until(lambda: editor.eval("line('.')") == 1, message="the cursor move")
    gate.open()
    wait_done(editor)
    assert editor.lines() == before + ["", "!assistant", ""] + "".join(pieces).split("\n")

    editor.feed("u")
    wait_until(lambda: editor.lines() == before, message="one u to remove the reply")
    editor.feed("u")
    wait_until(lambda: editor.lines()[-1] == "Hi", message="the next u to undo the user's edit")


def test_stop_keeps_what_arrived_and_closes_the_connection(editor, server):
    server.reply = fs.Reply(fs.openai_chat_stream(["partial", " reply"])[:3] + [fs.HOLD])
    text = [f"!api {server.url}/", "!user", "Tell me a long story"]
    editor.set_lines(text)
    editor.command("BufBridge")
    wait_until(lambda: editor.lines()[-1] == "partial reply", message="the first pieces")

    editor.command("BufBridgeStop")
    assert server.wait_for_disconnect(10), "the server did not see the connection close"
    assert server.requests[0].disconnected
    wait_done(editor)
    assert editor.lines() == text + ["", "!assistant", "", "partial reply"]
    assert "bufbridge: stopped" in editor.messages()
    wait_no_filter(editor)
    editor.feed("u")
    wait_until(lambda: editor.lines() == text, message="one u to remove the partial reply")


def test_stop_with_nothing_running_says_so(editor):
    assert "bufbridge: nothing is streaming" in editor.command("BufBridgeStop")


def test_infill_inserts_the_reply_above_the_cursor_line(editor, server):
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["    x = 1\n    y", " = 2"]))
    text = [f"!api {server.url}/", "def f():", "    return x + y", "print(f())"]
    editor.set_lines(text)
    editor.command("call cursor(3, 7)")
    editor.command("BufBridgeInfill")
    wait_done(editor)

    assert editor.lines() == text[:2] + ["    x = 1", "    y = 2"] + text[2:]
    got = server.requests[0]
    assert got.path == "/infill"
    assert got.json["input_prefix"] == "def f():\n"
    assert got.json["input_suffix"] == "\n    return x + y\nprint(f())"
    editor.feed("u")
    wait_until(lambda: editor.lines() == text, message="one u to remove the infill")


def test_infill_follows_its_line_when_lines_are_added_above(editor, server):
    script, gate = gated(fs.llama_stream(["X1", "X2"]), 1)
    server.routes["/infill"] = fs.Reply(script)
    text = [f"!api {server.url}/", "!heuristics off", "a", "b", "c"]  # the reply as it streams, not line by line
    editor.set_lines(text)
    editor.command("call cursor(5, 1)")
    editor.command("BufBridgeInfill")
    wait_until(lambda: editor.lines() == text[:4] + ["X1"] + text[4:], message="the first piece above the cursor line")

    editor.feed("ggOtop\x1b")
    wait_until(lambda: editor.lines()[0] == "top", message="the user's new first line")
    gate.open()
    wait_done(editor)
    assert editor.lines() == ["top"] + text[:4] + ["X1X2", "c"]


def test_server_down_writes_an_error_block_and_keeps_the_text(editor):
    text = [f"!api http://127.0.0.1:{fs.closed_port()}/", "!user", "Hi"]
    editor.set_lines(text)
    editor.command("BufBridge")
    wait_done(editor)

    lines = editor.lines()
    assert lines[:3] == text
    assert lines[3:6] == ["", "!error", ""]
    assert "connection refused" in lines[6]
    assert "exited with status 1" in editor.messages()


def test_a_second_start_while_streaming_is_refused(editor, server):
    script, gate = gated(fs.openai_chat_stream(["one"]), 2)
    server.reply = fs.Reply(script)
    editor.set_lines([f"!api {server.url}/", "!user", "Hi"])
    editor.command("BufBridge")
    assert gate.wait_reached(10)

    with pytest.raises(EditorError, match="bufbridge: a reply is already streaming"):
        editor.command("BufBridge")
    gate.open()
    wait_done(editor)
    assert editor.lines()[-1] == "one"
    assert len(server.requests) == 1


@pytest.mark.parametrize("away", ["hidden", "other window"])
def test_a_reply_to_a_buffer_that_is_not_current_is_one_undo_step(editor, server, away):
    script, gate = gated(fs.openai_chat_stream(["a\n", "b\n", "c"]), 2)
    server.reply = fs.Reply(script)
    text = [f"!api {server.url}/", "!user", "Hi"]
    editor.set_lines(text)
    buf = editor.eval("bufnr('')")
    editor.command("set hidden")
    editor.command("BufBridge")
    assert gate.wait_reached(10)
    editor.feed(":enew\r" if away == "hidden" else ":split | enew\r")  # typed: ends an undo step in buffer 1
    wait_until(lambda: editor.eval("bufnr('')") != buf, message="the switch to another buffer")

    gate.open()
    wait_done(editor, buf)
    editor.command(f"only | buffer {buf}")
    assert editor.lines() == text + ["", "!assistant", "", "a", "b", "c"]
    editor.feed("u")
    wait_until(lambda: editor.lines() == text, message="one u to remove the reply")


def test_stderr_goes_to_messages_not_into_the_buffer(editor, server):
    # In infill mode the filter's notes go to stderr, since the buffer holds code.
    server.routes["/infill"] = fs.Reply(fs.llama_stream(["x"]))
    text = [f"!api {server.url}/", "!>x-test $HOME", "a", "b"]
    editor.set_lines(text)
    editor.command("call cursor(4, 1)")
    editor.command("BufBridgeInfill")
    wait_done(editor)

    assert editor.lines() == text[:3] + ["x", "b"]
    assert "was sent literally" in editor.messages()


def test_a_large_buffer_is_sent_whole(editor, server):
    server.reply = fs.Reply(fs.openai_chat_stream(["ok"]))
    body = [f"line {i} " + "x" * 60 for i in range(20000)]
    editor.set_lines([f"!api {server.url}/", "!user"] + body)
    editor.command("BufBridge")
    wait_done(editor, timeout=20)

    assert server.requests[0].json["messages"] == [{"role": "user", "content": "\n".join(body)}]
    assert editor.lines()[-1] == "ok"


def test_wiping_the_buffer_stops_the_reply(editor, server):
    script, gate = gated(fs.openai_chat_stream(["one", "two"]), 2)
    server.reply = fs.Reply(script + [fs.HOLD])
    editor.set_lines([f"!api {server.url}/", "!user", "Hi"])
    buf = editor.eval("bufnr('')")
    editor.command("BufBridge")
    assert gate.wait_reached(10)
    wait_until(lambda: editor.lines()[-1] == "one", message="the first piece")

    editor.feed(f":enew! | bwipeout! {buf}\r")  # the plugin stops the filter at once
    assert server.wait_for_disconnect(10), "the filter kept the connection open"
    wait_no_filter(editor)
    assert f"bufbridge: stopped: buffer {buf} was closed or reloaded" in editor.messages()


def test_an_edit_during_the_reply_is_never_undone_with_it(editor, server):
    script, gate = gated(fs.openai_chat_stream(["before", " after"]), 2)
    server.reply = fs.Reply(script)
    text = [f"!api {server.url}/", "!user", "Hi"]
    editor.set_lines(text)
    editor.command("BufBridge")
    wait_until(lambda: editor.lines()[-1] == "before", message="the first piece")
    editor.feed("ggOmine\x1b")
    wait_until(lambda: editor.lines()[0] == "mine", message="the user's edit")
    gate.open()
    wait_done(editor)
    assert editor.lines() == ["mine"] + text + ["", "!assistant", "", "before after"]

    editor.feed("u")
    wait_until(lambda: editor.lines() == ["mine"] + text + ["", "!assistant", "", "before"],
               message="u to remove the part of the reply after the edit")
    editor.feed("u")
    wait_until(lambda: editor.lines() == text + ["", "!assistant", "", "before"], message="u to undo the edit")


def test_an_empty_infill_leaves_the_buffer_as_it_was(editor, server):
    server.routes["/infill"] = fs.Reply(fs.llama_stream([]))
    text = [f"!api {server.url}/", "a", "b"]
    editor.set_lines(text)
    tick = editor.eval("b:changedtick")
    editor.command("call cursor(3, 1)")
    editor.command("BufBridgeInfill")
    wait_done(editor)
    assert len(server.requests) == 1
    assert editor.lines() == text
    assert editor.eval("b:changedtick") == tick


@pytest.mark.parametrize("follow", [0, 1])
def test_with_follow_a_cursor_on_the_last_line_follows_the_reply(editor, server, follow):
    server.reply = fs.Reply(fs.openai_chat_stream(["one\n", "two\n", "three"]))
    text = [f"!api {server.url}/", "!user", "Question?"]
    editor.set_lines(text)
    editor.command(f"let g:bufbridge_follow = {follow} | call cursor(3, 1)")
    editor.command("BufBridge")
    wait_done(editor)
    assert editor.lines() == text + ["", "!assistant", "", "one", "two", "three"]
    assert editor.eval("line('.')") == (9 if follow else 3)


def test_with_follow_a_cursor_elsewhere_stays(editor, server):
    server.reply = fs.Reply(fs.openai_chat_stream(["one\n", "two"]))
    editor.set_lines([f"!api {server.url}/", "!user", "Question?"])
    editor.command("let g:bufbridge_follow = 1 | call cursor(2, 1)")
    editor.command("BufBridge")
    wait_done(editor)
    assert editor.eval("line('.')") == 2
