"""Loopback fakes of each backend's API: they check a request as the real API does and replay its stream.

A ``Fake`` is a ``fakeserver.FakeServer`` handler. It refuses what the real
API refuses, with the real API's status and error shape (an Anthropic
``system`` role in ``messages``, a missing ``max_tokens``, an unknown role
or field, a missing or wrong header), and otherwise answers with the
script the test gave it. The stream builders below write each API's events
as its documentation and SDKs show them, byte for byte (event names,
separators, the end marker or its absence).

Sources: backends-and-anchors-2026.md §3 and §5 (Anthropic SDK
``_streaming.py`` and ``message_create_params.py``, google-genai
``_api_client.py``, Ollama ``api/types.go``, OpenAI ``responses`` types,
Mistral ``fimcompletionstreamrequest.md``, the DeepSeek FIM reference).
"""

import json

import fakeserver as fs

KEY = "fake-key"
USERS = {  # the user's own profile (as the README shows) per backend: the fake's URL, the built-in, the key for this server
    "claude": "!api {url}/v1/\n!profile claude\n!>x-api-key $FAKE_KEY\n",
    "claude-extended": "!api {url}/v1/\n!profile claude-extended\n!>x-api-key $FAKE_KEY\n",
    "gemini": "!api {url}/v1beta/\n!profile gemini\n!>x-goog-api-key $FAKE_KEY\n",
    "ollama": "!api {url}/\n!profile ollama\n",
    "openai": "!api {url}/v1\n!profile openai\n!>authorization Bearer $FAKE_KEY\n",
    "openai-responses": "!api {url}/v1/\n!profile openai-responses\n!>authorization Bearer $FAKE_KEY\n",
    "codestral": "!api {url}/v1/\n!profile codestral\n!>authorization Bearer $FAKE_KEY\n",
    "deepseek-fim": "!api {url}/beta/\n!profile deepseek-fim\n!>authorization Bearer $FAKE_KEY\n",
}


def user_profile(config, name, url):
    """Write the user's profile for backend ``name`` at ``url``; return its name."""
    folder = config / "profiles"
    folder.mkdir(exist_ok=True)
    (folder / f"fake-{name}.profile").write_text(USERS[name].format(url=url))
    return f"fake-{name}"


def jsonl(data):
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


class Refused(Exception):
    """The fake API refuses the request: ``reply`` is what the real API would answer."""

    def __init__(self, reply):
        super().__init__(reply)
        self.reply = reply


class Fake:
    """A handler: validate the request (``check`` raises Refused), then answer with ``script``."""

    def __init__(self, script=(), *, status=200, headers=None):
        self.script, self.status = list(script), status
        self.headers = headers or {"Content-Type": "text/event-stream"}

    def __call__(self, received):
        try:
            self.check(received, received.json)
        except Refused as refused:
            return refused.reply
        except (ValueError, UnicodeDecodeError):
            return self.refuse(400, "the body is not JSON")
        return fs.Reply(self.script, status=self.status, headers=self.headers)

    def check(self, received, body):
        raise NotImplementedError

    def refuse(self, status, message):
        raise NotImplementedError

    def need(self, condition, status, message):
        if not condition:
            self.refuse(status, message)  # raises Refused

    def only(self, body, allowed, where=""):
        for key in body:
            self.need(key in allowed, 400, self.unknown(key, where))

    def unknown(self, key, where):
        return f"{where}{key}: Extra inputs are not permitted"


# --- Anthropic Messages ------------------------------------------------------------


class Anthropic(Fake):
    KEYS = {"model", "messages", "max_tokens", "system", "stream", "stop_sequences", "temperature", "top_p", "top_k",
            "metadata", "tools", "tool_choice", "thinking", "service_tier", "output_config", "container"}

    def refuse(self, status, message):
        kind = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error"}[status]
        raise Refused(fs.json_reply(status, {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_1"}))

    def check(self, received, body):
        self.need(received.path == "/v1/messages", 404, f"Not found: {received.path}")
        self.need(received.header("x-api-key") == "fake-key", 401, "invalid x-api-key")
        self.need(received.header("anthropic-version") == "2023-06-01", 400, "anthropic-version: header is required")
        self.need(isinstance(body, dict), 400, "body: Input should be an object")
        messages = body.get("messages")
        self.need(isinstance(messages, list) and messages, 400, "messages: Field required")
        for i, message in enumerate(messages):
            role = message.get("role")
            if role == "system":
                self.need(False, 400, 'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
                                      'parameter, not "system" as an input message role.')
            self.need(role in ("user", "assistant"), 400, f"messages.{i}.role: Input should be 'user' or 'assistant'")
            self.only(message, {"role", "content"}, f"messages.{i}.")
            last = i == len(messages) - 1
            self.need(message.get("content") or (last and role == "assistant"), 400,
                      f"messages.{i}: all messages must have non-empty content except for the optional final assistant message")
            if last and role == "assistant":
                self.need(message["content"] == message["content"].rstrip(), 400,
                          "messages: final assistant content cannot end with trailing whitespace")
        self.only(body, self.KEYS)
        self.need(isinstance(body.get("model"), str), 400, "model: Field required")
        self.need("max_tokens" in body, 400, "max_tokens: Field required")
        self.need(isinstance(body["max_tokens"], int) and body["max_tokens"] >= 1, 400, "max_tokens: Input should be a valid integer")
        thinking = body.get("thinking")
        if isinstance(thinking, dict) and thinking.get("type") == "enabled":
            budget = thinking.get("budget_tokens")
            self.need(isinstance(budget, int) and budget >= 1024, 400, "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
            self.need(budget < body["max_tokens"], 400, "`max_tokens` must be greater than `thinking.budget_tokens`")
        self.need(body.get("stream") is True, 400, "stream: this fake only streams")


def anthropic_events(text=(), *, thinking=(), stop_reason="end_turn", usage=(25, 7), error=None):
    """A Messages stream: message_start, ping, a thinking block, a text block, message_delta, message_stop."""
    out = [fs.sse({"type": "message_start", "message": {"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                   "content": [], "stop_reason": None, "stop_sequence": None,
                   "usage": {"input_tokens": usage[0], "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}},
                  "message_start"),
           fs.sse({"type": "ping"}, "ping")]
    index = 0
    if thinking:
        out.append(fs.sse({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}, "content_block_start"))
        out += [fs.sse({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": t}}, "content_block_delta") for t in thinking]
        out.append(fs.sse({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM"}}, "content_block_delta"))
        out.append(fs.sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
        index = 1
    out.append(fs.sse({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}, "content_block_start"))
    for i, piece in enumerate(text):
        out.append(fs.sse({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}, "content_block_delta"))
        if i == 0:
            out.append(fs.sse({"type": "ping"}, "ping"))  # ping may come anywhere
    if error:
        return out + [fs.sse({"type": "error", "error": {"type": error[0], "message": error[1]}, "request_id": "req_1"}, "error")]
    out.append(fs.sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
    out.append(fs.sse({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                       "usage": {"output_tokens": usage[1]}}, "message_delta"))
    out.append(fs.sse({"type": "message_stop"}, "message_stop"))
    return out


# --- Gemini --------------------------------------------------------------------------------


class Gemini(Fake):
    KEYS = {"contents", "systemInstruction", "generationConfig", "safetySettings", "tools", "toolConfig", "cachedContent"}
    CONFIG = {"maxOutputTokens", "temperature", "topP", "topK", "stopSequences", "candidateCount", "seed", "thinkingConfig",
              "responseMimeType", "presencePenalty", "frequencyPenalty"}

    def refuse(self, status, message):
        codes = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
        raise Refused(fs.json_reply(status, {"error": {"code": status, "message": message, "status": codes[status]}}))

    def unknown(self, key, where):
        return f'Invalid JSON payload received. Unknown name "{key}"{" at " + repr(where) if where else ""}: Cannot find field.'

    def check(self, received, body):
        self.need(received.path == "/v1beta/models/gemini-2.5-pro:streamGenerateContent", 404, f"path {received.path} not found")
        self.need(received.target.endswith("?alt=sse"), 400, "this fake streams only with alt=sse")
        self.need(received.header("x-goog-api-key") == "fake-key", 403, "Method doesn't allow unregistered callers. Please use API Key.")
        self.only(body, self.KEYS)
        self.only(body.get("generationConfig", {}), self.CONFIG, "generation_config")
        contents = body.get("contents")
        self.need(isinstance(contents, list) and contents, 400, "* GenerateContentRequest.contents: contents is not specified")
        for turn in contents:
            self.need(turn.get("role") in ("user", "model"), 400, f"Please use a valid role: user, model. (got {turn.get('role')})")
            parts = turn.get("parts")
            self.need(isinstance(parts, list) and all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in parts), 400,
                      "* GenerateContentRequest.contents[].parts: contents.parts must not be empty.")
        system = body.get("systemInstruction")
        if system is not None:
            self.need(isinstance(system, dict) and isinstance(system.get("parts"), list), 400, "systemInstruction: parts required")


def gemini_events(text=(), *, thoughts=(), finish="STOP", usage=None, blocked=None):
    """``data: GenerateContentResponse`` events separated by CRLF CRLF (as Google's servers send), no [DONE]."""
    def event(data):
        return ("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\r\n\r\n").encode()

    if blocked:
        return [event({"promptFeedback": {"blockReason": blocked}, "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9},
                       "modelVersion": "gemini-2.5-pro", "responseId": "r1"})]
    parts = [{"text": t, "thought": True} for t in thoughts] + [{"text": t} for t in text]
    out = []
    for i, part in enumerate(parts):
        candidate = {"content": {"parts": [part], "role": "model"}, "index": 0}
        if i == len(parts) - 1:
            candidate["finishReason"] = finish
        out.append(event({"candidates": [candidate], "modelVersion": "gemini-2.5-pro", "responseId": "r1",
                          **({"usageMetadata": usage} if usage and i == len(parts) - 1 else {})}))
    if not parts:  # the budget went to thinking: the last chunk has no text at all
        out.append(event({"candidates": [{"content": {"role": "model"}, "finishReason": finish, "index": 0}],
                          "usageMetadata": usage or {}, "modelVersion": "gemini-2.5-pro", "responseId": "r1"}))
    return out


GEMINI_SSE_ERROR = (b'{\n  "error": {\n    "code": 503,\n    "message": "The model is overloaded. Please try again later.",\n'
                    b'    "status": "UNAVAILABLE"\n  }\n}\n')


# --- Ollama ---------------------------------------------------------------------------------


class Ollama(Fake):
    CHAT = {"model", "messages", "stream", "format", "keep_alive", "options", "think", "tools", "truncate", "shift", "logprobs", "top_logprobs"}
    GENERATE = {"model", "prompt", "suffix", "system", "template", "context", "stream", "raw", "format", "keep_alive", "images",
                "options", "think", "truncate", "shift", "logprobs", "top_logprobs"}
    OPTIONS = {"num_ctx", "num_batch", "num_gpu", "main_gpu", "use_mmap", "num_thread", "num_keep", "seed", "num_predict", "top_k",
               "top_p", "min_p", "typical_p", "repeat_last_n", "temperature", "repeat_penalty", "presence_penalty",
               "frequency_penalty", "stop"}

    def __init__(self, script=(), **kwargs):
        super().__init__(script, headers={"Content-Type": "application/x-ndjson"}, **kwargs)

    def refuse(self, status, message):
        raise Refused(fs.json_reply(status, {"error": message}))

    def unknown(self, key, where):
        return f"json: unknown field \"{key}\""  # stricter than Ollama, which ignores unknown fields: pins our body

    def check(self, received, body):
        self.need(received.path in ("/api/chat", "/api/generate"), 404, "404 page not found")
        self.need(isinstance(body.get("model"), str) and body["model"], 400, "model is required")
        self.only(body, self.CHAT if received.path == "/api/chat" else self.GENERATE)
        self.need(isinstance(body.get("options", {}), dict), 400, "json: cannot unmarshal options")
        self.only(body.get("options", {}), self.OPTIONS)
        if received.path == "/api/chat":
            for message in body.get("messages") or []:
                self.need(message.get("role") in ("system", "user", "assistant", "tool"), 400, f"invalid role: {message.get('role')}")
        else:
            self.need(not (body.get("raw") and ("template" in body or "system" in body or "context" in body)), 400,
                      "raw mode does not support template, system, or context")


def ollama_lines(text=(), *, thinking=(), chat=True, done_reason="stop", prompt_eval_count=26, eval_count=None, error=None):
    """NDJSON: one object per line, the last with ``done: true``, ``done_reason`` and the metrics."""
    def line(content="", think="", done=False):
        data = {"model": "qwen3", "created_at": "2026-11-30T07:00:00.000000Z"}
        if chat:
            data["message"] = {"role": "assistant", "content": content, **({"thinking": think} if think else {})}
        else:
            data["response"] = content
            if think:
                data["thinking"] = think
        data["done"] = done
        return data

    out = [jsonl(line(think=t)) for t in thinking] + [jsonl(line(t)) for t in text]
    if error:
        return out + [jsonl({"error": error})]
    last = line(done=True)
    last.update({"done_reason": done_reason, "total_duration": 912000000, "load_duration": 21000000,
                 "prompt_eval_count": prompt_eval_count, "prompt_eval_duration": 80000000,
                 "eval_count": len(text) + len(thinking) if eval_count is None else eval_count, "eval_duration": 700000000})
    return out + [jsonl(last)]


# --- OpenAI Chat Completions -----------------------------------------------------------------


class OpenAIChat(Fake):
    KEYS = {"model", "messages", "max_completion_tokens", "max_tokens", "stream", "stream_options", "stop", "temperature", "top_p", "n",
            "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "user", "seed", "tools", "tool_choice",
            "response_format", "reasoning_effort", "verbosity", "store", "metadata", "service_tier", "parallel_tool_calls", "modalities"}

    def refuse(self, status, message):
        raise Refused(fs.json_reply(status, {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}))

    def unknown(self, key, where):
        return f"Unrecognized request argument supplied: {key}"

    def check(self, received, body):
        self.need(received.path == "/v1/chat/completions", 404, f"Invalid URL (POST {received.path})")
        self.need(received.header("authorization") == "Bearer fake-key", 401, "Incorrect API key provided")
        self.only(body, self.KEYS)
        self.need(not ("max_tokens" in body and "max_completion_tokens" in body), 400, "max_tokens and max_completion_tokens cannot both be set")
        for i, message in enumerate(body.get("messages") or []):
            self.need(message.get("role") in ("system", "developer", "user", "assistant", "tool"), 400,
                      f"Invalid value: '{message.get('role')}'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'.")


# --- OpenAI Responses -------------------------------------------------------------------------


class Responses(Fake):
    KEYS = {"model", "input", "instructions", "max_output_tokens", "reasoning", "stream", "store", "include", "previous_response_id",
            "text", "tools", "tool_choice", "temperature", "top_p", "truncation", "metadata", "parallel_tool_calls", "service_tier"}

    def refuse(self, status, message, param=None):
        raise Refused(fs.json_reply(status, {"error": {"message": message, "type": "invalid_request_error", "param": param,
                                                        "code": "unknown_parameter" if "Unknown parameter" in message else None}}))

    def unknown(self, key, where):
        return f"Unknown parameter: '{where}{key}'."

    def check(self, received, body):
        self.need(received.path == "/v1/responses", 404, f"Invalid URL (POST {received.path})")
        self.need(received.header("authorization") == "Bearer fake-key", 401, "Incorrect API key provided")
        self.only(body, self.KEYS)
        self.need(isinstance(body.get("model"), str), 400, "Missing required parameter: 'model'.")
        for i, item in enumerate(body.get("input") or []):
            self.need(item.get("role") in ("user", "assistant", "system", "developer"), 400,
                      f"Invalid value: '{item.get('role')}'. Supported values are: 'assistant', 'system', 'developer', and 'user'.")
        cap = body.get("max_output_tokens")
        self.need(cap is None or (isinstance(cap, int) and cap >= 16), 400, "Invalid 'max_output_tokens': integer below minimum value.")


def responses_events(text=(), *, summary=(), incomplete=None, failed=None):
    """Named events with ``sequence_number``; no [DONE]: the stream ends at the terminal event."""
    seq = iter(range(1000))

    def event(kind, **data):
        return fs.sse({"type": kind, "sequence_number": next(seq), **data}, kind)

    response = {"id": "resp_1", "object": "response", "status": "in_progress", "model": "gpt-5-nano", "output": [], "usage": None,
                "incomplete_details": None, "error": None}
    out = [event("response.created", response=response), event("response.in_progress", response=response)]
    if summary:
        out.append(event("response.output_item.added", output_index=0, item={"id": "rs_1", "type": "reasoning", "summary": []}))
        out.append(event("response.reasoning_summary_part.added", item_id="rs_1", output_index=0, summary_index=0,
                         part={"type": "summary_text", "text": ""}))
        out += [event("response.reasoning_summary_text.delta", item_id="rs_1", output_index=0, summary_index=0, delta=t) for t in summary]
        out.append(event("response.reasoning_summary_text.done", item_id="rs_1", output_index=0, summary_index=0, text="".join(summary)))
    out.append(event("response.output_item.added", output_index=1, item={"id": "msg_1", "type": "message", "role": "assistant", "content": []}))
    out += [event("response.output_text.delta", item_id="msg_1", output_index=1, content_index=0, delta=t, logprobs=[]) for t in text]
    usage = {"input_tokens": 31, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 40,
             "output_tokens_details": {"reasoning_tokens": 30}, "total_tokens": 71}
    if failed:
        return out + [event("response.failed", response={**response, "status": "failed", "error": {"code": "server_error", "message": failed}})]
    if incomplete:
        return out + [event("response.incomplete", response={**response, "status": "incomplete", "usage": usage,
                                                              "incomplete_details": {"reason": incomplete}})]
    return out + [event("response.completed", response={**response, "status": "completed", "usage": usage})]


# --- Codestral and DeepSeek FIM ------------------------------------------------------------------


class Codestral(Fake):
    KEYS = {"model", "temperature", "top_p", "max_tokens", "stream", "stop", "random_seed", "metadata", "prompt", "suffix",
            "min_tokens", "prompt_cache_key"}

    def refuse(self, status, message):
        raise Refused(fs.json_reply(status, {"object": "error", "message": message, "type": "invalid_request_error"}))

    def check(self, received, body):
        self.need(received.path == "/v1/fim/completions", 404, "Not Found")
        self.need(received.header("authorization") == "Bearer fake-key", 401, "Unauthorized")
        self.only(body, self.KEYS)
        self.need(isinstance(body.get("prompt"), str), 400, "prompt: Field required")


def codestral_chunks(text=(), *, finish="stop"):
    """Chat-shaped chunks (``choices[].delta.content``) and ``[DONE]``; usage on the last chunk."""
    def chunk(delta, reason=None, usage=None):
        return fs.sse({"id": "cmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "codestral-latest",
                       "choices": [{"index": 0, "delta": delta, "finish_reason": reason}], **({"usage": usage} if usage else {})})

    out = [chunk({"role": "assistant", "content": ""})] + [chunk({"content": t}) for t in text]
    out.append(chunk({"content": ""}, finish, {"prompt_tokens": 12, "completion_tokens": len(text), "total_tokens": 12 + len(text)}))
    return out + [fs.DONE]


class DeepSeekFim(Fake):
    KEYS = {"model", "prompt", "suffix", "max_tokens", "stop", "stream", "stream_options", "echo", "logprobs", "temperature", "top_p",
            "frequency_penalty", "presence_penalty"}

    def refuse(self, status, message):
        raise Refused(fs.json_reply(status, {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "invalid_request_error"}}))

    def unknown(self, key, where):
        return f"Unknown parameter: {key}"

    def check(self, received, body):
        self.need(received.path == "/beta/completions", 404, "Not Found")
        self.need(received.header("authorization") == "Bearer fake-key", 401, "Authentication Fails (no such user)")
        self.only(body, self.KEYS)
        self.need(isinstance(body.get("max_tokens", 1), int) and body.get("max_tokens", 1) <= 4096, 400, "max_tokens must be at most 4096 for FIM")


def deepseek_chunks(text=(), *, finish="stop"):
    """Legacy completions chunks, ``: keep-alive`` comments among them, and ``[DONE]``."""
    def chunk(piece, reason=None):
        return fs.sse({"id": "c1", "object": "text_completion", "created": 1, "model": "deepseek-chat",
                       "choices": [{"index": 0, "text": piece, "logprobs": None, "finish_reason": reason}]})

    return [b": keep-alive\n\n"] + [chunk(t) for t in text] + [chunk("", finish), fs.DONE]
