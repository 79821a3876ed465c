"""The wire modules as a set: each is documented, each speaks its modes, and no server JSON can crash a decoder."""

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge import wire
from bridge.wire import Cut

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BACKEND_PROFILES = ["claude", "claude-extended", "gemini", "ollama", "codestral", "deepseek-fim", "openai", "openai-responses", "llama.cpp"]


def section(heading):
    return README.split(heading + "\n", 1)[1].split("\n#", 1)[0]


def test_every_format_is_in_the_readme_backends_table():
    rows = re.findall(r"^\| `([a-z-]+)` \|", section("### Backends and wire formats"), re.M)
    assert rows == list(wire.FORMATS)


def test_every_backend_profile_is_listed_with_its_variable(tmp_path):
    from loopback import run

    listing = run("", "--list-profiles").stdout.decode()
    table = section("## Profiles")
    for name in BACKEND_PROFILES:
        assert re.search(rf"^{re.escape(name)} +built-in +\S", listing, re.M), name
        assert f"| `{name}` |" in table, name
    needs = {"claude": "$ANTHROPIC_API_KEY", "claude-extended": "$ANTHROPIC_API_KEY", "gemini": "$GEMINI_API_KEY", "openai": "$OPENAI_API_KEY",
             "openai-responses": "$OPENAI_API_KEY", "codestral": "$CODESTRAL_API_KEY", "deepseek-fim": "$DEEPSEEK_API_KEY"}
    for name, variable in needs.items():
        assert re.search(rf"^{re.escape(name)} .*{re.escape(variable)}", listing, re.M), name
        assert variable in table, variable


def test_each_format_speaks_the_modes_it_names():
    for name, module_name in wire.FORMATS.items():
        module = wire.module(module_name or "openai_chat")
        assert module.ENDPOINTS and set(module.ENDPOINTS) <= set(wire.MODE_WORDS), name
        for attribute in ("shape", "decode", "cut_note", "MAPS"):
            assert hasattr(module, attribute), (name, attribute)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5), max_leaves=20)
KEYS = ["choices", "delta", "content", "text", "finish_reason", "stop", "stop_type", "truncated", "tokens_predicted", "type", "message",
        "candidates", "parts", "thought", "finishReason", "usageMetadata", "promptFeedback", "done", "done_reason", "prompt_eval_count",
        "response", "thinking", "incomplete_details", "reason", "error", "usage", "timings"]
EVENTS = st.dictionaries(st.sampled_from(KEYS), JSON | st.dictionaries(st.sampled_from(KEYS), JSON, max_size=4), max_size=6)
KINDS = st.sampled_from([None, "message_delta", "content_block_delta", "message_start", "error", "response.incomplete",
                         "response.completed", "response.failed", "response.output_text.delta"])
BODIES = [{}, {"max_tokens": 5, "n_indent": 2}, {"options": {"num_ctx": 10}, "prompt": "p" * 50}, {"generationConfig": "x", "thinking": {}}]


@settings(max_examples=300, deadline=None)
@given(event=EVENTS, kind=KINDS, body=st.sampled_from(BODIES), wrote=st.booleans())
def test_no_event_crashes_a_decoder_or_its_notes(event, kind, body, wrote):
    for name in wire.MODULES:
        module = wire.module(name)
        for piece in module.decode(event, kind):
            if isinstance(piece, Cut):
                note = module.cut_note(piece, body, wrote=wrote, source_file=False)
                assert note is None or (isinstance(note, str) and note), (name, piece)


ERROR_SHAPES = EVENTS | st.fixed_dictionaries({}, optional={"error": JSON, "type": st.sampled_from(["error", "x"]) | JSON,
                                                              "object": st.sampled_from(["error", "x"]) | JSON, "message": JSON})


@settings(max_examples=500, deadline=None)
@given(event=ERROR_SHAPES | JSON)
def test_the_cheap_per_event_test_never_misses_an_error(event):
    """A stream asks ``may_be_error`` of every event and ``error_message`` only when it says yes: it must never say no to an error."""
    if not wire.may_be_error(event):
        assert wire.error_message(event) is None
    if wire.error_message(event) is not None:
        assert wire.may_be_error(event)


def test_reply_text_is_a_plain_string_piece():
    """Text, the piece of nearly every event, is a ``str``; the rare pieces are the dataclasses."""
    chunk = {"choices": [{"delta": {"content": "Hi", "reasoning_content": "hm"}, "finish_reason": "length"}], "usage": {"a": 1}}
    assert wire.module("openai_chat").decode(chunk) == [wire.Reasoning("hm"), "Hi", Cut("length"), wire.Done("length"), wire.Meta({"a": 1}, None)]
    for name in wire.MODULES:
        for piece in wire.module(name).decode({"choices": [{"delta": {"content": "x"}, "text": "x"}], "content": "x", "response": "x",
                                               "type": "content_block_delta", "delta": {"text": "x"}}):
            assert piece.__class__ is str or piece.__class__ in (wire.Reasoning, wire.Done, wire.Cut, wire.Meta, wire.Fail), (name, piece)
