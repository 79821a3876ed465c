"""The promise, as properties: whatever the buffer, the arguments or the server, the run ends in exit 0 or in one clear error line.

Each property draws whole cases from ``hostile.py`` and runs them through
``bridge.cli.main`` in-process (``harness.run``); the server's bytes come
through ``harness.ScriptedTransport``, which has the real transport's
``chunks()`` interface. ``test_loopback_streams.py`` sends streams over real
loopback HTTP. A failure prints the case and, for an internal error, the
traceback of a rerun with ``BUFBRIDGE_DEBUG=1``.
"""

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

import harness
import hostile
from budget import CPU_LIMIT, WALL_LIMIT, examples


def check(case, env):
    result = harness.run(case, env, wall=WALL_LIMIT)
    problems = harness.violations(case, result, cpu_limit=CPU_LIMIT)
    assert not problems, harness.describe(case, result, env, problems)
    return result


buffers = st.builds(hostile.buffer_case, st.randoms(use_true_random=False))
streams = st.builds(hostile.stream_case, st.randoms(use_true_random=False))
cursors = st.builds(hostile.cursor_case, st.randoms(use_true_random=False))

EMPTY_INFILL = [b'data: {"content":"","stop":true,"stop_type":"eos"}\n\n']
STARS = "x = 1\n" + "a" + "*" * 3000 + "\n" + "y = 2\n"  # the cursor at the end of line 2: its code is checked for a definition


@settings(max_examples=examples(300))
@given(buffers)
def test_any_buffer_ends_in_exit_0_or_one_clear_error(sandbox, case):
    check(case, sandbox)


@settings(max_examples=examples(250))
@given(streams)
def test_any_server_stream_ends_in_exit_0_or_one_clear_error(sandbox, case):
    check(case, sandbox)


@settings(max_examples=examples(250))
@given(cursors)
# cursor infill with an empty completion: the stop filter's time budget once subtracted None (TypeError)
@example(hostile.Case("cursor", ["--infill-at", "2:5"], b"def f():\n    \n", 200, EMPTY_INFILL))
# a 3,000-character line of "*" above the cursor: the definition pattern took ~48 s per line
@example(hostile.Case("cursor", ["--infill-at", "2:3002"], STARS.encode(), 200, EMPTY_INFILL))
def test_any_cursor_infill_ends_in_exit_0_or_one_clear_error(sandbox, case):
    check(case, sandbox)


@settings(max_examples=examples(60))
@given(st.randoms(use_true_random=False), st.sampled_from(hostile.WIRES))
def test_a_well_formed_stream_gives_the_same_output_however_it_is_split(sandbox, rng, wire):
    """Where the network cuts the bytes (inside a character, between surrogate halves) changes nothing the user sees."""
    data = hostile.frame(rng, [e for e in hostile.stream_events(rng, wire)], wire)
    buffer = hostile.stream_buffer(rng, wire)
    whole = harness.run(hostile.Case("stream", [], buffer, 200, [data]), sandbox, wall=WALL_LIMIT)
    cut = harness.run(hostile.Case("stream", [], buffer, 200, hostile.split(rng, data)), sandbox, wall=WALL_LIMIT)
    bytewise = harness.run(hostile.Case("stream", [], buffer, 200, [data[i:i + 1] for i in range(len(data))]), sandbox, wall=WALL_LIMIT)
    assert (cut.status, seen(cut)) == (whole.status, seen(whole))
    assert (bytewise.status, seen(bytewise)) == (whole.status, seen(whole))


def seen(result):
    """Standard output with the clock readings of a !stats note left out (they differ from run to run)."""
    return re.sub(rb"\n!note [^\n]*tok/s[^\n]*", b"\n!note (stats)", result.stdout)


def test_the_harness_sees_a_broken_promise(sandbox):
    """The judge can fail: a run that printed a traceback-like internal error is caught."""
    case = hostile.Case("buffer", ["--debug"], b"!user\nhi\n", 200, None)
    result = harness.Result(1, b"\n\n!error\n\ninternal error: TypeError: x; please report it\n", "", 0.0)
    assert any("internal error" in p for p in harness.violations(case, result, cpu_limit=1))
    result = harness.Result(1, b"\n\n!error\n\nbad \x1b[2J line\n", "", 0.0)
    assert any("control character" in p for p in harness.violations(case, result, cpu_limit=1))
    result = harness.Result(1, b"reply text without an error block", "", 0.0)
    assert harness.violations(case, result, cpu_limit=1)
    result = harness.Result(0, b"ok", "", 5.0)
    assert harness.violations(case, result, cpu_limit=1)


def test_a_dry_run_case_really_runs_the_pipeline(sandbox):
    """A plain case goes through load and build: the dry run prints the request for the buffer's !api."""
    case = hostile.Case("buffer", ["--debug"], b"!api http://127.0.0.1:9/v1\n!user\nhi\n", 200, None)
    result = check(case, sandbox)
    assert result.status == 0
    assert b"POST http://127.0.0.1:9/v1/chat/completions HTTP/1.1" in result.stdout


def test_the_scripted_transport_streams_the_reply(sandbox):
    case = hostile.Case("stream", [], hostile.STREAM_BUFFERS["llama"].encode(), 200,
                        [b'data: {"content":"Hel","stop":false}\n\n', b'data: {"content":"lo","stop":true}\n\n'])
    assert check(case, sandbox).stdout == b"Hello"


def test_the_sandbox_is_the_current_folder(sandbox):
    case = hostile.Case("buffer", ["--debug"], b"!context a.py\n!user\nhi\n", 200, None)
    assert b"def f():" in check(case, sandbox).stdout
