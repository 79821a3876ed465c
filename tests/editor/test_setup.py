"""Loading, mappings, options, help and the Neovim fallback, in a real Vim and a real Neovim."""

import re
import shutil
import sys

import pytest

import fakeserver as fs

from .drivers import REPO, EditorError, descendants, host_pids, vim_setup, wait_until

pytestmark = pytest.mark.editor

KINDS = ["vim", "nvim"]
DEFAULT_KEYS = {"<Leader>bb": "send", "<Leader>bi": "infill", "<Leader>bx": "stop"}


def maparg(editor, lhs):
    return editor.eval(f"maparg('{lhs}', 'n')")


def wait_done(editor, timeout=15):
    wait_until(lambda: not editor.eval("exists('b:bufbridge_job')"), timeout, message="the reply to finish")


@pytest.mark.parametrize("kind", KINDS)
def test_loading_the_plugin_defines_commands_and_maps_but_loads_nothing_else(kind, start_editor):
    editor = start_editor(kind)
    for command in ("BufBridge", "BufBridgeInfill", "BufBridgeStop"):
        assert editor.eval(f"exists(':{command}')") == 2
    for key, action in DEFAULT_KEYS.items():
        assert maparg(editor, key) == f"<Plug>(bufbridge-{action})"
    assert editor.eval("exists('g:autoloaded_bufbridge')") == 0, "plugin/ sourced the autoload file at startup"


@pytest.mark.parametrize("kind", KINDS)
def test_a_key_that_is_taken_is_left_alone(kind, start_editor):
    editor = start_editor(kind, before=[
        "nnoremap <Leader>bb :echo 'mine'<CR>",  # the key is taken
        "nmap <F5> <Plug>(bufbridge-stop)",  # the action has a key of the user's choice
    ])
    assert maparg(editor, "<Leader>bb") == ":echo 'mine'<CR>"
    assert maparg(editor, "<Leader>bi") == "<Plug>(bufbridge-infill)"
    assert maparg(editor, "<Leader>bx") == ""
    assert maparg(editor, "<F5>") == "<Plug>(bufbridge-stop)"


@pytest.mark.parametrize("kind", KINDS)
def test_no_default_maps_with_the_opt_out(kind, start_editor):
    editor = start_editor(kind, before=["let g:bufbridge_no_maps = 1"])
    for key, action in DEFAULT_KEYS.items():
        assert maparg(editor, key) == ""
        assert maparg(editor, f"<Plug>(bufbridge-{action})") != ""


@pytest.mark.parametrize("kind", KINDS)
def test_the_default_key_sends_the_buffer(kind, start_editor, server):
    server.reply = fs.Reply(fs.openai_chat_stream(["mapped"]))
    editor = start_editor(kind)
    editor.set_lines([f"!api {server.url}/", "!user", "Hi"])
    editor.feed("\\bb")  # <Leader> is a backslash by default
    wait_until(lambda: editor.lines()[-1] == "mapped", message="the reply")
    wait_done(editor)


@pytest.mark.parametrize("kind", KINDS)
def test_the_command_may_be_a_string(kind, start_editor, server):
    server.reply = fs.Reply(fs.openai_chat_stream(["string"]))
    editor = start_editor(kind, command=f"{sys.executable} -m bridge")
    editor.set_lines([f"!api {server.url}/", "!user", "Hi"])
    editor.command("BufBridge")
    wait_done(editor)
    assert editor.lines()[-1] == "string"


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_program_is_an_error_that_names_the_option(kind, start_editor, tmp_path):
    editor = start_editor(kind, command=[str(tmp_path / "no-such-bufbridge")])
    editor.set_lines(["!user", "Hi"])
    with pytest.raises(EditorError, match=r"bufbridge: cannot run .*no-such-bufbridge.*g:bufbridge_command"):
        editor.command("BufBridge")
    assert editor.lines() == ["!user", "Hi"]
    assert not editor.eval("exists('b:bufbridge_job')")


@pytest.mark.parametrize("kind", KINDS)
def test_helptags_and_help(kind, start_editor, tmp_path):
    tree = tmp_path / "plugin-copy"  # doc/tags is generated here, not in the checkout
    for part in ("plugin", "autoload", "doc"):
        shutil.copytree(REPO / part, tree / part)
    editor = start_editor(kind, setup=vim_setup(rtp=tree))
    editor.command(f"helptags {tree / 'doc'}")
    tags = (tree / "doc" / "tags").read_text()
    for topic in ("bufbridge", ":BufBridge", ":BufBridgeInfill", ":BufBridgeStop", "g:bufbridge_command",
                  "g:bufbridge_no_maps", "<Plug>(bufbridge-send)", "<Plug>(bufbridge-infill)",
                  "<Plug>(bufbridge-stop)", "b:bufbridge_job", "bufbridge-undo", "g:bufbridge_infill",
                  "b:bufbridge_infill", "g:bufbridge_infill_args", "b:bufbridge_infill_args",
                  "bufbridge-cursor-infill", "bufbridge-marker-infill", "bufbridge-edits",
                  "g:bufbridge_infill_context", "b:bufbridge_infill_context"):
        assert f"{topic}\tbufbridge.txt\t" in tags
        editor.command(f"help {topic}")
        assert editor.eval("&buftype") == "help"
        assert editor.eval("expand('%:t')") == "bufbridge.txt", topic
        editor.command("helpclose")


def test_help_file_layout():
    text = (REPO / "doc" / "bufbridge.txt").read_text()
    lines = text.splitlines()
    assert lines[0].startswith("*bufbridge.txt*")
    assert lines[-1] == " vim:tw=78:et:ft=help:norl:"
    assert all(len(line) <= 78 for line in lines)
    assert "\t" not in text
    for line in lines:  # tags stand at the right margin
        if re.search(r"\*\S+\*$", line) and not line.startswith("*bufbridge.txt*"):
            assert len(line) == 78, line


def test_every_function_aborts_and_plugin_only_declares():
    for path in (REPO / "plugin" / "bufbridge.vim", *sorted((REPO / "autoload").rglob("*.vim"))):
        for line in path.read_text().splitlines():
            if re.match(r"\s*fu(nction)?!?\s", line):
                assert line.rstrip().endswith("abort"), f"{path.name}: {line}"
    plugin = (REPO / "plugin" / "bufbridge.vim").read_text()
    assert "function" not in plugin
    assert "job_start" not in plugin and "jobstart" not in plugin


@pytest.mark.parametrize("kind", KINDS)
def test_every_request_goes_through_one_long_lived_host(kind, start_editor, server):
    server.reply = fs.Reply(fs.openai_chat_stream(["one"]))
    editor = start_editor(kind)
    text = [f"!api {server.url}/", "!user", "Hi"]
    editor.set_lines(text)
    editor.command("BufBridge")
    wait_done(editor)
    first = host_pids(editor)
    assert len(first) == 1
    for n in range(3):
        server.reply = fs.Reply(fs.openai_chat_stream([f" {n}"]))
        editor.command("BufBridge")
        wait_done(editor)
    assert editor.lines() == text + ["", "!assistant", "", "one 0 1 2"]
    assert host_pids(editor) == first, "one host serves every request"
    assert len(server.requests) == 4
    assert "process of its own" not in editor.messages()


@pytest.mark.parametrize("kind", KINDS)
def test_when_the_host_cannot_run_it_says_so_once_and_uses_a_process_per_request(kind, start_editor, server):
    server.reply = fs.Reply(fs.openai_chat_stream(["plain"]))
    # An older bufbridge without `host`: it exits at once when asked for one.
    no_host = "import sys\nif sys.argv[-1] == 'host': sys.exit(2)\nfrom bridge.cli import entry\nentry()"
    editor = start_editor(kind, command=[sys.executable, "-c", no_host])
    text = [f"!api {server.url}/", "!user", "Hi"]
    editor.set_lines(text)
    editor.command("BufBridge")
    wait_done(editor)
    assert editor.lines() == text + ["", "!assistant", "", "plain"]

    server.reply = fs.Reply(fs.openai_chat_stream([" again"]))  # continues the reply
    editor.command("BufBridge")
    wait_done(editor)
    assert editor.lines()[-1] == "plain again"
    assert editor.messages().count("bufbridge: the host could not start") == 1
    assert len(server.requests) == 2


@pytest.mark.parametrize("kind", KINDS)
def test_a_chat_send_from_a_source_file_without_a_role_line_asks_for_the_bang(kind, start_editor, server):
    server.reply = fs.Reply(fs.openai_chat_stream(["chat"]))
    editor = start_editor(kind)
    code = [f"!api {server.url}/", "def f():", "    pass"]
    editor.set_lines(code)
    editor.command("set filetype=python")
    with pytest.raises(EditorError, match="no !user line in this python file; :BufBridge! sends it anyway, :BufBridgeInfill completes code"):
        editor.command("BufBridge")
    assert editor.lines() == code and not server.requests
    editor.command("BufBridge!")
    wait_done(editor)
    assert editor.lines() == code + ["", "!assistant", "", "chat"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_buffer_that_cannot_be_changed_is_not_sent(kind, start_editor, server):
    editor = start_editor(kind)
    editor.set_lines([f"!api {server.url}/", "!user", "Hi"])
    editor.command("setlocal nomodifiable")
    with pytest.raises(EditorError, match="this buffer is not modifiable"):
        editor.command("BufBridge")
    assert not server.requests


@pytest.mark.parametrize("kind", KINDS)
def test_the_status_says_waiting_then_streaming_then_nothing_or_failed(kind, start_editor, server):
    first, second = fs.Gate(), fs.Gate()
    script = fs.openai_chat_stream(["one", " two"])
    server.reply = fs.Reply([first, *script[:2], second, *script[2:]])
    editor = start_editor(kind)
    editor.set_lines([f"!api {server.url}/", "!user", "Hi"])
    assert editor.eval("bufbridge#status()") == ""
    editor.command("BufBridge")
    assert first.wait_reached(10)
    assert editor.eval("bufbridge#status()").startswith("bufbridge: waiting ")
    wait_until(lambda: editor.eval("bufbridge#status()") == "bufbridge: waiting 1s", message="the seconds counting")
    first.open()
    assert second.wait_reached(10)
    wait_until(lambda: editor.eval("bufbridge#status()") == "bufbridge: streaming", message="the first piece")
    second.open()
    wait_done(editor)
    assert editor.eval("bufbridge#status()") == ""

    server.reply = fs.json_reply(500, {"error": {"message": "boom"}})
    editor.command("BufBridge")
    wait_done(editor)
    assert editor.eval("bufbridge#status()") == "bufbridge: failed"
