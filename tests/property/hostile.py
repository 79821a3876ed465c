"""Hostile inputs for the whole pipeline, drawn from one ``random.Random``.

Used twice: the property tests draw the ``Random`` from Hypothesis
(``st.randoms``), so a failure shrinks and replays; ``bench/fuzz.py`` seeds
one itself for long runs. Either way a ``Case`` is the same thing: the
command line, the bytes on standard input, and what the server sends back
(``None`` for a dry run).

Buffers are made of the language's real directives with values chosen to
hurt (deep JSON, numbers beyond JSON, ``\\ud800`` escapes, NUL/CR/ESC, long
names, odd URLs, ``!infill`` markers, CRLF), then mutated at the byte level.
Cursor infill gets source files with hostile lines and random positions and
options. Server streams are each wire format's real events (SSE or NDJSON),
with hostile values, mutated, truncated and split at random byte boundaries
(a character's UTF-8 bytes, or its two surrogate escapes, may land in two
reads). Every ``!api`` names a loopback port that nothing listens on, and
every send goes to the caller's transport: no case reaches a network.
"""

import json
from dataclasses import dataclass, field

CLOSED_PORT = 9  # the discard port: nothing listens on 127.0.0.1:9 here; the transport never connects anyway

# --- values -----------------------------------------------------------------

CONTROL = ["\x00", "\r", "\x1b", "\x1b[2J", "\x07", "\x7f", "\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\t"]
UNICODE = ["é", "日本", "\U0001f600", "\ufeff", "\u200b", "＃", "\ufffd", "ℌ", "ﬀ", "\u0301"]
ESCAPES = ["\\ud800", "\\udc00", "\\ud83d\\ude00", "\\ud83d", "\\u0000", "\\n", "\\r", "\\u001b", "\\\\", '\\"']
NUMBERS = ["1e999", "-1e999", "1E400", "NaN", "Infinity", "-Infinity", "9" * 5000, "1" + "0" * 400, "0.1", "-0", "1e-999", "4.9e-324", "18446744073709551616"]
WORDS = ["x", "model", "stop", "temperature", "max_tokens", "prompt", "messages", "stream", "n_predict", "a b", "{", "}", "{x}", "{model}", "[", "]", ":", "$HOME", "${SECRET_TOKEN}", "$NOPE", "<think>", "</think>", "```", "*" * 3000, "x" * 300, "(" * 500, ")" * 500]
HARMONY = ["<|channel|>analysis<|message|>", "<|end|><|start|>assistant<|channel|>final<|message|>", "<|channel|>final<|message|>", "<|start|>assistant", "<|return|>", "<|end|>", "<|chan", "nel|>"]
FIM_TEMPLATES = ["qwen", "deepseek", "codellama", "starcoder", "starcoder2", "codegemma", "granite", "granite4", "mistral", "mine", "nope", "schema", "", "../x", "x" * 300,
                 "deep", "latin1", "unknown", "nan", "braces"]
PROFILES = ["llama.cpp", "openai", "claude", "claude-extended", "gemini", "gpt-oss", "qwen3", "qwen3-think", "qwen3-instruct", "gemma-3", "huggingface.co", "deepseek-r1", "qwq", "mine", "loop", "nope"]


def pick(rng, items):
    return items[rng.randrange(len(items))]


def text(rng, size=8):
    """A short string mixing plain words, control characters, odd Unicode and long runs."""
    parts = []
    for _ in range(rng.randrange(size + 1)):
        roll = rng.random()
        if roll < 0.4:
            parts.append(pick(rng, ["hello", "world", " ", "def f():", "return 1", "{", "}", "\\", '"', "'", "`", "#", "//", "=", ";"]))
        elif roll < 0.55:
            parts.append(pick(rng, CONTROL))
        elif roll < 0.7:
            parts.append(pick(rng, UNICODE))
        elif roll < 0.8:
            parts.append(pick(rng, WORDS))
        elif roll < 0.9:
            parts.append(chr(rng.randrange(0x20, 0x3000)))
        else:
            parts.append(pick(rng, HARMONY))
    return "".join(parts)


def json_value(rng, depth=0):
    """A JSON value (as a Python object) that is valid but may nest deep or hold odd strings."""
    roll = rng.random()
    if depth > 4 or roll < 0.35:
        return pick(rng, [0, 1, -1, 0.5, 2 ** 70, True, False, None, "", text(rng, 3)])
    if roll < 0.65:
        return [json_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {text(rng, 2): json_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def json_text(rng):
    """JSON text as a buffer or a server would write it: valid, beyond our limits, or broken."""
    roll = rng.random()
    if roll < 0.3:
        return json.dumps(json_value(rng), ensure_ascii=rng.random() < 0.5)
    if roll < 0.45:
        n = pick(rng, [10, 70, 1000, 5000, 20000])
        return pick(rng, ["[", '{"a":', "[1,"]) * n + pick(rng, ["", "1" + "]" * n, "null" + "}" * n])
    if roll < 0.6:
        return pick(rng, NUMBERS)
    if roll < 0.8:
        return '"' + "".join(pick(rng, ESCAPES + ["a", "é", "\t"]) for _ in range(rng.randrange(1, 6))) + pick(rng, ['"', ""])
    return pick(rng, ['{"a":1', "[1,2", "{'a': 1}", "tru", "nul", '"\\x41"', "{}", "[]", '""', "0x10", "01", "1.", ".5", "+1"])


# --- buffers ----------------------------------------------------------------


def url(rng):
    """An !api URL: loopback to a closed port, in shapes that parsers disagree on."""
    base = f"http://127.0.0.1:{CLOSED_PORT}"
    return pick(rng, [
        base + "/", base + "/v1", f'"{base}/v1/messages"', f'"{base}/v1/chat/completions"', f"http://localhost:{CLOSED_PORT}/v1",
        f"http://[::1]:{CLOSED_PORT}/", base + "/{model}", base + "/{", base + "/{nope}", "{model}", "p://[", "http://ex＃ample/",
        "http://a:99999/", "http://127.0.0.1:0/", "http://127.0.0.1:-1/", "http://127.0.0.1\\@localhost/", f"http://u:p@127.0.0.1:{CLOSED_PORT}/",
        base + "/\x00", base + "/\r\n", "http://%zz/", "http:///", "//127.0.0.1/", "127.0.0.1:9", "ftp://127.0.0.1/", '"', '""',
        "http://" + "a" * 300 + "/", "http://[::1/", f"https://127.0.0.1:{CLOSED_PORT}/", "http://127.0.0.1:9/" + "a" * 3000,
        f"HTTP://127.0.0.1:{CLOSED_PORT}/", "http://١٢٧.0.0.1/", "http://127.0.0.1:９/",
    ])


def path_arg(rng):
    """A file a directive names: in the sandbox (see ``sandbox``), missing, or a name no file system takes."""
    return pick(rng, ["a.py", "sub", "sub/", "notes.md", "nope.txt", "a\x00b", "x" * 300, "x" * 5000, ".", "sub/b.md", "deep.json",
                      "reddit.json", "issue.json", "comments.json", "list.json", "string.json", "wrong.json", "empty.json", "my.profile",
                      "broken.json", "a.py a.py", "", " ", "é.txt", "sub/../a.py"])


def directive(rng):
    """One directive line of the buffer language, with a hostile argument."""
    word = pick(rng, ["!profile", "!api", "!:", "!:", "!:", "!>", "!>", "!infill", "!infill", "!context", "!reddit", "!reddit!", "!github",
                      "!prepend", "!exclude", "!note", "!begin", "!end", "!error", "!stats", "!debug", "!gpt-oss", "!completion",
                      "!user", "!user", "!assistant", "!assistant"])
    if word == "!profile":
        return "!profile " + pick(rng, PROFILES + ["fim:" + pick(rng, FIM_TEMPLATES), "./my.profile", "sub/../my.profile", "x" * 300, "a\x00b", "", "fim:", "./nope.profile", "./loop.profile"])
    if word == "!api":
        return "!api " + url(rng)
    if word == "!:":
        key = pick(rng, ["model", "temperature", "stop", "max_tokens", "x", "n_predict", "k" * 300, "\x1b", "é", "{"])
        return f"!:{key} " + (json_text(rng) if rng.random() < 0.85 else "")
    if word == "!>":
        name = pick(rng, ["authorization", "x-api-key", "content-type", "host", "content-length", "x-a", "a:b", "é", "a\x00", "h" * 300, "transfer-encoding", "connection"])
        value = pick(rng, ["Bearer ${SECRET_TOKEN}", "$SECRET_TOKEN", "$NOPE", "a\rb", "a\x00b", "é", "", "x" * 3000, text(rng, 3), "Bearer sk-literal-secret"])
        return f"!>{name} {value}"
    if word == "!infill":
        return "!infill" + pick(rng, ["", "", " <PRE>{prefix}<SUF>{suffix}<MID>", " {prefix}", " {suffix}{prefix}", " {x}", " {", " }", " " + text(rng, 3), " {prefix}" * 50])
    if word in ("!context", "!reddit", "!reddit!", "!github"):
        args = [path_arg(rng) for _ in range(rng.randrange(1, 3))]
        if word == "!context" and rng.random() < 0.4:
            args = [pick(rng, ["sub", "sub/", "."])] + pick(rng, [[".py"], [".md", ".py"], [""], ["\x00"]])
        return word + " " + " ".join(args)
    if word == "!prepend":
        return "!prepend " + pick(rng, [text(rng, 3), '"' + text(rng, 2) + '"', json_text(rng), '"\\ud800"', '"a\\nb"', '"', '"x'])
    if word in ("!exclude", "!note"):
        return f"{word} " + pick(rng, ["think", "", text(rng, 2)])
    return word + pick(rng, ["", "", " " + text(rng, 2)])


def buffer_lines(rng):
    lines = []
    for _ in range(rng.randrange(1, 14)):
        roll = rng.random()
        if roll < 0.55:
            lines.append(directive(rng))
        elif roll < 0.65:
            lines.append(pick(rng, ["!!" + text(rng, 2), "!unknown x", "\t!api x", " !debug", "!infill\r", "<think>", "</think>", "!" + "a" * 300]))
        else:
            lines.append(text(rng))
    return lines


def encode(rng, lines):
    """Lines joined with LF, CRLF or a lone CR now and then, as UTF-8, sometimes with invalid bytes."""
    eol = pick(rng, ["\n", "\n", "\r\n"])
    data = eol.join(lines) + pick(rng, [eol, "", "\r"])
    raw = data.encode("utf-8", errors="surrogatepass")  # a lone surrogate in text becomes its invalid bytes
    if rng.random() < 0.1:
        at = rng.randrange(len(raw) + 1)
        raw = raw[:at] + pick(rng, [b"\xff", b"\xc3", b"\xe6\x97", b"\xed\xa0\x80", b"\x00"]) + raw[at:]
    return raw


def mutate(rng, data, rounds=None):
    """Byte-level mutations: delete, duplicate, splice a hostile token, flip a byte, truncate."""
    for _ in range(rng.randrange(4) if rounds is None else rounds):
        if not data:
            break
        a = rng.randrange(len(data))
        b = min(len(data), a + rng.randrange(1, 64))
        op = rng.randrange(5)
        if op == 0:
            data = data[:a] + data[b:]
        elif op == 1:
            data = data[:b] + data[a:b] * rng.randrange(1, 4) + data[b:]
        elif op == 2:
            data = data[:a] + pick(rng, CONTROL + UNICODE + ESCAPES + WORDS + ["\n", "\r\n", "\n\n", "data: ", "!infill\n"]).encode("utf-8") + data[a:]
        elif op == 3:
            data = data[:a] + bytes([rng.randrange(256)]) + data[a + 1:]
        else:
            data = data[:a]
    return data


# --- server streams -----------------------------------------------------------

WIRES = ("openai_chat", "openai_completions", "llama", "anthropic")


def pieces(rng):
    """Reply text in pieces; a character may be split in two surrogate halves (as JSON escapes)."""
    out = []
    for _ in range(rng.randrange(0, 8)):
        roll = rng.random()
        if roll < 0.15:
            out.extend(["\\ud83d", "\\ude00"] if rng.random() < 0.7 else [pick(rng, ["\\ud800", "\\udfff"])])
        elif roll < 0.25:
            out.append(pick(rng, ["", "\n", "\n\n", "\r\n"]))
        else:
            out.append(json.dumps(text(rng, 4))[1:-1])
    return out  # JSON string contents (already escaped)


def _string(escaped):
    return f'"{escaped}"'


def stream_events(rng, wire):
    """The event payloads (JSON text, ``[DONE]`` or junk) of one reply in ``wire``, with hostile extras."""
    text_pieces = pieces(rng)
    events = []
    if wire == "openai_chat":
        events.append('{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}')
        for p in text_pieces:
            key = pick(rng, ["content", "content", "reasoning_content", "reasoning"])
            events.append('{"choices":[{"index":0,"delta":{"%s":%s},"finish_reason":null}]}' % (key, _string(p)))
        events.append('{"choices":[{"index":0,"delta":{},"finish_reason":%s}]}' % pick(rng, ['"stop"', '"length"', '"error"', "null", "1", "{}"]))
        events.append('{"choices":[],"usage":%s}' % pick(rng, ['{"prompt_tokens":1,"completion_tokens":2}', "null", '{"prompt_tokens":null}', "[]", '"x"']))
        events.append("[DONE]")
    elif wire == "openai_completions":
        for p in text_pieces:
            events.append('{"object":"text_completion","choices":[{"index":0,"text":%s,"finish_reason":null}]}' % _string(p))
        events.append('{"choices":[{"index":0,"text":"","finish_reason":"stop"}]}')
        events.append("[DONE]")
    elif wire == "llama":
        for p in text_pieces:
            events.append('{"content":%s,"stop":false}' % _string(p))
        timings = pick(rng, ['{"prompt_n":1,"prompt_ms":2.5,"predicted_n":3,"predicted_ms":4}', '{"prompt_n":null,"predicted_n":null}',
                             '{"prompt_n":1,"predicted_n":2,"prompt_ms":null,"predicted_per_second":"x"}', "null", "[]", '{"prompt_n":1e999,"predicted_n":-1}'])
        events.append('{"content":"","stop":true,"stop_type":"eos","timings":%s}' % timings)
    else:
        events.append('{"type":"message_start","message":{"usage":{"input_tokens":1}}}')
        for p in text_pieces:
            kind = pick(rng, ["text", "text", "thinking"])
            events.append('{"type":"content_block_delta","index":0,"delta":{"type":"%s_delta","%s":%s}}' % (kind, kind, _string(p)))
        events.append('{"type":"message_delta","usage":%s}' % pick(rng, ['{"output_tokens":1}', "null", '{"output_tokens":null}']))
        events.append('{"type":"message_stop"}')
    for _ in range(rng.randrange(3)):  # hostile extras anywhere in the stream
        extra = pick(rng, [
            '{"error":{"message":%s}}' % _string(json.dumps(text(rng, 3))[1:-1]), '{"error":"boom\\r\\u001b[2J"}', '{"type":"error","message":null}',
            "[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000, '{"choices":null}', '{"choices":[null]}', '{"choices":[{"delta":null}]}',
            '{"choices":[{"delta":[]}]}', '{"content":null}', "[DONE]", "not json", "", '{"timings":{"prompt_n":null,"predicted_n":null}}',
            '{"x":1e999}', '{"x":' + "9" * 5000 + "}", '{"content":"\\ud800"}', '"just a string"', "123", "[]",
        ])
        events.insert(rng.randrange(len(events) + 1), extra)
    return events


def frame(rng, events, wire):
    """Events as bytes: SSE (with event names, comments, CRLF, missing blank lines) or NDJSON."""
    style = pick(rng, ["sse", "sse", "sse_crlf", "sse_tight", "ndjson"])
    out = []
    for data in events:
        if style == "ndjson":
            out.append(data + "\n")
            continue
        head = ""
        if wire == "anthropic" and data.startswith('{"type":"'):
            head = "event: " + data[9:data.index('"', 9)] + "\n"
        if rng.random() < 0.1:
            head = pick(rng, [": keep-alive\n", "retry: 100\n", "id: 1\n", "event: error\n", "event:\n", "data:\n", "error: boom\n"]) + head
        sep = {"sse": "\n\n", "sse_crlf": "\r\n\r\n", "sse_tight": "\n"}[style]
        body = f"{head}data: {data}{sep}"
        out.append(body.replace("\n", "\r\n") if style == "sse_crlf" and "\r\n" not in head else body)
    return "".join(out).encode("utf-8")


def split(rng, data):
    """``data`` cut into reads at random byte boundaries (possibly empty reads)."""
    chunks, at = [], 0
    while at < len(data):
        size = pick(rng, [1, 2, 3, 7, 64, 1000, len(data)])
        chunks.append(data[at:at + size])
        at += size
    return chunks


def server_stream(rng, wire):
    """(status, chunks) a hostile or broken server sends."""
    data = frame(rng, stream_events(rng, wire), wire)
    if rng.random() < 0.4:
        data = mutate(rng, data)
    if rng.random() < 0.08:
        data = data[: rng.randrange(len(data) + 1)]  # the connection drops mid-reply
    status = 200
    if rng.random() < 0.06:
        status = pick(rng, [400, 401, 404, 500, 501, 503])
        data = pick(rng, [b"", b'{"error":{"message":"bad\\r\\u001b","type":"exceed_context_size_error","n_prompt_tokens":9,"n_ctx":4}}',
                          b"<html>\x1b[2J</html>", b'{"error":' * 3000, b'{"error":{"code":"context_length_exceeded"}}', data])
    return status, split(rng, data)


# --- cursor infill -------------------------------------------------------------

SOURCE_LINES = [
    "def f(x):", "    return x", "    ", "", "class A:", "    def g(self):", "int main(void) {", "    return 0;", "}", "if (x) {", "func f() {",
    "function f() {", "const f = (a) => {", "fn main() {", "    for x in xs:", "        total += x", "// comment", "# comment", "/* open", "*/",
    "\"unterminated", "'", "`", "!api http://127.0.0.1:9/", "!profile openai", "!infill", "!debug", "\t\tx = [", "])}", "({[", "\r",
    "*" * 3000, "a" + "*" * 3000, "int" + " *" * 1500 + "(", "def f" + ")->" * 1000, "(" * 2000, ")" * 2000, "{" * 2000, "}" * 2000,
    " " * 3000 + "x", "x" * 10000, "é日本\U0001f600", "\x00\x1b[2J", "type " + " " * 3000 + "=",
]


def source(rng):
    lines = [pick(rng, SOURCE_LINES) if rng.random() < 0.8 else text(rng, 4) for _ in range(rng.randrange(0, 30))]
    eol = pick(rng, ["\n", "\n", "\r\n"])
    return eol.join(lines) + pick(rng, [eol, ""])


def completion(rng):
    """What a FIM model writes: often nothing, often code lines, sometimes a runaway."""
    roll = rng.random()
    if roll < 0.2:
        return ""
    if roll < 0.3:
        return pick(rng, [" ", "\n", "\n\n\n", "   \n  "])
    lines = [pick(rng, SOURCE_LINES) if rng.random() < 0.7 else text(rng, 3) for _ in range(rng.randrange(1, 60))]
    return "\n".join(lines)


def position(rng, src):
    """``LINE:COL``: a real position (byte column) most of the time, else something odd."""
    lines = src.split("\n")
    if rng.random() < 0.8:
        line = rng.randrange(1, len(lines) + 1)
        col = rng.randrange(1, len(lines[line - 1].rstrip("\r").encode("utf-8")) + 2)
        return f"{line}:{col}"
    return pick(rng, ["0:0", "1:0", "0:1", "-1:1", "1:-1", "1", ":", "", "a:b", "1:1:1", " 1:1", "1 :1", "99999999999999999999:1",
                      "1:99999999999999999999", "1" * 5000 + ":1", "١:١", "1_0:1", "+1:+1", "1.0:1", f"{len(lines) + 1}:1"])


def cursor_argv(rng, src):
    argv = ["--infill-at", position(rng, src)]
    options = [
        ("--fim", lambda: pick(rng, FIM_TEMPLATES)),
        ("--filename", lambda: pick(rng, ["x.py", "x.c", "x.js", "x.go", "x.rs", "x.lua", "x", "", ".py", "x.", "a\x00b.py", "x" * 300 + ".py", "é.PY"])),
        ("--prefix-lines", lambda: pick(rng, ["0", "1", "3", "256", "100000"])),
        ("--suffix-lines", lambda: pick(rng, ["0", "1", "64", "100000"])),
        ("--ctx-tokens", lambda: pick(rng, ["0", "1", "16", "4096", "1000000000"])),
        ("--extra-tokens", lambda: pick(rng, ["0", "1", "4096"])),
        ("--no-stop", lambda: pick(rng, ["all", "trim", "dedent,brackets", "max-lines", "max-time", "suffix-repeat", "new-definition", "stop-strings", "drop-empty", ",", "bogus", "all,bogus"])),
        ("--max-lines", lambda: pick(rng, ["1", "2", "40", "100000"])),
        ("--max-ms", lambda: pick(rng, ["1", "5000", "100000000"])),
        ("--repo", lambda: pick(rng, ["r", "", "x" * 300, "{repo}", "\x1b"])),
        ("--profile", lambda: pick(rng, ["llama.cpp", "openai", "mine", "./my.profile", "nope", "fim:qwen", "x" * 300])),
        ("--extra", lambda: pick(rng, ["a.py", "notes.md", "nope.txt", "sub", "a\x00b"])),
        ("--extra-json", lambda: pick(rng, ["extras.json", "list.json", "deep.json", "string.json", "nope.json", "broken.json"])),
    ]
    for _ in range(rng.randrange(0, 6)):
        name, value = pick(rng, options)
        argv += [name, value()]
    if rng.random() < 0.15:
        argv.append("--debug")
    if rng.random() < 0.1:
        argv.append("-v")
    return argv


def infill_stream(rng, text_):
    """(status, chunks): the completion as llama.cpp /infill or OpenAI completions events, maybe broken."""
    wire = pick(rng, ["llama", "openai_completions"])
    escaped = json.dumps(text_, ensure_ascii=rng.random() < 0.5)[1:-1]
    cuts = sorted(rng.randrange(len(escaped) + 1) for _ in range(rng.randrange(0, 6)))
    parts, last = [], 0
    for cut in cuts:
        while cut > last and escaped[cut - 1] == "\\" and not escaped[:cut].endswith("\\\\"):
            cut -= 1  # keep an escape sequence whole within one event
        parts.append(escaped[last:cut])
        last = cut
    parts.append(escaped[last:])
    if wire == "llama":
        events = ['{"content":"%s","stop":false}' % p for p in parts if p] + ['{"content":"","stop":true,"stop_type":"eos"}']
    else:
        events = ['{"choices":[{"index":0,"text":"%s","finish_reason":null}]}' % p for p in parts if p]
        events += ['{"choices":[{"index":0,"text":"","finish_reason":"stop"}]}', "[DONE]"]
    data = frame(rng, events, wire)
    if rng.random() < 0.2:
        data = mutate(rng, data)
    return 200, split(rng, data)


# --- cases ------------------------------------------------------------------------


@dataclass
class Case:
    """One run of the command: arguments, standard input, and the server's answer (None: no send expected)."""

    kind: str
    argv: list
    stdin: bytes
    status: int = 200
    chunks: list | None = None
    notes: dict = field(default_factory=dict)

    @property
    def infill(self):
        return "--infill-at" in self.argv


def buffer_case(rng):
    """A buffer of real directives and hostile values, mutated; mostly a dry run."""
    data = encode(rng, buffer_lines(rng))
    if rng.random() < 0.3:
        data = mutate(rng, data)
    argv = ["--debug"] if rng.random() < 0.8 else []
    if rng.random() < 0.15:
        argv += pick(rng, [["--allow-env"], ["-v"], ["-p", pick(rng, PROFILES)], ["-p", "./my.profile"], ["--list-profiles"]])
    status, chunks = server_stream(rng, pick(rng, WIRES))
    return Case("buffer", argv, data, status, chunks)


STREAM_BUFFERS = {
    "openai_chat": f"!api http://127.0.0.1:{CLOSED_PORT}/v1\n!user\nhi\n",
    "openai_completions": f"!api http://127.0.0.1:{CLOSED_PORT}/v1\n!completion\nOnce\n",
    "llama": f"!api http://127.0.0.1:{CLOSED_PORT}/\nbefore\n!infill\nafter\n",
    "anthropic": f'!profile claude\n!api "http://127.0.0.1:{CLOSED_PORT}/v1/messages"\n!user\nhi\n',
}


def stream_buffer(rng, wire):
    extra = []
    for _ in range(rng.randrange(3)):
        extra.append(pick(rng, ["!stats", "!gpt-oss", "!prepend " + text(rng, 2), '!prepend "\\ud800"', "!exclude think", "!assistant\npartial reply " + text(rng, 2)]))
    buffer = STREAM_BUFFERS[wire]
    if extra and wire in ("openai_chat", "anthropic"):
        buffer += "\n".join(extra) + "\n"
    elif extra:
        buffer = "\n".join(e for e in extra if not e.startswith("!assistant")) + "\n" + buffer
    return buffer.encode("utf-8")


def stream_case(rng):
    """A simple buffer of one wire format, and a hostile stream of that format."""
    wire = pick(rng, WIRES)
    status, chunks = server_stream(rng, wire)
    return Case("stream", [], stream_buffer(rng, wire), status, chunks, {"wire": wire})


def cursor_case(rng):
    """A source file, a cursor position, FIM options, and a completion stream (often empty)."""
    src = source(rng)
    status, chunks = infill_stream(rng, completion(rng))
    data = src.encode("utf-8", errors="surrogatepass")
    return Case("cursor", cursor_argv(rng, src), data, status, chunks)


KINDS = {"buffer": buffer_case, "stream": stream_case, "cursor": cursor_case}


def any_case(rng):
    return KINDS[pick(rng, tuple(KINDS))](rng)


# --- the sandbox a case runs in -------------------------------------------------------


def sandbox(root):
    """Write the files and the configuration folder that cases name into ``root``; return the config folder."""
    from pathlib import Path

    root = Path(root)
    files = {
        "a.py": "def f():\n    return 1\n```\n",
        "notes.md": "# notes\n\x1b[2J\r\n",
        "sub/b.md": "b\n",
        "sub/c.py": "c = 1\n",
        "deep.json": "[" * 5000 + "]" * 5000,
        "reddit.json": json.dumps([{"data": {"children": [{"data": {"title": "t\r", "author": "a", "subreddit": "s", "selftext": "x"}}]}},
                                   {"data": {"children": [{"data": {"author": "b", "body": "hi\nthere", "replies": ""}}]}}]),
        "issue.json": json.dumps({"html_url": "u", "title": "t", "user": {"login": "l"}, "body": "b\x00"}),
        "comments.json": json.dumps([{"user": {"login": "c"}, "body": "x"}]),
        "list.json": "[1, 2, 3]",
        "string.json": '"x"',
        "wrong.json": json.dumps([{"data": None}, 5]),
        "empty.json": "",
        "broken.json": '{"a": ',
        "extras.json": json.dumps([{"filename": "z.py", "text": "z = 1\n"}, {"filename": "a.py", "text": "\x00"}]),
        "my.profile": f"!api http://127.0.0.1:{CLOSED_PORT}/\n!:stop [\"<|x|>\", \"\"]\n!>authorization Bearer $SECRET_TOKEN\nsystem text\n",
        "loop.profile": "!profile ./loop.profile\n",
        "config/profiles/mine.profile": f"!api http://127.0.0.1:{CLOSED_PORT}/v1\n!>x-api-key $SECRET_TOKEN\n!:stop \"\"\n",
        "config/profiles/loop.profile": "!profile loop\n",
        "config/fim_templates/mine.json": json.dumps({"description": "mine", "template": "<P>{prefix}<S>{suffix}<M>", "stop": ["<E>"],
                                                      "heuristics": {"max-lines": {"lines": 2}, "trim": False},
                                                      "repo": {"header": "{repo}\n", "file": "{filename}\n{text}\n"}}),
    }
    templates = root / "config/fim_templates"
    files.update({  # user templates a FIM option may name, broken in every way a file can be
        "config/fim_templates/deep.json": '{"description": "d", "template": "{prefix}", "x": ' + "[" * 5000 + "]" * 5000 + "}",
        "config/fim_templates/unknown.json": '{\n "description": "u",\n "template": "{prefix}{nope}"\n}',
        "config/fim_templates/nan.json": '{"description": "n", "template": "{prefix}", "stop": [NaN]}',
        "config/fim_templates/braces.json": '{"description": "b", "template": "{prefix}{suffix}{", "repo": {"header": "{repo}{repo}", "file": "{text}{filename}"}}',
    })
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    (templates / "latin1.json").write_bytes(b'{"description": "caf\xe9", "template": "{prefix}"}')
    return root / "config"


def environment(config):
    """The environment every case runs with: its own config folder, a secret to expand, no proxies."""
    return {"BUFBRIDGE_CONFIG_DIR": str(config), "SECRET_TOKEN": "sk-fuzz-0123456789", "NO_PROXY": "*", "HOME": str(config)}
