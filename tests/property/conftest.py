"""The sandbox of the property tests (their budget is in ``budget.py``)."""

import pytest

import budget  # noqa: F401  (registers and loads the Hypothesis profile before any test is collected)
import hostile


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """A folder with the files cases name, as the current folder; yields the environment for ``cli.main``."""
    root = tmp_path_factory.mktemp("sandbox")
    env = hostile.environment(hostile.sandbox(root))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy", "BUFBRIDGE_DEBUG"):
            patch.delenv(name, raising=False)
        patch.setenv("NO_PROXY", "*")
        yield env
