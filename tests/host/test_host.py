"""`bufbridge host` as an editor drives it: JSON lines on its pipes, against loopback servers."""

import json
import os
import select
import subprocess
import time

import pytest

import fakeserver as fs
from fakeserver import HOLD, Gate, Reply
from loopback import bufbridge_command, child_env, run

TIMEOUT = 20


class HostProcess:
    """A running `bufbridge host`: ask it things, read what it says."""

    def __init__(self, options=()):
        self.proc = subprocess.Popen(bufbridge_command() + [*options, "host"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=child_env())
        self.pending = b""
        self.seen = []
        self.next_id = 0

    def ask(self, method, **params):
        self.next_id += 1
        self.send([self.next_id, {"method": method, **params}])
        return self.next_id

    def send(self, message):
        line = message if isinstance(message, bytes) else json.dumps(message).encode() + b"\n"
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def read(self, timeout=TIMEOUT):
        """The next message from the host."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"the host said nothing for {timeout} s; so far: {self.seen[-5:]}")
            data = os.read(self.proc.stdout.fileno(), 65536)
            if not data:
                raise AssertionError(f"the host closed its output; stderr: {self.proc.stderr.read()!r}")
            self.pending += data
        line, self.pending = self.pending.split(b"\n", 1)
        message = json.loads(line)
        self.seen.append(message)
        return message

    def answer(self, ident):
        """Read until the answer to ask ``ident``; events read meanwhile stay in ``seen``."""
        while True:
            message = self.read()
            if message[0] == ident:
                return message[1]

    def read_text(self, ident, expected):
        """Read until request ``ident``'s text so far ends with ``expected``."""
        while True:
            text = "".join(m[1]["text"] for m in self.seen if m[0] == 0 and m[1].get("request") == ident and m[1]["event"] == "text")
            if text.endswith(expected):
                return text
            self.read()

    def reply(self, ident):
        """Read until request ``ident`` is done (maybe it already is); return (text, stderr, done event)."""

        def events():
            return [m[1] for m in self.seen if m[0] == 0 and m[1].get("request") == ident]

        while not any(e["event"] == "done" for e in events()):
            self.read()
        mine = events()
        text = "".join(e["text"] for e in mine if e["event"] == "text")
        stderr = "".join(e["text"] for e in mine if e["event"] == "stderr")
        return text, stderr, mine[-1]

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def host():
    process = HostProcess()
    yield process
    process.close()


def chat(url, question="hi"):
    return f"!api {url}/v1\n!user\n{question}\n"


def test_it_says_its_version(host):
    answer = host.answer(host.ask("version"))
    assert answer["protocol"] == 1 and answer["version"]


@pytest.mark.parametrize("buffer, args", [
    (lambda url: chat(url), []),
    (lambda url: f"!api {url}/v1\n!:temperature 0.5\nBe terse.\n!user\nwhy?\n!assistant\nBecause\n", []),
    (lambda url: f"!api {url}/v1\n!completion\nonce upon", []),
    (lambda url: f"!api {url}/v1\n!stats\n!user\nhi\n", []),
    (lambda url: "def f(x):\n    return \n", ["--infill-at", "2:12", "--profile", "local", "--no-stop", "all"]),
], ids=["chat", "continue", "completion", "stats", "cursor-infill"])
def test_the_host_sends_and_writes_exactly_what_the_command_line_does(host, server, isolated_config, buffer, args):
    (isolated_config / "profiles").mkdir()
    (isolated_config / "profiles" / "local.profile").write_text(f"!api {server.url}/\n")

    def reply(received):
        if received.path.endswith("chat/completions"):
            return Reply(fs.openai_chat_stream(["Hello", ", world", "\n"], usage={"prompt_tokens": 3, "completion_tokens": 3}))
        if received.path.endswith("infill"):
            return Reply(fs.llama_stream(["x * 2", "\n"]))
        return Reply(fs.openai_completions_stream([" a time", "."]))

    server.handler = reply
    text = buffer(server.url)
    expected = run(text, *args)
    by_cli = server.requests[-1]
    text_by_host, stderr, done = host.reply(host.ask("request", text=text, args=args))
    by_host = server.requests[-1]
    assert by_host is not by_cli
    assert (by_host.target, by_host.body) == (by_cli.target, by_cli.body)
    assert by_host.headers == by_cli.headers
    if "!stats" in text:  # the timings differ from run to run: compare what precedes them
        assert text_by_host.split("!note")[0] == expected.stdout.decode().split("!note")[0]
        assert text_by_host.count("!note") == 1
    else:
        assert text_by_host == expected.stdout.decode()
    assert stderr == expected.stderr.decode()
    assert (done["status"], done["cancelled"]) == (expected.returncode, False)


def test_many_requests_through_one_host(host, server):
    server.reply = Reply(fs.openai_chat_stream(["ok"]))
    pid = host.proc.pid
    for n in range(30):
        text, _, done = host.reply(host.ask("request", text=chat(server.url, f"question {n}")))
        assert (text, done["status"]) == ("\n\n!assistant\n\nok", 0)
    assert len(server.requests) == 30
    assert [r.json["messages"][0]["content"] for r in server.requests] == [f"question {n}" for n in range(30)]
    assert host.proc.pid == pid and host.proc.poll() is None


def test_two_replies_stream_at_once_and_a_hung_server_delays_no_other(host):
    first_gate = Gate()
    with fs.FakeServer(Reply([*fs.openai_chat_stream(["slow"])[:2], first_gate, HOLD])) as hung, \
            fs.FakeServer(Reply(fs.openai_chat_stream(["quick"]))) as quick:
        slow_id = host.ask("request", text=chat(hung.url))
        assert first_gate.wait_reached()
        host.read_text(slow_id, "slow")
        quick_id = host.ask("request", text=chat(quick.url))
        text, _, done = host.reply(quick_id)
        assert (text, done["status"]) == ("\n\n!assistant\n\nquick", 0)
        host.answer(host.ask("cancel", request=slow_id))
        text, _, done = host.reply(slow_id)
        assert text == "\n\n!assistant\n\nslow"
        assert done["cancelled"] is True
        assert hung.wait_for_disconnect(5)
        first_gate.open()


def test_cancel_closes_the_connection_at_once(host, server):
    gate = Gate()
    server.reply = Reply([*fs.openai_chat_stream(["first"])[:2], gate, HOLD])
    ident = host.ask("request", text=chat(server.url))
    assert gate.wait_reached()
    host.read_text(ident, "first")
    started = time.monotonic()
    assert host.answer(host.ask("cancel", request=ident)) == {"cancelled": True}
    assert server.wait_for_disconnect(5)
    assert time.monotonic() - started < 1.0, "the server must see the connection close at once"
    text, _, done = host.reply(ident)
    assert text == "\n\n!assistant\n\nfirst"
    assert done["cancelled"] is True
    gate.open()


def test_cancelling_what_is_not_running_is_harmless(host):
    assert host.answer(host.ask("cancel", request=12345)) == {"cancelled": False}


def test_when_the_editor_goes_the_host_cancels_everything_and_exits(server):
    process = HostProcess()
    gate = Gate()
    server.reply = Reply([*fs.openai_chat_stream(["first"])[:2], gate, HOLD])
    process.ask("request", text=chat(server.url))
    assert gate.wait_reached()
    process.proc.stdin.close()  # the editor exited, or was killed
    assert process.proc.wait(10) == 0
    assert server.wait_for_disconnect(5)
    gate.open()
    process.close()


@pytest.mark.parametrize("line, complaint", [
    (b"not json\n", "not JSON"),
    (b"[1, 2, 3]\n", "[ID,"),
    (b'[0, {"method": "version"}]\n', "positive integer ID"),
    (b'[-4, {"method": "version"}]\n', "positive integer ID"),
    (b'{"method": "version"}\n', "[ID,"),
    (b'[7, {"no": "method"}]\n', "[ID,"),
])
def test_a_line_that_is_not_a_message_is_reported_and_the_host_goes_on(host, line, complaint):
    host.send(line)
    message = host.read()
    assert message[0] == 0 and message[1]["event"] == "protocol-error"
    assert complaint in message[1]["message"]
    assert host.answer(host.ask("version"))["protocol"] == 1


def test_an_unknown_method_is_answered_with_an_error(host):
    assert "no method 'frobnicate'" in host.answer(host.ask("frobnicate"))["error"]


def test_a_failing_request_ends_with_its_error_block_and_status(host):
    closed = fs.closed_port()
    text, _, done = host.reply(host.ask("request", text=f"!api http://127.0.0.1:{closed}/v1\n!user\nhi\n"))
    assert text.startswith("\n\n!error\n\n") and text.count("\n!error\n") == 1
    assert "connection refused" in text
    assert (done["status"], done["cancelled"]) == (1, False)


def test_a_request_is_answered_before_any_of_its_events(host, server):
    server.reply = Reply(fs.openai_chat_stream(["a", "b", "c"]))
    for _ in range(10):
        ident = host.ask("request", text=chat(server.url))
        host.reply(ident)
        mine = [m for m in host.seen if m[0] == ident or (m[0] == 0 and m[1].get("request") == ident)]
        assert mine[0] == [ident, {"started": ident}]


def test_each_request_reads_files_from_its_own_folder(host, server, tmp_path):
    server.reply = Reply(fs.openai_chat_stream(["ok"]))
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "notes.txt").write_text(f"notes of {name}\n")
    for name in ("one", "two"):
        text, _, done = host.reply(host.ask("request", text=f"!api {server.url}/v1\n!user\n!context notes.txt\n",
                                            cwd=str(tmp_path / name)))
        assert done["status"] == 0, text
        assert f"notes of {name}" in server.requests[-1].json["messages"][0]["content"]
    text, _, done = host.reply(host.ask("request", text=f"!api {server.url}/v1\n!user\n!context ../one/notes.txt\n",
                                        cwd=str(tmp_path / "two")))
    assert done["status"] == 1 and "outside the current folder" in text, "a request's folder confines it (rule 5)"


def test_a_bad_argument_ends_only_its_own_request(host, server):
    text, stderr, done = host.reply(host.ask("request", text="!user\nhi\n", args=["--bogus"]))
    assert (text, done["status"]) == ("", 2)
    assert "bufbridge: error: unrecognized arguments: --bogus" in stderr and "internal error" not in stderr
    server.reply = Reply(fs.openai_chat_stream(["still here"]))
    text, _, done = host.reply(host.ask("request", text=chat(server.url)))
    assert (text, done["status"]) == ("\n\n!assistant\n\nstill here", 0)


def test_options_before_host_apply_to_every_request(server, isolated_config):
    (isolated_config / "profiles").mkdir()
    (isolated_config / "profiles" / "box.profile").write_text(f"!api {server.url}/v1\n")
    server.reply = Reply(fs.openai_chat_stream(["boxed"]))
    process = HostProcess(options=["--profile", "box"])
    try:
        text, _, done = process.reply(process.ask("request", text="!user\nhi\n"))
        assert (text, done["status"]) == ("\n\n!assistant\n\nboxed", 0)
        assert server.requests[0].path == "/v1/chat/completions"
    finally:
        process.close()


def test_cursor_infill_reads_extra_files_and_names_the_repository_from_its_own_folder(host, server, isolated_config, tmp_path):
    (isolated_config / "profiles").mkdir()
    (isolated_config / "profiles" / "local.profile").write_text(f"!api {server.url}/\n")
    server.reply = Reply(fs.openai_completions_stream(["1"]))
    for name in ("alpha", "beta"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "util.py").write_text(f"HELPER = '{name}'\n")
        args = ["--infill-at", "1:5", "--profile", "local", "--fim", "qwen", "--extra", "util.py", "--no-stop", "all"]
        _, stderr, done = host.reply(host.ask("request", text="x = \n", args=args, cwd=str(tmp_path / name)))
        assert done["status"] == 0, stderr
        prompt = server.requests[-1].json["prompt"]
        assert f"<|repo_name|>{name}" in prompt and f"HELPER = '{name}'" in prompt


def test_extra_context_goes_inline_in_its_order_and_never_a_secret(host, server, isolated_config):
    (isolated_config / "profiles").mkdir()
    (isolated_config / "profiles" / "local.profile").write_text(f"!api {server.url}/\n")
    server.routes["/infill"] = Reply(fs.llama_stream(["1"]))
    extra = [{"filename": "z.py", "text": "Z = 1\n"}, {"filename": "a.py", "text": "A = 1\n"},
             {"filename": "z.py", "text": "Z2 = 2\n"}, {"filename": "conf/.env", "text": "TOKEN=hunter2\n"},
             {"filename": ".ssh/config", "text": "Host x\n"}]
    args = ["--infill-at", "1:5", "--profile", "local", "--no-stop", "all"]
    text, stderr, done = host.reply(host.ask("request", text="x = \n", args=args, extra=extra))
    assert done["status"] == 0, stderr
    assert text == "1"
    sent = server.requests[-1].json["input_extra"]
    assert sent == extra[:3], "chunks go in the editor's order, two of one file included"
    assert "hunter2" not in server.requests[-1].body.decode()
    assert "left out 2 context items that look like secrets: .ssh/config, conf/.env" in stderr


@pytest.mark.parametrize("extra", [{"filename": "a"}, [{"filename": "a", "text": 1}], ["x"], [{"text": "t"}],
                                   [{"filename": "a", "text": ""}] * 65])
def test_a_bad_extra_is_refused_and_the_host_goes_on(host, extra):
    answer = host.answer(host.ask("request", text="x\n", args=["--infill-at", "1:1"], extra=extra))
    assert answer["error"].startswith("extra must be a list of at most 64")
    assert host.answer(host.ask("version"))["protocol"] == 1
