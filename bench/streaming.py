"""Streaming cost: a 200,000-token reply sent as fast as a loopback server can, bufbridge vs curl.

    .venv/bin/python bench/streaming.py [--tokens N] [--repeat N] [--format chat|llama|whole] [--against DIR]

The fake server pre-builds the whole SSE body and writes it in 64 KiB blocks,
so the client is the bottleneck. curl (``-N``, output to /dev/null) receives
the same bytes for the same request body: the floor for moving them. bufbridge
also parses every event, decodes it, and writes the text to stdout (one write
per network read).

Then the same blocks go through each stage of the pipeline in this process, to
show where the time goes: framing (``sse.events``: bytes to JSON events), the
in-stream error check (``wire.may_be_error`` of every event,
``wire.error_message`` of those it flags), decoding (the
wire module's ``decode``), filters (the reply
filters and the ``<think>`` bookkeeping of ``stream.Reply``, into a list), and
writing (``output.Output`` to /dev/null, one push per 64 KiB block), and the
whole pipeline in-process (``cli.main`` with the blocks as its transport, so
no network and no start-up). Each stage is timed in CPU time of this process,
best of ``--repeat``, on the previous stage's output, dropping its own as it
comes (as the pipeline does); what the stages do not add up to is the
generators and glue between them.
"""

import argparse
import gc
import io
import json
import os
import subprocess
import time

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
    parser.add_argument("--against", metavar="DIR", help=b.AGAINST_HELP)
    args = parser.parse_args()

    env = b.clean_env()
    other = b.against(env, args.against) if args.against else None
    blocks, expected, size = body(args.format, args.tokens)
    buffer_text = "!api {url}\n!completion\nTalk.\n" if args.format == "llama" else "!api {url}/v1\n!user\nTalk.\n"
    with b.fakeserver.FakeServer(b.fakeserver.Reply(blocks), timeout=120) as server:
        buffer = buffer_text.format(url=server.url).encode()
        request = b.Request(buffer.decode(), env)
        try:
            check = subprocess.run(b.bufbridge(), input=buffer, capture_output=True, env=env, timeout=600)
            correct = check.returncode == 0 and check.stdout == expected
            runs = [
                ("bufbridge", lambda: b.timed(b.bufbridge(), stdin=buffer, env=env)),
                ("curl -N", lambda: b.timed(request.curl_command(), env=env)),
            ]
            if other:
                runs.append(("against", lambda: b.timed(b.bufbridge(), stdin=buffer, env=other)))
            times = b.interleaved(runs, args.repeat)
        finally:
            request.remove()

    walls = {name: [t.wall for t in runs] for name, runs in times.items()}
    cpus = {name: [t.cpu for t in runs] for name, runs in times.items()}
    bb, cu = b.median(walls["bufbridge"]), b.median(walls["curl -N"])
    print(f"streaming: {args.tokens:,} tokens ({args.format} format, {size / 1e6:.1f} MB) from a loopback fake server, "
          f"{args.repeat} interleaved rounds")
    print(f"({b.machine()}; output checked byte for byte: {'ok' if correct else 'MISMATCH'})")
    print()
    print(f"{'command':<12} {'median':>11} {'IQR':>11} {'tokens/s':>12} {'MB/s':>8} {'CPU median':>12}")
    for name in walls:
        median = b.median(walls[name])
        print(f"{name:<12} {b.ms(median)} {b.ms(b.spread(walls[name]))} {args.tokens / median:12,.0f} {size / median / 1e6:8.1f}"
              f" {b.ms(b.median(cpus[name]))}")
    print()
    print(f"bufbridge / curl = {bb / cu:.1f}x; bufbridge costs {(bb - cu) / args.tokens * 1e6:.2f} µs per token over curl")
    if other:
        print(f"against {args.against}: {b.median(walls['against']) / cu:.1f}x curl; "
              f"CPU {b.ms(b.median(cpus['against'])).strip()} there, {b.ms(b.median(cpus['bufbridge'])).strip()} here")
    print()
    timed = stages(blocks, buffer.decode(), env, expected, args.repeat)
    total = timed.pop("in-process total")
    print(f"where the time goes, in this process (CPU time, best of {args.repeat}; µs per token):")
    for name, seconds in timed.items():
        print(f"  {name:<24} {b.ms(seconds)} {seconds / args.tokens * 1e6:7.2f} µs")
    rest = total - sum(timed.values())
    print(f"  {'the rest (glue, noise)':<24} {b.ms(rest)} {rest / args.tokens * 1e6:7.2f} µs")
    print(f"  {'in-process total':<24} {b.ms(total)} {total / args.tokens * 1e6:7.2f} µs")
    print(f"  {'start-up, network, rest':<24} {b.ms(bb - total)}   (the bufbridge median above minus the in-process total)")


class Blocks:
    """A transport whose reply is the pre-built blocks: ``cli.main`` in-process with no network."""

    def __init__(self, blocks):
        self.blocks, self.request = blocks, None

    def open(self, request):
        self.request = request
        return self

    status, headers = 200, {"content-type": "text/event-stream"}

    def chunks(self):
        yield from self.blocks

    def close(self, complete=False):
        pass


def best(repeat, thunk):
    """The shortest of ``repeat`` CPU times of ``thunk()``: the run the rest of the machine disturbed least."""
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.process_time()
        thunk()
        times.append(time.process_time() - started)
    return min(times)


def stage(repeat, generator):
    """(best CPU time of running ``generator()`` with its output dropped as it comes, as the pipeline does; its output as a list).

    The garbage collector is off while it runs: the previous stage's output,
    kept for this one (hundreds of thousands of objects), would otherwise be
    scanned again and again, which the real pipeline never does.
    """

    def drained():
        for _ in generator():
            pass

    gc.disable()
    try:
        return best(repeat, drained), list(generator())
    finally:
        gc.enable()


def per_block(blocks, sse):
    """How many events were framed once each block had been handled."""
    counts, seen = [], 0

    def counted():
        for block in blocks:
            yield block
            counts.append(seen)

    for _ in sse.events(counted()):
        seen += 1
    return counts


def stages(blocks, buffer, env, expected, repeat):
    """Seconds per pipeline stage for ``blocks``, each timed on the previous stage's output; and the whole in-process run."""
    from bridge import cli, sse, stream, wire
    from bridge.output import Output

    transport = Blocks(blocks)
    sink = io.BytesIO()
    cli.main([], stdin=io.BytesIO(buffer.encode()), stdout=sink, env=env, transport=transport)
    if sink.getvalue() != expected:
        raise SystemExit(f"the in-process run wrote something else than the subprocess: the stages would time the wrong thing: {sink.getvalue()[:300]!r}")
    request = transport.request
    decode = wire.module(request.wire).decode

    def framing():
        for event in sse.events(iter(blocks)):
            yield event

    def checking():  # what stream.py asks of every event before decoding it: is it an error?
        may_be_error = wire.may_be_error
        for event in events:
            if (event.kind == "error" or may_be_error(event.data)) and event.data != sse.DONE and (
                    event.kind == "error" or (event.data is not None and wire.error_message(event.data))):
                raise SystemExit("the benchmark stream holds an error event")
            yield None

    def decoding():  # one list per event, so that writing can replay them block by block
        for event in events:
            yield decode(event.data, event.kind) if event.data != sse.DONE and isinstance(event.data, dict) else []

    class Collect(list):
        write = list.append

        def flush(self):
            pass

    def filtering():  # the texts written for each event
        reply = stream.Reply(request, Collect(), stream.Stats(started=0.0), None, time.monotonic)
        for event_pieces in pieces:
            reply.out = Collect()
            for piece in event_pieces:
                reply.take(piece)
            yield reply.out

    def writing():
        with open(os.devnull, "wb") as null:
            out = Output(null)
            with out.per_read(iter(groups)) as reads:
                for group in reads:
                    for text in group:
                        out.write(text)
            out.flush()
        yield None

    def whole():
        with open(os.devnull, "wb") as null:
            return cli.main([], stdin=io.BytesIO(buffer.encode()), stdout=null, env=env, transport=Blocks(blocks))

    timed = {"in-process total": best(repeat, whole)}  # first: the stages' outputs, kept below, would slow its garbage collector
    timed["framing (sse)"], events = stage(repeat, framing)
    timed["error check (wire)"], _ = stage(repeat, checking)
    timed["decoding (wire)"], pieces = stage(repeat, decoding)
    timed["filters (stream.Reply)"], texts = stage(repeat, filtering)
    groups, start = [], 0  # the texts of each 64 KiB block: those of the events framed from it
    for end in per_block(blocks, sse):
        groups.append([text for written in texts[start:end] for text in written])
        start = end
    groups[-1] += [text for written in texts[start:] for text in written]  # what the end of the stream flushed
    timed["writing (output)"], _ = stage(repeat, writing)
    return timed


if __name__ == "__main__":
    main()
