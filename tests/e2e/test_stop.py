"""Stopping bufbridge mid-reply stops generation on the server.

The observable is llama-server's own counter of generated tokens
(``llamacpp:tokens_predicted_total`` on /metrics; the session server runs
with --metrics). A cancelled request's tokens are counted when its slot is
released, so each measurement waits until the server is idle.
"""

import os
import signal

import pytest

from .support import buffer, metric, spawn, wait_idle

pytestmark = pytest.mark.e2e

MAX_TOKENS = 200  # about 1.5 s of generation for the bundled model on 2 idle cores
PREDICTED = "llamacpp:tokens_predicted_total"


def long_reply(server):
    # ignore_eos: without a stop, the server generates exactly MAX_TOKENS
    return buffer(server, "!completion", "!:temperature 0", f"!:max_tokens {MAX_TOKENS}", "!:ignore_eos true", "Once upon a time,")


def generated_by(server, action):
    """Tokens the server generated while ``action`` ran."""
    wait_idle(server)
    before = metric(server, PREDICTED)
    action()
    wait_idle(server)
    return int(metric(server, PREDICTED) - before)


def read_first_text(process):
    """Block until bufbridge has written some reply text."""
    data = os.read(process.stdout.fileno(), 4096)
    assert data, f"no reply text before the stop: {process.stderr.read()!r}"


def run_to_the_end(server):
    with spawn(long_reply(server)) as process:
        process.stdout.read()
        assert process.wait(timeout=60) == 0, process.stderr.read()


def close_stdout_after_first_text(server):
    """What an editor does when it stops reading: bufbridge's next write fails and it exits."""
    with spawn(long_reply(server)) as process:
        read_first_text(process)
        process.stdout.close()
        process.wait(timeout=20)
        assert b"Traceback" not in process.stderr.read()


def sigterm_after_first_text(server):
    """What Vim's job_stop() does by default."""
    with spawn(long_reply(server)) as process:
        read_first_text(process)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def sigint_after_first_text(server):
    with spawn(long_reply(server)) as process:
        read_first_text(process)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 130
        assert b"Traceback" not in process.stderr.read()


@pytest.fixture(scope="module")
def full_run(llama):
    """Tokens generated when nothing stops the reply."""
    generated = generated_by(llama, lambda: run_to_the_end(llama))
    print(f"\nwithout a stop: the server generated {generated} tokens")
    return generated


def test_without_a_stop_the_server_generates_max_tokens(full_run):
    assert full_run == MAX_TOKENS


@pytest.mark.parametrize("stop", [close_stdout_after_first_text, sigterm_after_first_text, sigint_after_first_text], ids=["close-stdout", "sigterm", "sigint"])
def test_stopping_bufbridge_stops_generation(llama, full_run, stop):
    generated = generated_by(llama, lambda: stop(llama))
    print(f"\n{stop.__name__}: the server generated {generated} of {full_run} tokens")
    assert 0 < generated < full_run // 4, f"{generated} tokens generated after the stop; {full_run} without it"
