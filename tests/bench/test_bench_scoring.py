"""Bench scores: exact values for known completions, and the summary and warnings built from them."""

import pytest

from bridge.bench import results, scoring
from bridge.errors import BridgeError

SCORES = [
    # expected, got, exact, first line, similarity, cut, lines over
    ("return x", "return x", True, True, 1.0, True, 0),
    ("return x", "return x  \n\n", True, True, 1.0, True, 0),  # what trim removes does not count
    ("return x", "return y", False, False, 0.875, True, 0),
    ("return x", "", False, False, 0.0, False, -1),
    ("return x", "@@@@", False, False, 0.0, True, 0),
    ("a = 1\nb = 2", "a = 1", False, True, 0.4545, False, -1),
    ("a = 1", "a = 1\nb = 2\nc = 3", False, True, 0.2941, False, 2),
    ("if x:\n    y()", "if x:\n    z()", False, True, 0.9231, True, 0),
]


@pytest.mark.parametrize("expected, got, exact, first, similar, cut, over", SCORES)
def test_scores(expected, got, exact, first, similar, cut, over):
    assert scoring.score_fim(expected, got) == {"exact": exact, "first_line": first, "similarity": similar, "cut": cut, "lines_over": over}


@pytest.mark.parametrize("a, b, d", [("", "", 0), ("abc", "", 3), ("kitten", "sitting", 3), ("flaw", "lawn", 2), ("é", "e", 1)])
def test_distance(a, b, d):
    assert scoring.distance(a, b) == scoring.distance(b, a) == d


def test_similarity_is_bounded_in_time_on_long_texts():
    assert scoring.similarity("a" * 100_000, "b" * 100_000) == 0.0  # only the first CHECKED_CHARS are compared


@pytest.mark.parametrize("finish, notes, found", [
    ("stop", [], []),
    ("eos", [], []),
    ("length", [], ["output"]),
    ("limit", [], ["output"]),
    ("stop heuristic: max-lines", [], []),  # our own cut is not a truncation
    ("stop", ["the prompt was truncated to 4096 tokens"], ["prompt"]),
    ("length", ["reply truncated by the server"], ["output"]),
])
def test_truncations(finish, notes, found):
    assert scoring.truncations(finish, notes) == found


@pytest.mark.parametrize("usage, timings, tokens", [
    ({"prompt_tokens": 30}, {}, 30),
    ({"input_tokens": 31}, {}, 31),
    ({}, {"prompt_n": 5, "cache_n": 20}, 25),
    ({}, {"prompt_n": 5, "cache_n": "x"}, 5),
    ({"prompt_tokens": True}, {"prompt_n": None}, None),
])
def test_prompt_tokens(usage, timings, tokens):
    assert scoring.prompt_tokens(usage, timings) == tokens


def result(profile, kind="line", **values):
    base = {"profile": profile, "task": f"t{id(values)}", "kind": kind, "exact": False, "first_line": False, "similarity": 0.0,
            "cut": False, "passed": False, "generated": 0, "kept": 0, "ttft_ms": None, "tokens_per_s": None, "context": None,
            "error": None, "truncated": [], "model": None}
    return {**base, **values}


def test_summary_means_medians_and_counts():
    rows = scoring.summarise([
        result("a", exact=True, first_line=True, similarity=1.0, cut=True, generated=10, kept=5, ttft_ms=100, tokens_per_s=20, context=50),
        result("a", similarity=0.5, generated=10, kept=10, ttft_ms=300, tokens_per_s=10, context=70, truncated=["output"]),
        result("a", error="boom"),
        result("a", kind="chat", passed=True, generated=7, kept=7, ttft_ms=200),
        result("b", kind="chat"),
    ], ["a", "b"])
    a, b = rows
    assert (a["tasks"], a["fim"], a["chat"]) == (4, 3, 1)
    assert (a["exact"], a["first_line"], a["similarity"], a["cut"], a["passed"]) == (1 / 3, 1 / 3, 0.5, 1 / 3, 1.0)
    assert (a["generated"], a["kept"], a["kept_share"]) == (20, 15, 0.75)
    assert (a["ttft_ms"], a["tokens_per_s"], a["context"]) == (200, 15, 60)
    assert (a["errors"], a["truncated"]) == (1, 1)
    assert (b["exact"], b["passed"], b["kept_share"], b["ttft_ms"]) == (None, 0.0, None, None)


def test_a_profile_far_below_another_serving_the_same_model_is_flagged():
    rows = scoring.summarise([result("fast", similarity=0.9, model="qwen"), result("slow", similarity=0.5, model="qwen"),
                              result("other", similarity=0.1, model="llama")], ["fast", "slow", "other"])
    assert scoring.flags(rows) == ["slow: similarity 0.50 against 0.90 for fast, which serves the same model (qwen): "
                                   "check its template, quantization, context size and server"]


def test_the_verdict_names_the_best_profile_per_headline_metric():
    from bridge.bench import report

    rows = scoring.summarise([result("a", similarity=0.9, ttft_ms=300), result("b", similarity=0.4, ttft_ms=100),
                              result("c", similarity=0.4)], ["a", "b", "c"])
    assert report.verdict(rows) == ["closest to your code: a (0.90, against 0.40 for b)",
                                    "first token soonest: b (100 ms, against 300 ms for a)"]
    assert report.verdict(rows[:1]) == [] and report.verdict([rows[1], rows[2]]) == []  # one profile, or a tie


def test_a_hand_edited_result_file_cannot_break_a_summary(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"bufbridge_bench": 1, "settings": {}, "profiles": ["a"], "tasks": [{"id": "t", "kind": "line"}],'
                    ' "results": [{"profile": "a", "task": "t", "kind": "line", "similarity": "high", "exact": 1, "generated": null}]}')
    data = results.load(str(path))
    row = scoring.summarise(data["results"], data["profiles"])[0]
    assert (row["similarity"], row["exact"], row["generated"]) == (0.0, 0.0, 0)


@pytest.mark.parametrize("text, message", [
    ("[1, 2", "is not JSON"),
    ('{"bufbridge_bench": 2}', "is not a bufbridge bench result file (format 1)"),
    ("[" * 5000 + "]" * 5000, "is not JSON"),
])
def test_a_bad_result_file_is_one_line(tmp_path, text, message):
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(BridgeError) as caught:
        results.load(str(path))
    assert message in str(caught.value) and "\n" not in str(caught.value)
