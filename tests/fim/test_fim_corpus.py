"""The over-generation corpus, replayed from a loopback server through the real ``bufbridge`` CLI."""

import pytest

import fimreplay

CASES = fimreplay.cases()
LANGUAGES = {case.meta["filename"].rsplit(".", 1)[1] for case in CASES}


def test_the_corpus_covers_what_it_must():
    assert len(CASES) >= 16
    assert {"py", "c", "js", "go"} <= LANGUAGES
    assert any(c.name == "py_norm3_runaway" for c in CASES)
    assert sum(1 for c in CASES if c.expected == "") >= 3  # nothing should be inserted
    assert sum(1 for c in CASES if c.expected.count("\n") >= 2) >= 6  # multi-line answers that must not be cut early
    assert {c.meta["endpoint"] for c in CASES} == {"infill", "completions"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_recorded_stream_carries_the_model_text(case):
    assert fimreplay.streamed_text(case) == case.model
    assert case.model.startswith(case.expected)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cut(case, tmp_path):
    result = fimreplay.replay(case, tmp_path / "config")
    fimreplay.RESULTS[case.name] = result.exact(case)
    assert result.status == 0, result.stderr
    assert result.output == case.expected
    if case.expected:
        assert "nothing to insert" not in result.stderr
    else:  # an empty insertion says why, on one line of standard error
        assert result.stderr.startswith("bufbridge: nothing to insert: ") and result.stderr.count("\n") == 1, result.stderr
    assert result.request.path == ("/infill" if case.meta["endpoint"] == "infill" else "/completions")
    if case.meta.get("cut", True):
        assert result.disconnected, "the client should close the connection as soon as it has cut"
    else:
        assert not result.disconnected
