"""Hostile server streams over real loopback HTTP: ``send.RequestsTransport`` against ``tests/fakeserver.py``.

The in-process properties feed the same bytes through a scripted transport;
this one proves the real transport (urllib3's reads, chunked framing, a
connection the server drops mid-reply) keeps the promise too. One server
serves every example; each example sets its reply.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fakeserver
import harness
import hostile
from budget import CPU_LIMIT, WALL_LIMIT, examples


@pytest.fixture(scope="module")
def server():
    with fakeserver.FakeServer(timeout=20) as srv:
        yield srv


def loopback_case(rng, server):
    """A stream case whose !api is the fake server, and whose reply the server sends in the case's chunks."""
    case = hostile.stream_case(rng)
    case.stdin = case.stdin.replace(f"127.0.0.1:{hostile.CLOSED_PORT}".encode(), f"127.0.0.1:{server.port}".encode())
    framing = hostile.pick(rng, ["chunked", "close", "length"])
    script = list(case.chunks) + ([fakeserver.CUT] if rng.random() < 0.1 else [])
    return case, fakeserver.Reply(script, status=case.status, framing="chunked" if fakeserver.CUT in script else framing)


@settings(max_examples=examples(40))
@given(st.randoms(use_true_random=False))
def test_any_stream_over_loopback_ends_in_exit_0_or_one_clear_error(sandbox, server, rng):
    case, reply = loopback_case(rng, server)
    server.reply = reply
    before = len(server.requests)
    result = harness.run(case, sandbox, transport=None, wall=WALL_LIMIT)  # None: the real RequestsTransport
    problems = harness.violations(case, result, cpu_limit=CPU_LIMIT)
    assert not problems, harness.describe(case, result, sandbox, problems)
    if result.status == 0:
        assert len(server.requests) == before + 1, "the reply came over loopback from the fake server"


def test_a_plain_reply_over_loopback(sandbox, server):
    server.reply = fakeserver.Reply(fakeserver.openai_chat_stream(["Hel", "lo"]))
    case = hostile.Case("stream", [], f"!api http://127.0.0.1:{server.port}/v1\n!user\nhi\n".encode(), 200, [])
    result = harness.run(case, sandbox, transport=None, wall=WALL_LIMIT)
    assert (result.status, result.stdout) == (0, b"\n\n!assistant\n\nHello")
