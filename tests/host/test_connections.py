"""The host keeps connections open between requests, and closes them whenever a reply did not end as the server meant."""

import pytest

import fakeserver as fs
from fakeserver import HOLD, Gate, Reply
from test_host import HostProcess, chat


@pytest.fixture
def host():
    process = HostProcess()
    yield process
    process.close()


@pytest.fixture
def server():
    with fs.FakeServer(Reply(fs.openai_chat_stream(["ok"])), keep_alive=True) as srv:
        yield srv


def ask(host, text, args=()):
    return host.reply(host.ask("request", text=text, args=list(args)))


def test_requests_to_one_server_share_one_connection(host, server):
    for n in range(5):
        text, _, done = ask(host, chat(server.url, f"question {n}"))
        assert (text, done["status"]) == ("\n\n!assistant\n\nok", 0)
    assert [r.connection for r in server.requests] == [1] * 5
    assert server.connections == 1


def test_a_completion_the_heuristics_cut_closes_its_connection(host, server, tmp_path):
    profile = tmp_path / "local.profile"
    profile.write_text(f"!api {server.url}/\n")
    server.reply = Reply([*fs.llama_stream(["x * 2\n", "\n", "def g():\n", "    pass\n"], stop=False), HOLD])
    text, _, done = ask(host, "def f(x):\n    return \n", ["--infill-at", "2:12", "--profile", str(profile)])
    assert done["status"] == 0 and text.startswith("x * 2") and "def g" not in text
    assert server.wait_for_disconnect(5), "the server must see the connection close: that is what stops it generating"
    server.reply = Reply(fs.openai_chat_stream(["again"]))
    text, _, _ = ask(host, chat(server.url))
    assert text.endswith("again")
    assert server.requests[-1].connection == 2


def test_cancelling_a_request_on_a_kept_connection_closes_it_and_nothing_else(host, server):
    ask(host, chat(server.url))
    gate = Gate()
    server.reply = Reply([*fs.openai_chat_stream(["first"])[:2], gate, HOLD])
    ident = host.ask("request", text=chat(server.url))
    assert gate.wait_reached()
    host.read_text(ident, "first")
    assert server.requests[-1].connection == 1, "the second request went out on the kept connection"
    assert host.answer(host.ask("cancel", request=ident)) == {"cancelled": True}
    assert server.wait_for_disconnect(5)
    _, _, done = host.reply(ident)
    assert done["cancelled"] is True
    gate.open()
    server.reply = Reply(fs.openai_chat_stream(["after"]))
    text, _, done = ask(host, chat(server.url))
    assert (text, done["status"]) == ("\n\n!assistant\n\nafter", 0)
    assert server.requests[-1].connection == 2


def test_a_kept_connection_the_server_dropped_unanswered_is_replaced_without_a_word(host, server):
    """A server may close an idle connection just as a request goes out on it; the user sees only the reply."""
    ask(host, chat(server.url))

    def hang_up_on_the_old_connection(received):
        if received.connection == 1:
            return Reply(status=None)  # read the request, close without a word
        return Reply(fs.openai_chat_stream(["fresh"]))

    server.handler = hang_up_on_the_old_connection
    text, stderr, done = ask(host, chat(server.url))
    assert (text, stderr, done["status"]) == ("\n\n!assistant\n\nfresh", "", 0)
    assert [r.connection for r in server.requests] == [1, 1, 2]


def test_a_kept_connection_the_server_closed_while_idle_is_not_used():
    with fs.FakeServer(Reply(fs.openai_chat_stream(["ok"])), keep_alive=True, timeout=0.3) as server:
        host = HostProcess()
        try:
            ask(host, chat(server.url))
            server.wait_for_request(2, timeout=1.0)  # nothing comes: the idle connection times out and the server closes it
            text, _, done = ask(host, chat(server.url))
            assert (text, done["status"]) == ("\n\n!assistant\n\nok", 0)
            assert [r.connection for r in server.requests] == [1, 2]
        finally:
            host.close()


def test_a_body_that_goes_on_after_the_end_of_stream_does_not_delay_the_reply(host, server):
    server.reply = Reply([*fs.openai_chat_stream(["done"]), HOLD])  # [DONE], then the body never ends
    text, _, done = ask(host, chat(server.url))
    assert (text, done["status"]) == ("\n\n!assistant\n\ndone", 0)
    assert not server.disconnect.is_set(), "the reply was complete before the connection was given up"
    assert server.wait_for_disconnect(10), "a connection whose body does not end is closed, not kept"
    server.reply = Reply(fs.openai_chat_stream(["next"]))
    text, _, _ = ask(host, chat(server.url))
    assert text.endswith("next") and server.requests[-1].connection == 2
