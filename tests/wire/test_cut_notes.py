"""No reply is cut silently on the OpenAI-compatible and llama.cpp formats, in the buffer or at a cursor.

Each case: a buffer (or a source file and ``--infill-at``), the stream the
server sends, and exactly what bufbridge writes to standard output and
standard error. In chat and completion modes the note follows the reply in
the buffer; in infill modes the reply is code, so the note goes to standard
error.
"""

import pytest

import fakeserver as fs
import wirefakes as wf
from loopback import assert_clean, run

HEAD = "\n\n!assistant\n\n"
LLAMA_AMBIGUOUS = "; on llama.cpp a full context or its time limit also ends a reply this way"


def llama_final(pieces, **final):
    """llama.cpp's native stream whose final chunk says ``final`` (``stop_type``, ``truncated``, ...)."""
    out = fs.llama_stream(pieces, stop=False)
    last = {"index": 0, "content": "", "tokens": [], "id_slot": 0, "stop": True, "model": "m.gguf", "tokens_predicted": len(pieces),
            "tokens_evaluated": 12, "stop_type": "eos", "stopping_word": "", "tokens_cached": 14, "truncated": False,
            "timings": dict(fs.LLAMA_TIMINGS)}
    return out + [fs.sse({**last, **final})]


CASES = [
    ("chat length", "!:max_tokens 12\n!user\nq\n", fs.openai_chat_stream(["a b"], finish="length"),
     HEAD + "a b\n\n!note the reply was cut at the output limit (finish_reason length): max_tokens is 12; raise it with "
            "`!:max_tokens N` in the buffer" + LLAMA_AMBIGUOUS + "\n", ""),
    ("chat length, max_completion_tokens", "!:max_tokens\n!:max_completion_tokens 50\n!user\nq\n", fs.openai_chat_stream(["a"], finish="length"),
     HEAD + "a\n\n!note the reply was cut at the output limit (finish_reason length): max_completion_tokens is 50; raise it with "
            "`!:max_completion_tokens N` in the buffer" + LLAMA_AMBIGUOUS + "\n", ""),
    ("chat content filter", "!user\nq\n", fs.openai_chat_stream(["a"], finish="content_filter"),
     HEAD + "a\n\n!note the server's content filter stopped the reply (finish_reason content_filter)\n", ""),
    ("chat stop: no note", "!user\nq\n", fs.openai_chat_stream(["a"]), HEAD + "a", ""),
    ("chat length, then !stats last", "!stats\n!user\nq\n", fs.openai_chat_stream(["a"], finish="length"), None, ""),
    ("completion length", "!completion\nOnce\n", fs.openai_completions_stream([" upon"], finish="length"),
     " upon\n\n!note the reply was cut at the output limit (finish_reason length): max_tokens is 2000; raise it with "
     "`!:max_tokens N` in the buffer" + LLAMA_AMBIGUOUS + "\n", ""),
    ("infill token cap", "!:n_predict 2\na\n!infill\nb\n", llama_final(["x", "y"], stop_type="limit"),
     "xy", "bufbridge: the reply was cut at the output limit (stop_type limit, 2 tokens): n_predict is 2; raise it with "
           "`!:n_predict N` in the buffer\n"),
    ("infill full context", "a\n!infill\nb\n", llama_final(["x"], stop_type="limit", truncated=True, tokens_evaluated=4096),
     "x", "bufbridge: the reply was cut because the server's context filled up (4096 prompt tokens): shorten the buffer "
          "(!begin drops earlier text), or restart the server with a larger context (bufbridge serve --ctx-size N, llama-server -c N)\n"),
    ("infill time limit", "!:t_max_predict_ms 500\na\n!infill\nb\n", llama_final(["x"], stop_type="limit"),
     "x", "bufbridge: the reply was cut at the server's time limit (t_max_predict_ms 500): raise or remove `!:t_max_predict_ms`\n"),
    ("infill n_indent: the block ended, no note", "!:n_indent 4\na\n!infill\nb\n", llama_final(["x"], stop_type="limit"), "x", ""),
    ("infill eos: no note", "a\n!infill\nb\n", llama_final(["x"]), "x", ""),
]


@pytest.mark.parametrize("name, buffer, script, stdout, stderr", CASES, ids=[c[0] for c in CASES])
def test_cut_note(name, buffer, script, stdout, stderr):
    with fs.FakeServer(fs.Reply(script)) as server:
        result = run(f"!api {server.url}/\n" + buffer)
    assert_clean(result)
    assert (result.returncode, result.stderr.decode()) == (0, stderr)
    if stdout is not None:
        assert result.stdout.decode() == stdout
    else:  # the cut note first, the !stats note last (where readers of !stats look for it)
        notes = result.stdout.decode().split("\n\n!note ")[1:]
        assert len(notes) == 2 and notes[0].startswith("the reply was cut") and "tok/s" in notes[1]


# --- cursor infill: the FIM APIs take prompt and suffix; notes name the profile, not the buffer -------------

SOURCE = "def f(v):\n    return \n\nprint(f(1))\n"


@pytest.mark.parametrize("name, fake, path, body, stderr", [
    ("codestral", wf.Codestral(wf.codestral_chunks(["v + 1"], finish="length")), "/v1/fim/completions",
     {"model": "codestral-latest", "max_tokens": 256, "stream": True, "prompt": "def f(v):\n    return ", "suffix": "\n\nprint(f(1))\n"},
     "bufbridge: the reply was cut at the output limit (finish_reason length): max_tokens is 256; raise it with `!:max_tokens N` "
     "in the profile (cursor infill reads no directives)\n"),
    ("deepseek-fim", wf.DeepSeekFim(wf.deepseek_chunks(["v + 1"])), "/beta/completions",
     {"model": "deepseek-chat", "max_tokens": 256, "stream": True, "prompt": "def f(v):\n    return ", "suffix": "\n\nprint(f(1))\n"}, ""),
    ("ollama", wf.Ollama(wf.ollama_lines(["v + 1"], chat=False)), "/api/generate",
     {"model": "qwen3", "stream": True, "prompt": "def f(v):\n    return ", "suffix": "\n\nprint(f(1))\n",
      "options": {"num_ctx": 8192, "num_predict": 2000}}, ""),
])
def test_cursor_infill_on_a_fim_api(name, fake, path, body, stderr, isolated_config):
    with fs.FakeServer(handler=fake) as server:
        profile = wf.user_profile(isolated_config, name, server.url)
        result = run(SOURCE, "--infill-at", "2:12", "--filename", "f.py", "--no-stop", "all", env={"FAKE_KEY": wf.KEY, "BUFBRIDGE_PROFILE": profile})
    assert_clean(result)
    (got,) = server.requests
    assert (got.path, got.json) == (path, body)
    assert (result.returncode, result.stdout.decode(), result.stderr.decode()) == (0, "v + 1", stderr)


def test_cursor_infill_on_a_fim_api_keeps_the_extra_files_in_the_prompt(isolated_config, tmp_path):
    extra = tmp_path / "extra.json"
    extra.write_text('[{"filename": "util.js", "text": "const K = 1;"}, {"filename": "lib.py", "text": "K = 2\\n"}]')
    with fs.FakeServer(handler=wf.Codestral(wf.codestral_chunks(["v"]))) as server:
        profile = wf.user_profile(isolated_config, "codestral", server.url)
        result = run(SOURCE, "--infill-at", "2:12", "--filename", "f.py", "--extra-json", str(extra),
                     env={"FAKE_KEY": wf.KEY, "BUFBRIDGE_PROFILE": profile})
    assert_clean(result)
    (got,) = server.requests
    assert got.json["prompt"] == "# lib.py\nK = 2\n\n// util.js\nconst K = 1;\n\ndef f(v):\n    return "
    assert "input_extra" not in got.json and result.returncode == 0
