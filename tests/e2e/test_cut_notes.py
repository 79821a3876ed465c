"""A real llama-server that stops at the token cap: the reply ends with a note naming the cap, never silently."""

import pytest

from .support import buffer, bufbridge

pytestmark = pytest.mark.e2e

CAPPED = ("!:temperature 0", "!:seed 1", "!:max_tokens 8", "!:ignore_eos true")  # ignore_eos: the cap is what stops it
CHAT_NOTE = ("\n\n!note the reply was cut at the output limit (finish_reason length): max_tokens is 8; raise it with "
             "`!:max_tokens N` in the buffer; on llama.cpp a full context or its time limit also ends a reply this way\n")


def test_chat_at_the_token_cap_ends_with_a_note(llama):
    run = bufbridge(buffer(llama, *CAPPED, "!user", "Count to fifty."))
    assert run.status == 0, run.out.strip()
    assert run.out.startswith("\n\n!assistant\n\n") and run.out.endswith(CHAT_NOTE)
    assert run.out.count("!note") == 1 and run.err == ""


def test_completion_at_the_token_cap_is_told_from_the_other_limits(llama):
    run = bufbridge(buffer(llama, "!completion", *CAPPED, "Once upon a time,"))
    assert run.status == 0, run.out.strip()
    # llama-server answers `completions` natively: stop_type limit, and 8 tokens predicted of a cap of 8
    note = "\n\n!note the reply was cut at the output limit (stop_type limit, 8 tokens): max_tokens is 8; raise it with `!:max_tokens N` in the buffer\n"
    assert run.out.endswith(note) and len(run.out) > len(note)


def test_a_reply_that_ends_by_itself_has_no_note(llama):
    run = bufbridge(buffer(llama, "!:temperature 0", "!:seed 1", "!:max_tokens 64", "!:stop [\"\\n\"]", "!completion", "The capital of France is"))
    assert run.status == 0, run.out.strip()
    assert "!note" not in run.out
