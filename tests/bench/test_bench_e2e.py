"""``bufbridge bench`` end to end: the real llama-server with the bundled model, two profiles that differ in their FIM template.

The bundled SmolLM2-135M was not trained for fill-in-the-middle, so the
scores are low and not asserted; what is checked is that every request went
through the cursor-infill path to the real server and came back measured.
"""

import json
import os

import pytest

from benchkit import REPO, Bench
from e2e.support import start_server

pytestmark = pytest.mark.e2e

LIMITS = "--ctx-tokens 256 --max-ms 4000"  # a small prompt and a time budget: the test stays short on a busy machine


@pytest.fixture(scope="module")
def llama():
    server = start_server(port=0, ctx_size=2048)
    try:
        yield server
    finally:
        server.stop()


def test_two_templates_on_the_bundled_model(llama, isolated_config, tmp_path):
    (isolated_config / "profiles").mkdir()
    (isolated_config / "profiles" / "smol.profile").write_text(f"{llama.api_line}\n!:temperature 0\n!:max_tokens 6\n")
    labels = [f"smol --fim qwen {LIMITS}", f"smol --fim codellama {LIMITS}"]
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    run = Bench(["-p", labels[0], "-p", labels[1], "-n", "1", "--kinds", "line-end", "-o", str(out), "--html", str(page), str(REPO)],
                env={**os.environ, "NO_PROXY": "*"})
    assert run.status == 0, run.err
    data = json.loads(out.read_text())
    assert [t["kind"] for t in data["tasks"]] == ["line-end"]
    assert len(data["results"]) == 2
    for r in data["results"]:
        assert r["error"] is None, r["error"]
        assert r["generated"] >= 1 and 0 <= r["kept"] <= r["generated"]
        assert r["ttft_ms"] > 0 and 0.0 <= r["similarity"] <= 1.0
        assert r["context"] > 0
    prompts = {r["profile"]: r["context"] for r in data["results"]}
    assert set(prompts) == set(labels)
    table = run.out.splitlines()
    for label in labels:
        assert any(line.split()[:3] == label.split()[:3] for line in table), run.out
    assert page.read_text().count("<svg") >= 5
