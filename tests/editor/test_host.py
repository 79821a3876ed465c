"""The long-lived host under a real Vim and Neovim: several replies at once, a host that dies, an editor that exits."""

import json
import os
import signal
import time

import pytest

import fakeserver as fs

from .drivers import host_pids, wait_until
from .test_stream import gated, streaming, wait_done

pytestmark = pytest.mark.editor


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()[0] != "Z"


def test_two_buffers_stream_at_once_through_one_host(editor):
    gates = {}
    with fs.FakeServer() as one, fs.FakeServer() as two:
        for server, word in ((one, "alpha"), (two, "beta")):
            script, gates[word] = gated(fs.openai_chat_stream([word, " done"]), 2)
            server.reply = fs.Reply(script)
        editor.command("set hidden")
        editor.set_lines([f"!api {one.url}/", "!user", "one?"])
        editor.command("BufBridge")
        first = editor.eval("bufnr('')")
        editor.command("enew")
        editor.set_lines([f"!api {two.url}/", "!user", "two?"])
        editor.command("BufBridge")
        assert gates["alpha"].wait_reached(10) and gates["beta"].wait_reached(10)
        wait_until(lambda: editor.eval(f"getbufline({first}, '$')") == ["alpha"], message="the first buffer's first piece")
        wait_until(lambda: editor.lines()[-1] == "beta", message="the second buffer's first piece")
        assert streaming(editor, str(first)) and streaming(editor)
        assert len(host_pids(editor)) == 1
        gates["beta"].open()
        wait_done(editor)
        assert editor.lines()[-1] == "beta done"
        assert streaming(editor, str(first)), "the other reply goes on"
        gates["alpha"].open()
        wait_done(editor, str(first))
        assert editor.eval(f"getbufline({first}, '$')") == ["alpha done"]


def test_a_host_killed_mid_reply_keeps_the_text_says_so_once_and_the_next_request_starts_another(editor, server):
    script, gate = gated(fs.openai_chat_stream(["kept", " lost"]), 2)
    server.reply = fs.Reply(script)
    text = [f"!api {server.url}/", "!user", "Hi"]
    editor.set_lines(text)
    editor.command("BufBridge")
    assert gate.wait_reached(10)
    wait_until(lambda: editor.lines()[-1] == "kept", message="the first piece")
    (host,) = host_pids(editor)
    os.kill(host, signal.SIGKILL)
    wait_done(editor)
    assert editor.lines() == text + ["", "!assistant", "", "kept"]
    assert editor.messages().count("the bufbridge host stopped") == 1
    gate.open()

    server.reply = fs.Reply(fs.openai_chat_stream([" and more"]))
    editor.command("BufBridge")
    wait_done(editor)
    assert editor.lines()[-1] == "kept and more"
    assert host_pids(editor) and host_pids(editor) != [host]


def quit(editor):
    """:qa! without waiting for an answer that never comes."""
    if hasattr(editor, "conn"):  # Vim, over its test channel
        editor.conn.sendall(json.dumps(["ex", "qa!"]).encode())
    else:
        try:
            editor.within(3, editor.session.command, "qa!")
        except Exception:  # Neovim quits before it answers
            pass


@pytest.mark.parametrize("how", ["quit", "kill"])
def test_no_host_outlives_its_editor(editor, server, how):
    script, gate = gated(fs.openai_chat_stream(["waiting"]), 2)
    server.reply = fs.Reply(script)
    editor.set_lines([f"!api {server.url}/", "!user", "Hi"])
    editor.command("BufBridge")
    assert gate.wait_reached(10)
    (host,) = host_pids(editor)
    if how == "quit":
        quit(editor)
    else:
        os.kill(editor.proc.pid, signal.SIGKILL)
    editor.proc.wait(10)
    deadline = time.monotonic() + 10
    while alive(host) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(host), "the host outlived its editor"
    assert server.wait_for_disconnect(5), "the reply's connection outlived the editor"
    gate.open()


def test_restart_starts_a_fresh_host_with_the_next_request(editor, server):
    server.reply = fs.Reply(fs.openai_chat_stream(["one"]))
    text = [f"!api {server.url}/", "!user", "Hi"]
    editor.set_lines(text)
    editor.command("BufBridge")
    wait_done(editor)
    (first,) = host_pids(editor)
    editor.feed(":BufBridgeRestart\r")  # typed: a command run from a script would hide its message
    wait_until(lambda: not alive(first), message="the old host to exit")
    wait_until(lambda: "the host will start again with the next request" in editor.messages(), message="the message")
    server.reply = fs.Reply(fs.openai_chat_stream([" two"]))
    editor.command("BufBridge")
    wait_done(editor)
    assert editor.lines()[-1] == "one two"
    assert host_pids(editor) and host_pids(editor) != [first]
