"""Every option of ``bufbridge bench`` is in the README's bench table and so in ``:help bufbridge-bench``."""

import re
from pathlib import Path

import pytest

from bridge.bench.main import parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Which profile serves you better: `bufbridge bench`"):README.index("## Performance")]
HELP = (ROOT / "doc" / "bufbridge.txt").read_text(encoding="utf-8")
REFERENCE = HELP[HELP.index("*bufbridge-bench*"):HELP.index("\nABOUT ")]


@pytest.mark.parametrize("option", sorted({o for a in parser()._actions for o in a.option_strings if o != "--help" and o != "-h"}))
def test_every_bench_option_is_documented(option):
    assert re.search(rf"`{re.escape(option)}\b", SECTION), f"{option} is not in the README's bench section"
    assert re.search(rf"`{re.escape(option)}\b", REFERENCE), f"{option} is not in :help bufbridge-bench"
