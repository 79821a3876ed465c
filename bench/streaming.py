"""Streaming cost: a 200,000-token reply sent as fast as a loopback server can, bufbridge vs curl.

    .venv/bin/python bench/streaming.py [--tokens N] [--repeat N] [--format chat|llama|whole]

The fake server pre-builds the whole SSE body and writes it in 64 KiB blocks,
so the client is the bottleneck. curl (``-N``, output to /dev/null) receives
the same bytes for the same request body: the floor for moving them. bufbridge
also parses every event and writes (and flushes) every token to stdout.
"""

import argparse
import json
import subprocess

import benchlib as b

BLOCK = 65536


def token(i):
    # short, varied tokens, some with a leading space, some multi-byte
    return (" w", "ord", "s", " é", "\n", " 12", "3", " x")[i % 8]


def body(fmt, n):
    """(script of 64 KiB blocks, expected stdout bytes, body size)."""
    tokens = [token(i) for i in range(n)]
    fs = b.fakeserver
    if fmt == "whole":  # a server that ignores "stream": true: one JSON object on one long line
        reply = {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "".join(tokens)}}]}
        data = json.dumps(reply, ensure_ascii=False).encode()
    else:
        data = b"".join(fs.openai_chat_stream(tokens) if fmt == "chat" else fs.llama_stream(tokens))
    blocks = [data[i:i + BLOCK] for i in range(0, len(data), BLOCK)]
    expected = ("".join(tokens)).encode()
    if fmt != "llama":
        expected = b"\n\n!assistant\n\n" + expected
    return blocks, expected, len(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--format", choices=["chat", "llama", "whole"], default="chat",
                        help="OpenAI chat chunks (default), llama.cpp native /completion chunks, or one "
                             "non-streamed chat.completion JSON object on a single line")
    args = parser.parse_args()

    env = b.clean_env()
    blocks, expected, size = body(args.format, args.tokens)
    buffer_text = "!api {url}\n!completion\nTalk.\n" if args.format == "llama" else "!api {url}/v1\n!user\nTalk.\n"
    with b.fakeserver.FakeServer(b.fakeserver.Reply(blocks), timeout=120) as server:
        buffer = buffer_text.format(url=server.url).encode()
        request = b.Request(buffer.decode(), env)
        try:
            check = subprocess.run(b.bufbridge(), input=buffer, capture_output=True, env=env, timeout=600)
            correct = check.returncode == 0 and check.stdout == expected
            runs = [
                ("bufbridge", lambda: b.wall(b.bufbridge(), stdin=buffer, env=env)),
                ("curl -N", lambda: b.wall(request.curl_command(), env=env)),
            ]
            times = b.interleaved(runs, args.repeat)
        finally:
            request.remove()

    bb, cu = b.median(times["bufbridge"]), b.median(times["curl -N"])
    print(f"streaming: {args.tokens:,} tokens ({args.format} format, {size / 1e6:.1f} MB) from a loopback fake server, "
          f"{args.repeat} interleaved rounds")
    print(f"({b.machine()}; output checked byte for byte: {'ok' if correct else 'MISMATCH'})")
    print()
    print(f"{'command':<12} {'median':>11} {'IQR':>11} {'tokens/s':>12} {'MB/s':>8}")
    for name, median in (("bufbridge", bb), ("curl -N", cu)):
        print(f"{name:<12} {b.ms(median)} {b.ms(b.spread(times[name]))} {args.tokens / median:12,.0f} {size / median / 1e6:8.1f}")
    print()
    print(f"bufbridge / curl = {bb / cu:.1f}x; bufbridge costs {(bb - cu) / args.tokens * 1e6:.2f} µs per token over curl")


if __name__ == "__main__":
    main()
