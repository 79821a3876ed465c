"""Buffers sent through bufbridge to a real llama-server with the real bundled model."""

import json
import re

import pytest

from .support import buffer, bufbridge, get

pytestmark = pytest.mark.e2e

DETERMINISTIC = ("!:temperature 0", "!:seed 1")
STATS = re.compile(r"server: prompt (\d+) tok in \d+ ms \([^)]*\)(?:, \d+ cached)?, generated (\d+) tok in \d+ ms")


def test_chat_streams_real_text_in_several_chunks(llama):
    run = bufbridge(buffer(llama, *DETERMINISTIC, "!:max_tokens 24", "!user", "What is the capital of France?"))
    assert run.status == 0, run.out.strip()
    assert run.out.startswith("\n\n!assistant\n\n")
    reply = run.out[len("\n\n!assistant\n\n"):]
    assert re.search(r"[A-Za-z]{3}", reply), f"no words in the reply: {reply!r}"
    assert len(run.writes) >= 4, f"the reply came in {len(run.writes)} writes: it did not stream"
    assert "!error" not in run.out


def test_completion_continues_the_text(llama):
    run = bufbridge(buffer(llama, "!completion", *DETERMINISTIC, "!:max_tokens 16", "Once upon a time, in a small village by the sea,"))
    assert run.status == 0, run.out.strip()
    assert "!assistant" not in run.out
    assert re.search(r"[A-Za-z]{3}", run.out), run.out
    assert len(run.writes) >= 3


def test_stats_note_has_the_servers_own_timings(llama):
    run = bufbridge(buffer(llama, "!stats", *DETERMINISTIC, "!:max_tokens 12", "!:ignore_eos true", "!user", "Say hello."))
    assert run.status == 0, run.out.strip()
    note = run.out.rsplit("\n\n!note ", 1)[-1]
    match = STATS.search(note)
    assert match, f"no server timings in the !stats note: {note!r}"
    prompt, generated = map(int, match.groups())
    assert prompt > 0
    assert generated == 12  # ignore_eos: exactly max_tokens


def test_infill_on_a_model_without_fim_tokens_is_a_clear_error(llama):
    run = bufbridge(buffer(llama, "!:max_tokens 8", "def add(a, b):", "!infill", "    return c"))
    assert run.status == 1
    assert run.out.startswith("\n\n!error\n\n")
    line = run.out.split("\n\n!error\n\n", 1)[1]
    assert line.count("\n") == 1, "the error is one line"
    assert "HTTP 501" in line and "/infill" in line
    assert "Infill is not supported by this model" in line  # the server's own words
    assert "!profile fim:" in line  # and how to fix it


def test_fim_template_goes_to_completions(llama):
    lines = ("!profile llama.cpp", "!profile fim:qwen", "!heuristics off",  # the plumbing: whatever a model without FIM training writes
             *DETERMINISTIC, "!:max_tokens 12", "!:ignore_eos true", "<ul>", "  <li>Monday</li>", "!infill", "  <li>Friday</li>", "</ul>")
    dry = bufbridge(buffer(llama, *lines), "--debug")
    assert f"POST {llama.url}completions HTTP/1.1" in dry.out
    assert "<|fim_prefix|><ul>\\n  <li>Monday</li>\\n<|fim_suffix|>\\n  <li>Friday</li>\\n</ul><|fim_middle|>" in dry.out
    run = bufbridge(buffer(llama, *lines))
    assert run.status == 0, run.out.strip()
    assert run.out.strip(), "no text for the middle"
    assert "!assistant" not in run.out and "!error" not in run.out


def test_prompt_larger_than_the_context_names_both_sizes(llama):
    status, props = get(llama, "/props")
    assert status == 200
    n_ctx = json.loads(props)["default_generation_settings"]["n_ctx"]
    words = " the" * (n_ctx + n_ctx // 4)
    run = bufbridge(buffer(llama, "!user", words))
    assert run.status == 1
    assert run.out.startswith("\n\n!error\n\n")
    match = re.search(r"the prompt is (\d+) tokens but the server's context holds (\d+)", run.out)
    assert match, run.out
    prompt, context = map(int, match.groups())
    assert context == n_ctx and prompt > n_ctx
    assert "--ctx-size" in run.out  # how to fix it


CONTINUE = ("!user", "Name three fruits.", "!assistant", "Sure! Here are three fruits: 1. Apple")


def test_continuing_an_interrupted_reply_writes_no_new_header(llama):
    run = bufbridge(buffer(llama, *DETERMINISTIC, "!:max_tokens 16", *CONTINUE))
    assert run.status == 0, run.out.strip()
    assert "!assistant" not in run.out
    assert run.out.strip()


def test_continuing_an_interrupted_reply_writes_only_the_continuation(llama):
    run = bufbridge(buffer(llama, *DETERMINISTIC, "!:max_tokens 16", *CONTINUE))
    assert run.status == 0, run.out.strip()
    assert not run.out.startswith("Sure!"), f"the prefill came back: {run.out!r}"
