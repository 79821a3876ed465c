"""Pure build tier: how each format maps the neutral keys and the buffer's system text, and which !wire is in force."""

import json

import pytest

from bridge.errors import BridgeError
from unit.helpers import request

Q = "!user\nq\n!debug\n"
ANTHROPIC = "!api http://127.0.0.1:9/v1/\n!wire anthropic\n!:model m\n"
GEMINI = "!api http://127.0.0.1:9/v1beta/\n!wire gemini\n!:model gemini-2.5-pro\n"
OLLAMA = "!api http://127.0.0.1:9/\n!wire ollama\n!:model m\n"
RESPONSES = "!api http://127.0.0.1:9/v1/\n!wire openai-responses\n!:model m\n"
NO_LLAMA = "!:cache_prompt\n!:stop\n"  # the default llama.cpp profile is loaded after these buffers: its keys are no part of the case

BODIES = [
    ("anthropic: !:system and the buffer's system text", ANTHROPIC + NO_LLAMA + '!:system "A"\nB\n' + Q,
     {"model": "m", "max_tokens": 2000, "stream": True, "system": "A\n\nB", "messages": [{"role": "user", "content": "q"}]}),
    ("anthropic: system blocks get one more", ANTHROPIC + NO_LLAMA + '!:system [{"type": "text", "text": "A"}]\nB\n' + Q,
     {"model": "m", "max_tokens": 2000, "stream": True, "messages": [{"role": "user", "content": "q"}],
      "system": [{"type": "text", "text": "A"}, {"type": "text", "text": "B"}]}),
    ("anthropic: stop is stop_sequences", ANTHROPIC + '!:cache_prompt\n!:stop ["x"]\n' + Q,
     {"model": "m", "max_tokens": 2000, "stream": True, "stop_sequences": ["x"], "messages": [{"role": "user", "content": "q"}]}),
    ("anthropic: stop_sequences set beats stop", ANTHROPIC + '!:cache_prompt\n!:stop ["x"]\n!:stop_sequences ["y"]\n' + Q,
     {"model": "m", "max_tokens": 2000, "stream": True, "stop_sequences": ["y"], "messages": [{"role": "user", "content": "q"}]}),
    ("gemini: neutral keys into generationConfig", GEMINI + '!:cache_prompt\n!:stop ["x"]\n!:temperature 0.2\n!:top_p 0.9\n!:top_k 40\n!:seed 7\n' + Q,
     {"contents": [{"role": "user", "parts": [{"text": "q"}]}],
      "generationConfig": {"maxOutputTokens": 2000, "stopSequences": ["x"], "temperature": 0.2, "topP": 0.9, "topK": 40, "seed": 7}}),
    ("gemini: the user's generationConfig wins", GEMINI + NO_LLAMA + '!:generationConfig {"maxOutputTokens": 50}\n!:max_tokens 9\n' + Q,
     {"contents": [{"role": "user", "parts": [{"text": "q"}]}], "generationConfig": {"maxOutputTokens": 50}}),
    ("gemini: systemInstruction gets the buffer's text", GEMINI + NO_LLAMA + '!:systemInstruction {"parts": [{"text": "A"}]}\nB\n' + Q,
     {"contents": [{"role": "user", "parts": [{"text": "q"}]}], "generationConfig": {"maxOutputTokens": 2000},
      "systemInstruction": {"parts": [{"text": "A"}, {"text": "B"}]}}),
    ("ollama: options merge, the user's num_ctx wins", OLLAMA + '!:cache_prompt\n!:stop ["x"]\n!:options {"num_ctx": 1024, "mirostat": 0}\n' + Q,
     {"model": "m", "stream": True, "messages": [{"role": "user", "content": "q"}],
      "options": {"num_ctx": 1024, "mirostat": 0, "num_predict": 2000, "stop": ["x"]}}),
    ("ollama: num_ctx grows with the prompt", OLLAMA + NO_LLAMA + "!:max_tokens 4000\n!user\n" + "x" * 100000 + "\n!debug\n",
     {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x" * 100000}], "options": {"num_ctx": 65536, "num_predict": 4000}}),
    ("ollama: a FIM template goes raw to generate", OLLAMA + "!profile fim:qwen\ndef f():\n!infill\n    pass\n!debug\n",
     {"model": "m", "stream": True, "raw": True, "prompt": "<|fim_prefix|>def f():\n<|fim_suffix|>\n    pass<|fim_middle|>",
      "options": {"num_ctx": 8192, "num_predict": 2000, "stop": ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
                                                               "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<|im_start|>", "<|im_end|>"]}}),
    ("responses: instructions joined, max_output_tokens set beats max_tokens", RESPONSES + NO_LLAMA + '!:instructions "A"\n!:max_output_tokens 64\nB\n' + Q,
     {"model": "m", "stream": True, "instructions": "A\n\nB", "max_output_tokens": 64, "input": [{"role": "user", "content": "q"}]}),
]


@pytest.mark.parametrize("name, buffer, body", BODIES, ids=[b[0] for b in BODIES])
def test_body(name, buffer, body):
    assert request(buffer, {}).json == body


def test_gemini_model_is_quoted_into_the_path_and_cannot_move_the_origin():
    req = request("!api http://127.0.0.1:9/v1beta/\n!wire gemini\n!:model x/../@evil.example:80?y#z\n" + Q, {})
    assert req.url == "http://127.0.0.1:9/v1beta/models/x%2F..%2F%40evil.example%3A80%3Fy%23z:streamGenerateContent?alt=sse"
    assert "model" not in req.json and "stream" not in req.json


def test_gemini_without_a_model_is_an_error():
    with pytest.raises(BridgeError, match="the gemini wire format needs a model name"):
        request("!api http://127.0.0.1:9/v1beta/\n!wire gemini\n" + Q, {})


WIRES = [  # (buffer, the wire module that decodes the reply)
    ("!api http://127.0.0.1:9/\n" + Q, "openai_chat"),
    ('!api "http://127.0.0.1:9/v1/messages"\n' + Q, "anthropic"),  # Illume: an Anthropic URL, an OpenAI-shaped body
    ("!api http://127.0.0.1:9/\n!wire ollama\n!:model m\n" + Q, "ollama"),
    ("!profile claude\n!wire ollama\n!:model m\n" + Q, "ollama"),  # the buffer's !wire beats the profile's
    ("!profile ollama\n!profile claude\n" + Q, "ollama"),  # among profiles the first wins, as for !api
]


@pytest.mark.parametrize("buffer, decoder", WIRES)
def test_which_wire(buffer, decoder):
    assert request(buffer, {}).wire == decoder


def test_the_default_body_is_illumes():
    req = request('!api "http://127.0.0.1:9/v1/messages"\nS\n' + Q, {})
    assert json.loads(req.body)["messages"][0] == {"role": "system", "content": "S"}
