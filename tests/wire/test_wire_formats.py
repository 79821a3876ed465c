"""Every backend in its own wire format, through the real bufbridge and a fake of each API.

Each fake (``wirefakes``) refuses what the real API refuses and replays its
documented stream. A built-in backend profile is pointed at the fake the way
the README shows: a profile of the user's own whose ``!api`` comes first and
that gives the key for that server. Pinned per case: the path, the exact
body, standard output (the reply, its ``<think>`` block and any ``!note``
about a cut) and standard error.
"""

import json
import urllib.request
from dataclasses import dataclass

import pytest

import fakeserver as fs
import wirefakes as wf
from loopback import assert_clean, run

KEY, USERS, user_profile = wf.KEY, wf.USERS, wf.user_profile

# A system message, two turns and an interrupted reply (with a trailing space, which Anthropic refuses there).
CONVERSATION = "You are terse.\n!user\nHi\n!assistant\nHello.\n!user\nName a colour.\n!assistant\nBlue and \n"
QUESTION = "You are terse.\n!user\nName a colour.\n"
INFILL = "def f():\n!infill\n    return 1\n"
HEAD = "\n\n!assistant\n\n"


@dataclass
class Case:
    id: str
    profile: str
    buffer: str
    fake: wf.Fake
    path: str
    body: dict | None  # the exact body sent (None: not pinned in this case)
    stdout: str
    stderr: str = ""
    status: int = 0
    args: tuple = ()


CLAUDE_CONVERSATION = {
    "max_tokens": 10000, "model": "claude-sonnet-4-5", "stream": True, "system": "You are terse.",
    "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."},
                 {"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Blue and"}],
}
GEMINI_CONVERSATION = {
    "contents": [{"role": "user", "parts": [{"text": "Hi"}]}, {"role": "model", "parts": [{"text": "Hello."}]},
                 {"role": "user", "parts": [{"text": "Name a colour."}]}, {"role": "model", "parts": [{"text": "Blue and "}]}],
    "generationConfig": {"maxOutputTokens": 10000, "thinkingConfig": {"includeThoughts": True}},
    "systemInstruction": {"parts": [{"text": "You are terse."}]},
}
OLLAMA_CONVERSATION = {
    "model": "qwen3", "stream": True, "options": {"num_ctx": 8192, "num_predict": 2000},
    "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"},
                 {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Name a colour."},
                 {"role": "assistant", "content": "Blue and "}],
}
RESPONSES_CONVERSATION = {
    "model": "gpt-5-nano", "stream": True, "instructions": "You are terse.", "max_output_tokens": 10000,
    "reasoning": {"summary": "auto"},
    "input": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."},
              {"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Blue and "}],
}
FIM_BODY = {"prompt": "def f():\n", "suffix": "\n    return 1", "stream": True}

CUT_CLAUDE = "the reply was cut at the output limit (stop_reason max_tokens): max_tokens is 10000; raise it with `!:max_tokens N` in the buffer"

CASES = [
    # --- Anthropic ---
    Case("claude-continues", "claude", CONVERSATION, wf.Anthropic(wf.anthropic_events(["green", "."])),
         "/v1/messages", CLAUDE_CONVERSATION, "green."),
    Case("claude-thinks", "claude-extended", QUESTION, wf.Anthropic(wf.anthropic_events(["Blue."], thinking=["Pick ", "one."])),
         "/v1/messages", {"max_tokens": 20000, "model": "claude-opus-4-1", "stream": True, "system": "You are terse.",
                          "thinking": {"type": "enabled", "budget_tokens": 10000},
                          "messages": [{"role": "user", "content": "Name a colour."}]},
         HEAD + "<think>\nPick one.\n</think>\n\nBlue."),
    Case("claude-max-tokens", "claude", QUESTION, wf.Anthropic(wf.anthropic_events(["Blue, gre"], stop_reason="max_tokens")),
         "/v1/messages", None, HEAD + "Blue, gre\n\n!note " + CUT_CLAUDE + "\n"),
    Case("claude-context-window", "claude", QUESTION,
         wf.Anthropic(wf.anthropic_events(["Blue"], stop_reason="model_context_window_exceeded")), "/v1/messages", None,
         HEAD + "Blue\n\n!note the reply was cut because the conversation filled the model's context window "
                "(stop_reason model_context_window_exceeded): shorten the buffer (!begin drops earlier text)\n"),
    Case("claude-thinking-budget-note", "claude-extended", QUESTION, wf.Anthropic(wf.anthropic_events(["B"], thinking=["t"], stop_reason="max_tokens")),
         "/v1/messages", None,
         HEAD + "<think>\nt\n</think>\n\nB\n\n!note the reply was cut at the output limit (stop_reason max_tokens): max_tokens is 20000; "
                "raise it with `!:max_tokens N` in the buffer (thinking.budget_tokens counts against it)\n"),
    Case("claude-error-event", "claude", QUESTION, wf.Anthropic(wf.anthropic_events(["Bl"], error=("overloaded_error", "Overloaded"))),
         "/v1/messages", None, HEAD + "Bl\n\n!error\n\nthe server reported an error during the reply: Overloaded\n", status=1),
    # --- Gemini ---
    Case("gemini-continues", "gemini", CONVERSATION, wf.Gemini(wf.gemini_events(["green", "."])),
         "/v1beta/models/gemini-2.5-pro:streamGenerateContent", GEMINI_CONVERSATION, "green."),
    Case("gemini-thinks", "gemini", QUESTION, wf.Gemini(wf.gemini_events(["Blue."], thoughts=["Pick one."])),
         "/v1beta/models/gemini-2.5-pro:streamGenerateContent", None, HEAD + "<think>\nPick one.\n</think>\n\nBlue."),
    Case("gemini-max-tokens", "gemini", QUESTION, wf.Gemini(wf.gemini_events(["Blue, gre"], finish="MAX_TOKENS")),
         "/v1beta/models/gemini-2.5-pro:streamGenerateContent", None,
         HEAD + "Blue, gre\n\n!note the reply was cut at the output limit (finishReason MAX_TOKENS): maxOutputTokens is 10000; "
                "raise it with `!:max_tokens N` in the buffer\n"),
    Case("gemini-thinking-ate-the-budget", "gemini", QUESTION,
         wf.Gemini(wf.gemini_events([], thoughts=["Long thought."], finish="MAX_TOKENS",
                                    usage={"promptTokenCount": 9, "candidatesTokenCount": 0, "thoughtsTokenCount": 9990, "totalTokenCount": 9999})),
         "/v1beta/models/gemini-2.5-pro:streamGenerateContent", None,
         HEAD + "<think>\nLong thought.\n</think>\n\n\n\n!note thinking used up the output budget (9990 thought tokens) and left the answer "
                "empty (finishReason MAX_TOKENS): maxOutputTokens is 10000; raise it with `!:max_tokens N` in the buffer, or lower "
                "generationConfig.thinkingConfig.thinkingBudget\n"),
    Case("gemini-safety", "gemini", QUESTION, wf.Gemini(wf.gemini_events(["Bl"], finish="SAFETY")),
         "/v1beta/models/gemini-2.5-pro:streamGenerateContent", None, HEAD + "Bl\n\n!note Gemini stopped the reply early (finishReason SAFETY)\n"),
    Case("gemini-blocked-prompt", "gemini", QUESTION, wf.Gemini(wf.gemini_events(blocked="PROHIBITED_CONTENT")),
         "/v1beta/models/gemini-2.5-pro:streamGenerateContent", None,
         HEAD + "\n\n!error\n\nGemini blocked the prompt (promptFeedback.blockReason PROHIBITED_CONTENT)\n", status=1),
    Case("gemini-error-without-data", "gemini", QUESTION, wf.Gemini(wf.gemini_events(["Bl"])[:1] + [wf.GEMINI_SSE_ERROR]),
         "/v1beta/models/gemini-2.5-pro:streamGenerateContent", None,
         HEAD + "Bl\n\n!error\n\nthe server reported an error during the reply: The model is overloaded. Please try again later.\n", status=1),
    # --- Ollama ---
    Case("ollama-continues", "ollama", CONVERSATION, wf.Ollama(wf.ollama_lines(["green", "."])), "/api/chat", OLLAMA_CONVERSATION, "green."),
    Case("ollama-thinks", "ollama", QUESTION, wf.Ollama(wf.ollama_lines(["Blue."], thinking=["Pick ", "one."])), "/api/chat", None,
         HEAD + "<think>\nPick one.\n</think>\n\nBlue."),
    Case("ollama-length", "ollama", QUESTION, wf.Ollama(wf.ollama_lines(["Blue, gre"], done_reason="length")), "/api/chat", None,
         HEAD + "Blue, gre\n\n!note the reply was cut at the output limit or a full context (done_reason length): options.num_predict "
                "is 2000; raise it with `!:max_tokens N` in the buffer\n"),
    Case("ollama-prompt-cut", "ollama", "!user\n" + "word " * 2000 + "\n", wf.Ollama(wf.ollama_lines(["Ok."], prompt_eval_count=400)),
         "/api/chat", None,
         HEAD + "Ok.\n\n!note the server read only 400 prompt tokens of a 10000-character prompt: it dropped the start of the prompt to "
                "fit its context (options.num_ctx 8192); raise num_ctx with `!:options {\"num_ctx\": N}` (the model's own maximum is in "
                "`ollama show MODEL`) or shorten the buffer (!begin drops earlier text)\n"),
    Case("ollama-error-line", "ollama", QUESTION, wf.Ollama(wf.ollama_lines(["Bl"], error="model runner has unexpectedly stopped")),
         "/api/chat", None, HEAD + "Bl\n\n!error\n\nthe server reported an error during the reply: model runner has unexpectedly stopped\n", status=1),
    Case("ollama-infill", "ollama", INFILL, wf.Ollama(wf.ollama_lines(["    x = 0"], chat=False)), "/api/generate",
         {**FIM_BODY, "model": "qwen3", "options": {"num_ctx": 8192, "num_predict": 2000}}, "    x = 0"),
    Case("ollama-completion", "ollama", "!completion\nOnce upon\n", wf.Ollama(wf.ollama_lines([" a time"], chat=False)), "/api/generate",
         {"model": "qwen3", "prompt": "Once upon", "raw": True, "stream": True, "options": {"num_ctx": 8192, "num_predict": 2000}}, " a time"),
    # --- OpenAI Chat Completions ---
    Case("openai-continues", "openai", CONVERSATION, wf.OpenAIChat(fs.openai_chat_stream(["green", "."])), "/v1/chat/completions",
         {"model": "gpt-5-nano", "max_completion_tokens": 10000, "stream": True,
          "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"},
                       {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Name a colour."},
                       {"role": "assistant", "content": "Blue and "}]}, "green."),
    Case("openai-length", "openai", QUESTION, wf.OpenAIChat(fs.openai_chat_stream(["Blue, gre"], finish="length")), "/v1/chat/completions",
         None, HEAD + "Blue, gre\n\n!note the reply was cut at the output limit (finish_reason length): max_completion_tokens is 10000; "
                      "raise it with `!:max_completion_tokens N` in the buffer; on llama.cpp a full context or its time limit also ends "
                      "a reply this way\n"),
    # --- OpenAI Responses ---
    Case("responses-continues", "openai-responses", CONVERSATION, wf.Responses(wf.responses_events(["green", "."])), "/v1/responses",
         RESPONSES_CONVERSATION, "green."),
    Case("responses-reasoning-summary", "openai-responses", QUESTION,
         wf.Responses(wf.responses_events(["Blue."], summary=["**Picking**", " one."])), "/v1/responses", None,
         HEAD + "<think>\n**Picking** one.\n</think>\n\nBlue."),
    Case("responses-incomplete", "openai-responses", QUESTION, wf.Responses(wf.responses_events(["Blue, gre"], incomplete="max_output_tokens")),
         "/v1/responses", None,
         HEAD + "Blue, gre\n\n!note the reply was cut at the output limit, reasoning included (incomplete_details.reason max_output_tokens): "
                "max_output_tokens is 10000; raise it with `!:max_tokens N` in the buffer\n"),
    Case("responses-failed", "openai-responses", QUESTION, wf.Responses(wf.responses_events(["Bl"], failed="The server had an error")),
         "/v1/responses", None, HEAD + "Bl\n\n!error\n\nthe response failed: The server had an error\n", status=1),
    # --- FIM APIs: notes go to standard error, the reply is code ---
    Case("codestral-infill", "codestral", INFILL, wf.Codestral(wf.codestral_chunks(["    x = 0"])), "/v1/fim/completions",
         {**FIM_BODY, "model": "codestral-latest", "max_tokens": 256}, "    x = 0"),
    Case("codestral-length", "codestral", INFILL, wf.Codestral(wf.codestral_chunks(["    x ="], finish="length")), "/v1/fim/completions", None,
         "    x =", "bufbridge: the reply was cut at the output limit (finish_reason length): max_tokens is 256; raise it with "
                   "`!:max_tokens N` in the buffer\n"),
    Case("deepseek-infill", "deepseek-fim", INFILL, wf.DeepSeekFim(wf.deepseek_chunks(["    x = 0"])), "/beta/completions",
         {**FIM_BODY, "model": "deepseek-chat", "max_tokens": 256}, "    x = 0"),
    Case("deepseek-length", "deepseek-fim", INFILL, wf.DeepSeekFim(wf.deepseek_chunks(["    x ="], finish="length")), "/beta/completions", None,
         "    x =", "bufbridge: the reply was cut at the output limit (finish_reason length): max_tokens is 256; raise it with "
                   "`!:max_tokens N` in the buffer\n"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_backend(case, isolated_config):
    with fs.FakeServer(handler=case.fake) as server:
        profile = user_profile(isolated_config, case.profile, server.url)
        result = run(f"!profile {profile}\n" + case.buffer, *case.args, env={"FAKE_KEY": KEY})
    assert_clean(result)
    (got,) = server.requests
    assert got.path == case.path
    if case.body is not None:
        assert got.json == case.body
    assert (result.stdout.decode(), result.stderr.decode(), result.returncode) == (case.stdout, case.stderr, case.status)


# --- the fakes refuse what the real APIs refuse -------------------------------------------------

GOOD_CLAUDE = {"model": "m", "max_tokens": 100, "stream": True, "messages": [{"role": "user", "content": "q"}]}
ANTHROPIC_HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
REFUSALS = [
    ("anthropic: system role", wf.Anthropic, "/v1/messages", ANTHROPIC_HEADERS,
     {**GOOD_CLAUDE, "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]}, 400, 'Unexpected role "system"'),
    ("anthropic: no max_tokens", wf.Anthropic, "/v1/messages", ANTHROPIC_HEADERS,
     {k: v for k, v in GOOD_CLAUDE.items() if k != "max_tokens"}, 400, "max_tokens: Field required"),
    ("anthropic: unknown role", wf.Anthropic, "/v1/messages", ANTHROPIC_HEADERS,
     {**GOOD_CLAUDE, "messages": [{"role": "tool", "content": "q"}]}, 400, "Input should be 'user' or 'assistant'"),
    ("anthropic: no version header", wf.Anthropic, "/v1/messages", {"x-api-key": KEY}, GOOD_CLAUDE, 400, "anthropic-version"),
    ("anthropic: wrong key header", wf.Anthropic, "/v1/messages", {"authorization": "Bearer " + KEY, "anthropic-version": "2023-06-01"},
     GOOD_CLAUDE, 401, "invalid x-api-key"),
    ("anthropic: OpenAI keys", wf.Anthropic, "/v1/messages", ANTHROPIC_HEADERS, {**GOOD_CLAUDE, "stop": ["x"]}, 400, "stop: Extra inputs"),
    ("anthropic: trailing space in prefill", wf.Anthropic, "/v1/messages", ANTHROPIC_HEADERS,
     {**GOOD_CLAUDE, "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a "}]}, 400, "trailing whitespace"),
    ("anthropic: thinking budget over max_tokens", wf.Anthropic, "/v1/messages", ANTHROPIC_HEADERS,
     {**GOOD_CLAUDE, "thinking": {"type": "enabled", "budget_tokens": 2000}}, 400, "greater than `thinking.budget_tokens`"),
    ("gemini: model in the body", wf.Gemini, "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", {"x-goog-api-key": KEY},
     {"model": "gemini-2.5-pro", "contents": [{"role": "user", "parts": [{"text": "q"}]}]}, 400, 'Unknown name "model"'),
    ("gemini: assistant role", wf.Gemini, "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", {"x-goog-api-key": KEY},
     {"contents": [{"role": "assistant", "parts": [{"text": "q"}]}]}, 400, "valid role"),
    ("gemini: bearer instead of the key header", wf.Gemini, "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
     {"authorization": "Bearer " + KEY}, {"contents": [{"role": "user", "parts": [{"text": "q"}]}]}, 403, "API Key"),
    ("ollama: no model", wf.Ollama, "/api/chat", {}, {"messages": [{"role": "user", "content": "q"}]}, 400, "model is required"),
    ("ollama: max_tokens at the top", wf.Ollama, "/api/chat", {}, {"model": "m", "max_tokens": 5, "messages": []}, 400, "unknown field"),
    ("responses: max_tokens", wf.Responses, "/v1/responses", {"authorization": "Bearer " + KEY},
     {"model": "m", "input": [], "max_tokens": 5}, 400, "Unknown parameter: 'max_tokens'"),
    ("codestral: messages", wf.Codestral, "/v1/fim/completions", {"authorization": "Bearer " + KEY},
     {"model": "m", "messages": []}, 400, "messages: Extra inputs"),
    ("deepseek: over 4K", wf.DeepSeekFim, "/beta/completions", {"authorization": "Bearer " + KEY},
     {"model": "m", "prompt": "p", "max_tokens": 8192}, 400, "at most 4096"),
]


@pytest.mark.parametrize("name, fake, target, headers, body, status, says", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_fake_refuses_as_the_api_does(name, fake, target, headers, body, status, says):
    with fs.FakeServer(handler=fake([b"unused"])) as server:
        request = urllib.request.Request(server.url + target, data=json.dumps(body).encode(), method="POST",
                                         headers={"content-type": "application/json", **headers})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        answer = refused.value.read()  # before the server closes its connections
    assert refused.value.code == status
    assert says in message_of(json.loads(answer))


def message_of(error):
    """The message in any of the error bodies above."""
    inner = error.get("error", error)
    return inner if isinstance(inner, str) else inner["message"]


# --- Illume's buffers, and what !wire changes ----------------------------------------------------

ILLUME_CLAUDE = ('!api "{url}/v1/messages"\n!>anthropic-version 2023-06-01\n!>x-api-key fake-key\n!:model claude-sonnet-4-5\n'
                 "!:max_tokens 100\n")


def test_illume_anthropic_buffer_is_sent_as_illume_sends_it_and_refused_as_anthropic_refuses_it():
    with fs.FakeServer(handler=wf.Anthropic(wf.anthropic_events(["Blue."]))) as server:
        result = run(ILLUME_CLAUDE.format(url=server.url) + QUESTION)
    (got,) = server.requests
    assert got.json["messages"][0] == {"role": "system", "content": "You are terse."}  # Illume's body, unchanged
    assert result.returncode == 1
    assert f'HTTP 400 from {server.url}/v1/messages: messages: Unexpected role "system"' in result.stdout.decode()


def test_the_same_buffer_with_wire_anthropic_goes_through():
    with fs.FakeServer(handler=wf.Anthropic(wf.anthropic_events(["Blue."]))) as server:
        # without a !profile line the default llama.cpp profile is loaded too: its cache_prompt is no Anthropic key
        result = run("!wire anthropic\n!:cache_prompt\n" + ILLUME_CLAUDE.format(url=server.url) + QUESTION)
    (got,) = server.requests
    assert got.json["system"] == "You are terse." and got.json["messages"] == [{"role": "user", "content": "Name a colour."}]
    assert (result.stdout.decode(), result.returncode) == (HEAD + "Blue.", 0)


BUILD_ERRORS = [
    ("no max_tokens", "claude", "!:max_tokens\n" + QUESTION,
     "the anthropic wire format needs max_tokens, and the request has none; set it with `!:max_tokens N`"),
    ("infill on a chat-only format", "claude", INFILL, "the anthropic wire format has no !infill mode (it speaks: chat)"),
    ("chat on a FIM format", "codestral", QUESTION, "the codestral wire format has no chat mode (it speaks: !infill)"),
    ("unknown format", "claude", "!wire anthropics\n" + QUESTION, "<stdin>:2: !wire anthropics: no such wire format; use one of: openai,"),
]


@pytest.mark.parametrize("name, profile, buffer, says", BUILD_ERRORS, ids=[b[0] for b in BUILD_ERRORS])
def test_a_request_the_format_cannot_carry_is_refused_before_sending(name, profile, buffer, says, isolated_config):
    with fs.FakeServer(handler=wf.Anthropic([])) as server:
        fake = user_profile(isolated_config, profile, server.url)
        result = run(f"!profile {fake}\n" + buffer, env={"FAKE_KEY": KEY})
    assert_clean(result)
    assert server.requests == [] and result.returncode == 1
    assert says in result.stdout.decode().partition("\n\n!error\n\n")[2]


# --- credentials stay with their server: a built-in's key never follows the buffer's !api -------------------


@pytest.mark.parametrize("profile, fake, path, variable", [
    ("claude", wf.Anthropic, "/v1/", "ANTHROPIC_API_KEY"),
    ("gemini", wf.Gemini, "/v1beta/", "GEMINI_API_KEY"),
    ("codestral", wf.Codestral, "/v1/", "CODESTRAL_API_KEY"),
])
def test_the_builtin_key_is_withheld_from_another_server_and_the_api_refuses(profile, fake, path, variable):
    secret = "sk-real-key-0123456789"
    body = QUESTION if profile != "codestral" else INFILL
    with fs.FakeServer(handler=fake([])) as server:
        result = run(f"!api {server.url}{path}\n!profile {profile}\n" + body, env={variable: secret})
    assert_clean(result)
    (got,) = server.requests
    assert secret.encode() not in got.raw
    assert result.returncode == 1
    error = result.stdout.decode()
    assert error.startswith("\n\n!error\n\nHTTP 40") and "check the API key the profile sends" in error
    assert secret not in result.stdout.decode() + result.stderr.decode()
