"""``bufbridge --infill-at``: the CLI contract, over a real loopback HTTP server."""

import io
import json
import os
import subprocess
import sys
import time

import pytest

import fakeserver as fs
from bridge import cli, stops

SOURCE = "import math\n\n\ndef norm(v):\n    return math.sqrt(sum(x * x for x in v))\n\n\ndef norm2(v):\n    \n"
AT = "9:5"  # the indented empty line in norm2's body
RUNAWAY = ["return", " sum", "(x", " *", " x", " for", " x", " in", " v", ")\n", "\n", "\n", "def", " norm", "3", "(v", "):\n", "   ", " return", " 0", "\n"]


@pytest.fixture
def server():
    with fs.FakeServer(timeout=10) as srv:
        yield srv


@pytest.fixture
def env(isolated_config, server):
    (isolated_config / "profiles").mkdir()
    (isolated_config / "profiles" / "loop.profile").write_text(f"!api {server.url}/\n!:cache_prompt true\n")
    return {**os.environ, "BUFBRIDGE_PROFILE": "loop"}


def bufbridge(argv, source, env):
    out, err = io.BytesIO(), io.StringIO()
    status = cli.main(argv, stdin=io.BytesIO(source.encode()), stdout=out, stderr=err, env=env)
    return status, out.getvalue().decode(), err.getvalue()


def test_the_cut_closes_the_connection_while_the_server_is_still_generating(server, env):
    server.reply = fs.Reply(fs.llama_stream(RUNAWAY, stop=False) + [fs.HOLD])  # a server that would go on and on
    status, out, err = bufbridge(["--infill-at", AT], SOURCE, env)
    assert (status, out, err) == (0, "return sum(x * x for x in v)", "")
    assert server.wait_for_disconnect(5)
    got = server.requests[0]
    assert got.path == "/infill"
    assert got.json["n_indent"] == 4 and got.json["prompt"] == "    " and got.json["input_suffix"] == "\n"
    assert got.json["input_prefix"] == SOURCE.split("    \n")[0]


def test_the_source_is_never_read_as_directives(server, env):
    source = "!api http://evil.invalid/\n!:model stolen\n!>authorization Bearer $HOME\n!profile openai\n!debug\nx = █\n"
    server.reply = fs.Reply(fs.llama_stream(["1"]))
    status, out, _ = bufbridge(["--infill-at", "6:5"], source.replace("█", ""), env)
    assert (status, out) == (0, "1")
    got = server.requests[0]
    assert got.path == "/infill" and "authorization" not in got.header_names()
    assert "model" not in got.json and "messages" not in got.json
    assert got.json["input_prefix"] == source.split("x = █")[0]


def test_profile_and_template_can_come_from_the_environment(server, env):
    server.reply = fs.Reply(fs.openai_completions_stream(["return 1", "<|file_sep|>", "b.py\n"], finish=None, done=False) + [fs.HOLD])
    status, out, _ = bufbridge(["--infill-at", AT], SOURCE, {**env, "BUFBRIDGE_FIM": "qwen"})
    assert (status, out) == (0, "return 1")
    got = server.requests[0]
    assert got.path == "/completions"
    assert got.json["prompt"] == "<|fim_prefix|>" + SOURCE[:-1] + "<|fim_suffix|>\n<|fim_middle|>"
    assert "<|file_sep|>" in got.json["stop"] and "n_indent" not in got.json


def test_options_beat_the_environment(server, env, isolated_config):
    (isolated_config / "profiles" / "other.profile").write_text(f"!api {server.url}/v9/\n")
    server.reply = fs.Reply(fs.openai_completions_stream(["x"]))
    bufbridge(["--infill-at", AT, "--profile", "other", "--fim", "fim:granite"], SOURCE, {**env, "BUFBRIDGE_FIM": "qwen"})
    got = server.requests[0]
    assert got.path == "/v9/completions" and got.json["prompt"].startswith("<fim_prefix>")


def test_extra_files_go_to_input_extra_sorted(server, env, tmp_path):
    (tmp_path / "b.py").write_text("B = 2\n")
    (tmp_path / "a.py").write_text("A = 1\n")
    server.reply = fs.Reply(fs.llama_stream(["1"]))
    bufbridge(["--infill-at", AT, "--extra", str(tmp_path / "b.py"), "--extra", str(tmp_path / "a.py")], SOURCE, env)
    extra = server.requests[0].json["input_extra"]
    assert [(e["filename"].rsplit("/", 1)[1], e["text"]) for e in extra] == [("a.py", "A = 1\n"), ("b.py", "B = 2\n")]


def test_no_stop_all_writes_what_the_model_wrote(server, env):
    server.reply = fs.Reply(fs.llama_stream(RUNAWAY))
    status, out, _ = bufbridge(["--infill-at", AT, "--no-stop", "all"], SOURCE, env)
    assert (status, out) == (0, "".join(RUNAWAY))
    assert not server.requests[0].disconnected
    body = server.requests[0].json
    assert "n_indent" not in body and "t_max_predict_ms" not in body


def test_no_stop_one_heuristic(server, env):
    server.reply = fs.Reply(fs.llama_stream(RUNAWAY))
    status, out, _ = bufbridge(["--infill-at", AT, "--no-stop", "dedent,new-definition"], SOURCE, env)
    assert out == "return sum(x * x for x in v)\n\n\ndef norm3(v):\n    return 0"


def test_a_profile_turns_heuristics_off_through_the_template_it_names(server, env, isolated_config):
    (isolated_config / "fim_templates").mkdir()
    (isolated_config / "fim_templates" / "lenient.json").write_text(json.dumps({
        "description": "a template whose stops are relaxed",
        "template": "<P>{prefix}<S>{suffix}<M>",
        "heuristics": {"dedent": False, "new-definition": False},
    }))
    (isolated_config / "profiles" / "lenient.profile").write_text(f"!api {server.url}/\n!profile fim:lenient\n")
    server.reply = fs.Reply(fs.llama_stream(RUNAWAY))
    status, out, _ = bufbridge(["--infill-at", AT, "--profile", "lenient"], SOURCE, env)
    assert server.requests[0].path == "/completions" and server.requests[0].json["prompt"].startswith("<P>import math")
    assert (status, out) == (0, "return sum(x * x for x in v)\n\n\ndef norm3(v):\n    return 0")


def test_time_budget(server, env):
    script = fs.llama_stream(["a = 1\n"], stop=False) + [fs.Pause(0.4)] + fs.llama_stream(["    b = 2\n", "    c"], stop=False) + [fs.HOLD]
    server.reply = fs.Reply(script)
    status, out, _ = bufbridge(["--infill-at", AT, "--max-ms", "150"], SOURCE, env)
    assert (status, out) == (0, "a = 1\n    b = 2")
    assert server.requests[0].json["t_max_predict_ms"] == 150
    assert server.wait_for_disconnect(5)


def test_the_time_budget_is_a_hard_cap_inside_one_endless_line(server, env):
    """The 49 s report: one line that never ends. The budget ends it and the connection closes."""
    tokens = ["return [", *[piece for n in range(400) for piece in (str(n), ", ")]]
    script = [item for piece in tokens for item in (*fs.llama_stream([piece], stop=False), fs.Pause(0.05))]  # 40 s if nothing stops it
    server.reply = fs.Reply(script + [fs.HOLD])
    started = time.monotonic()
    status, out, err = bufbridge(["--infill-at", AT, "--max-ms", "300"], SOURCE, env)
    assert time.monotonic() - started < 10
    assert status == 0 and out.startswith("return [0, 1") and out.endswith(","), (out, err)  # up to its last whole word
    assert server.wait_for_disconnect(5)
    assert server.requests[0].json["t_max_predict_ms"] == 300


@pytest.mark.parametrize("profile, argv, expected", [
    ("", [], {"max_tokens": 40 * 32}),  # the default line budget × 32 tokens a line
    ("", ["--max-lines", "3"], {"max_tokens": 96}),
    ("", ["--max-lines", "500"], {"max_tokens": 2000}),  # capped: never more than the old default
    ("", ["--no-stop", "max-lines"], {"max_tokens": 2000}),  # no line budget: the buffer language's default
    ("!:max_tokens 7\n", ["--max-lines", "3"], {"max_tokens": 7}),  # the user's value wins
    ("!:n_predict 64\n", [], {"max_tokens": 2000, "n_predict": 64}),  # llama.cpp reads n_predict first: left alone
    ("!:max_tokens\n", [], {}),  # deleted by the profile: stays deleted
])
@pytest.mark.parametrize("fim", [[], ["--fim", "qwen"]], ids=["infill", "template"])
def test_the_token_limit_follows_the_line_budget(env, isolated_config, server, profile, argv, expected, fim):
    (isolated_config / "profiles" / "sized.profile").write_text(f"!api {server.url}/\n{profile}")
    status, out, _ = bufbridge(["--infill-at", AT, "--profile", "sized", "--debug", *fim, *argv], SOURCE, env)
    body = json.loads(out.strip().split("\n")[-1])
    assert status == 0 and {k: body[k] for k in ("max_tokens", "n_predict") if k in body} == expected


@pytest.mark.parametrize("script, note", [
    (fs.llama_stream([]), "bufbridge: nothing to insert: the server sent no text\n"),
    (fs.llama_stream(["\n", "\n"]), "bufbridge: nothing to insert: the model wrote only whitespace (2 characters)\n"),
    (fs.llama_stream(["\n", "def", " norm3", "(v):\n"], stop=False) + [fs.HOLD],
     "bufbridge: nothing to insert: the dedent heuristic cut the model's 15 characters to nothing"
     " (the first line was indented less than the cursor's block); --no-stop dedent keeps them\n"),
])
def test_an_empty_insertion_says_why_on_one_line(server, env, script, note):
    server.reply = fs.Reply(script)
    assert bufbridge(["--infill-at", AT], SOURCE, env) == (0, "", note)


def test_verbose_names_the_heuristic(server, env):
    server.reply = fs.Reply(fs.llama_stream(RUNAWAY))
    _, _, err = bufbridge(["--infill-at", AT, "-v"], SOURCE, env)
    assert "completion cut by the dedent heuristic" in err


@pytest.mark.parametrize("argv, message", [
    (["--infill-at", "99:1"], "--infill-at 99:1: the input has only 10 lines"),
    (["--infill-at", "x"], "expected LINE:COL"),
    (["--infill-at", AT, "--no-stop", "indent"], "--no-stop indent: no such stop heuristic"),
    (["--infill-at", AT, "--fim", "nosuch"], "no profile named 'fim:nosuch'"),
])
def test_errors_go_to_stderr_never_into_the_code(server, env, argv, message):
    status, out, err = bufbridge(argv, SOURCE, env)
    assert (status, out) == (1, "")
    assert err.startswith("bufbridge: error: ") and message in err
    assert not server.requests


def test_a_server_error_goes_to_stderr_too(server, env):
    server.reply = fs.json_reply(501, {"error": {"code": 501, "message": "Infill is not supported by this model", "type": "not_supported_error"}})
    status, out, err = bufbridge(["--infill-at", AT], SOURCE, env)
    assert (status, out) == (1, "")
    assert "HTTP 501" in err and "--fim NAME (in the editor: let g:bufbridge_infill_args = ['--fim', 'qwen'])" in err
    assert "!profile" not in err, "no directive works in a source file"


def test_a_prompt_too_long_for_the_server_names_the_options_that_shorten_it(server, env):
    server.reply = fs.json_reply(400, {"error": {"code": 400, "message": "the request exceeds the available context size",
                                                  "type": "exceed_context_size_error", "n_prompt_tokens": 5000, "n_ctx": 4096}})
    status, out, err = bufbridge(["--infill-at", AT], SOURCE, env)
    assert (status, out) == (1, "")
    assert "the prompt is 5000 tokens but the server's context holds 4096" in err
    assert "--ctx-tokens N and --extra-tokens N" in err and "!begin" not in err


def test_debug_prints_the_request_and_sends_nothing(server, env):
    status, out, _ = bufbridge(["--infill-at", AT, "--debug"], SOURCE, env)
    assert status == 0 and f"POST {server.url}/infill HTTP/1.1" in out
    assert json.loads(out.strip().split("\n")[-1])["n_indent"] == 4
    assert not server.requests


MARKER = "import math\n\n\ndef norm(v):\n    return math.sqrt(sum(x * x for x in v))\n\n\ndef norm2(v):\n!infill\n\n\ndef dot(a, b):\n    return sum(x * y for x, y in zip(a, b))\n"
MARKER_RUNAWAY = ["    return", " sum", "(x", " *", " x", " for", " x", " in", " v", ")\n", "\n", "\n", "def", " norm", "3", "(v", "):\n",
                  "    return", " max", "(v", ")\n", "\n", "\n", "def", " norm", "4", "(v", "):\n", "    return", " 0", "\n"]


@pytest.mark.parametrize("directives, fim", [("", None), ("!profile loop\n!profile fim:qwen\n", "qwen")])
def test_the_illume_marker_reply_is_cut_and_the_request_is_illumes(server, env, directives, fim):
    """The seed runaway (norm, norm2, then norm3, norm4...) written in an !infill buffer: cut client-side."""
    stream = fs.llama_stream if fim is None else fs.openai_completions_stream
    replies = [fs.Reply(stream(MARKER_RUNAWAY)), fs.Reply(stream(MARKER_RUNAWAY))]
    server.handler = lambda received: replies.pop(0)
    cut = bufbridge([], directives + MARKER, env)
    whole = bufbridge([], directives + "!heuristics off\n" + MARKER, env)
    assert cut == (0, "    return sum(x * x for x in v)", "")
    assert whole == (0, "".join(MARKER_RUNAWAY), "")  # Illume's output
    first, second = server.requests
    assert first.raw == second.raw  # the request is Illume's either way, byte for byte
    assert first.path == ("/infill" if fim is None else "/completions")
    assert "n_indent" not in first.json and "t_max_predict_ms" not in first.json and first.json["max_tokens"] == 2000


def test_the_marker_reply_keeps_a_whole_body_and_drops_what_follows(server, env):
    server.reply = fs.Reply(fs.llama_stream(["    x = 1   \n", "    y = 2\n\n", "def g():\n"], stop=False) + [fs.HOLD])
    status, out, _ = bufbridge([], "def f():\n!infill\n\nprint(f())\n", env)
    assert (status, out) == (0, "    x = 1\n    y = 2")
    assert server.wait_for_disconnect(5), "the cut closes the connection, which stops the server"
    body = server.requests[0].json
    assert body["prompt"] == "" and body["input_prefix"] == "def f():\n" and body["input_suffix"] == "\nprint(f())"


def test_the_marker_has_no_budgets(server, env):
    long = [f"    x{n} = {n}\n" for n in range(60)]  # more than cursor infill's 40 lines
    server.reply = fs.Reply(fs.llama_stream(long))
    assert bufbridge([], "def f():\n!infill\n", env) == (0, "".join(long).rstrip(), "")


def test_an_empty_marker_reply_says_why_and_how_to_keep_it(server, env):
    server.reply = fs.Reply(fs.llama_stream(["\n", "def", " dot", "(a, b):\n"], stop=False) + [fs.HOLD])
    status, out, err = bufbridge([], MARKER.replace("def norm2(v):\n", "def norm2(v):\n    s = 0\n"), env)
    assert (status, out) == (0, "")
    assert err == ("bufbridge: nothing to insert: the suffix-repeat heuristic cut the model's 16 characters to nothing"
                   " (they only repeated the text after the cursor); `!heuristics off` keeps them\n")


@pytest.mark.parametrize("profile, buffer, on", [
    ("", "", True),
    ("!heuristics off\n", "", False),
    ("!heuristics off\n", "!heuristics on\n", True),  # the buffer wins
    ("!heuristics on\n", "!heuristics off\n", False),
    ("", "!heuristics off\n!heuristics on\n", True),  # the last line wins
])
def test_heuristics_directive_precedence(server, env, isolated_config, profile, buffer, on):
    (isolated_config / "profiles" / "loop.profile").write_text(f"!api {server.url}/\n{profile}")
    server.reply = fs.Reply(fs.llama_stream(["    x = 1   \n", "def g():\n"]))
    _, out, _ = bufbridge([], buffer + "def f():\n!infill\n", env)
    assert out == ("    x = 1" if on else "    x = 1   \ndef g():\n")


def test_a_profiles_heuristics_off_applies_to_cursor_infill(server, env, isolated_config):
    (isolated_config / "profiles" / "loop.profile").write_text(f"!api {server.url}/\n!heuristics off\n")
    server.reply = fs.Reply(fs.llama_stream(RUNAWAY))
    status, out, _ = bufbridge(["--infill-at", AT], SOURCE, env)
    assert (status, out) == (0, "".join(RUNAWAY))
    assert "n_indent" not in server.requests[0].json


@pytest.mark.parametrize("line", ["!heuristics", "!heuristics maybe", "!heuristics off dedent"])
def test_heuristics_takes_on_or_off(server, env, line):
    status, out, _ = bufbridge([], f"def f():\n{line}\n!infill\n", env)
    assert status == 1 and out.startswith("\n\n!error\n\n<stdin>:2: ") and "expected on or off" in out
    assert "`!heuristics off` or `!heuristics on`" in out
    assert not server.requests


def test_help_documents_the_contract():
    text = cli.parser().format_help()
    for word in ("--infill-at LINE:COL", "--fim TEMPLATE", "--extra FILE", "--extra-json FILE", "--filename NAME",
                 "--prefix-lines N", "--suffix-lines N", "--ctx-tokens N", "--no-stop NAME", "--max-lines N",
                 "--max-ms MS", "$BUFBRIDGE_FIM", "no line of it is read", *stops.NAMES):
        assert word in text, word


def test_the_console_script_reads_the_file_argument_and_names_it(server, env, tmp_path):
    source = tmp_path / "vec.c"
    source.write_text("int f(void)\n{\n    \n}\n")
    (tmp_path / "util.h").write_text("int g(void);\n")
    command = [sys.executable, "-m", "bridge", "--infill-at", "3:5", "--fim", "granite", "--extra", str(tmp_path / "util.h"), "--debug", str(source)]
    done = subprocess.run(command, capture_output=True, env=env, check=True)
    body = json.loads(done.stdout.decode().strip().split("\n")[-1])
    assert body["prompt"].startswith(f"<fim_prefix>// {tmp_path / 'util.h'}\nint g(void);\n\nint f(void)\n{{\n    <fim_suffix>")
