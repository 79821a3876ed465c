"""Write each corpus case's ``stream.sse`` from its ``model.txt``, token by token, in llama.cpp's wire format.

    python tests/fim/corpus/synth.py --server http://127.0.0.1:PORT [CASE ...]

The corpus streams are not recordings of a FIM model: none is available
offline here. ``model.txt`` is the over-generation a FIM model produces for
the case (written by hand, after the documented failure modes: the line,
then the code after the cursor again, then ``norm3``...). This script cuts it
into the tokens of a real tokenizer (the ``/tokenize`` endpoint of a running
llama-server, with whatever model it has loaded) and writes the chunks that
llama.cpp's ``/infill`` (native) or ``/v1/completions`` (OpenAI) would send:
one SSE event per token, incomplete UTF-8 held back until its character is
whole (as the server does), and the final chunk with ``timings``.
"""

import argparse
import json
import sys
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL = "qwen2.5-coder-1.5b-q8_0.gguf"


def tokenize(server, text):
    """(token id, bytes) pairs for ``text``."""
    body = json.dumps({"content": text, "with_pieces": True, "add_special": False}).encode()
    request = urllib.request.Request(server.rstrip("/") + "/tokenize", body, {"content-type": "application/json"})
    with urllib.request.urlopen(request) as reply:
        tokens = json.load(reply)["tokens"]
    return [(t["id"], t["piece"].encode() if isinstance(t["piece"], str) else bytes(t["piece"])) for t in tokens]


def pieces(tokens):
    """(text, [ids]) per chunk: a chunk is sent once its bytes decode (the server holds back partial characters)."""
    out, held, ids = [], b"", []
    for token_id, data in tokens:
        held += data
        ids.append(token_id)
        try:
            text = held.decode("utf-8")
        except UnicodeDecodeError:
            continue
        out.append((text, ids))
        held, ids = b"", []
    return out


def event(data):
    return "data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n\n"


def timings(n_prompt, n_predicted):
    return {
        "cache_n": 0, "prompt_n": n_prompt, "prompt_ms": round(n_prompt * 0.41, 3),
        "prompt_per_token_ms": 0.41, "prompt_per_second": 2439.02,
        "predicted_n": n_predicted, "predicted_ms": round(n_predicted * 9.8, 3),
        "predicted_per_token_ms": 9.8, "predicted_per_second": 102.04,
    }


def infill_stream(chunks, n_tokens, stop_type, n_prompt=412):
    """llama.cpp /infill (native /completion format): content chunks, then a stop chunk; no [DONE]."""
    out = []
    count = 0
    for text, ids in chunks:
        count += len(ids)
        out.append(event({"index": 0, "content": text, "tokens": ids, "stop": False, "id_slot": -1,
                          "tokens_predicted": count, "tokens_evaluated": n_prompt}))
    out.append(event({"index": 0, "content": "", "tokens": [], "id_slot": 0, "stop": True, "model": MODEL,
                      "tokens_predicted": n_tokens, "tokens_evaluated": n_prompt, "has_new_line": True,
                      "truncated": False, "stop_type": stop_type, "stopping_word": "", "tokens_cached": n_prompt + n_tokens,
                      "timings": timings(n_prompt, n_tokens)}))
    return out


def completions_stream(chunks, n_tokens, stop_type, n_prompt=412):
    """llama.cpp /v1/completions (OpenAI text_completion): text chunks, a finish chunk with usage and timings, [DONE]."""
    head = {"created": 1795400000, "model": MODEL, "system_fingerprint": "b6500-0a1b2c3d", "object": "text_completion",
            "id": "chatcmpl-corpus"}
    out = [event({"choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": None}], **head})
           for text, _ in chunks]
    finish = "length" if stop_type == "limit" else "stop"
    out.append(event({"choices": [{"text": "", "index": 0, "logprobs": None, "finish_reason": finish}], **head,
                      "usage": {"completion_tokens": n_tokens, "prompt_tokens": n_prompt, "total_tokens": n_prompt + n_tokens},
                      "timings": timings(n_prompt, n_tokens)}))
    out.append("data: [DONE]\n\n")
    return out


def synth(case, server):
    meta = json.loads((case / "case.json").read_text(encoding="utf-8"))
    text = (case / "model.txt").read_text(encoding="utf-8")
    tokens = tokenize(server, text)
    make = infill_stream if meta.get("endpoint", "infill") == "infill" else completions_stream
    events = make(pieces(tokens), len(tokens), meta.get("stop_type", "limit"))
    (case / "stream.sse").write_text("".join(events), encoding="utf-8")
    return len(tokens)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, help="a running llama-server, for /tokenize")
    parser.add_argument("cases", nargs="*", help="case folder names (default: all)")
    args = parser.parse_args(argv)
    cases = [HERE / c for c in args.cases] or sorted(p.parent for p in HERE.glob("*/case.json"))
    for case in cases:
        print(f"{case.name}: {synth(case, args.server)} tokens", file=sys.stderr)


if __name__ == "__main__":
    main()
