"""Fixtures for the FIM tests, and the corpus score in the pytest summary."""

import sys

import pytest


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """Loopback requests never go through a proxy from the environment."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")


def pytest_terminal_summary(terminalreporter):
    replay = sys.modules.get("fimreplay")
    if replay is not None and replay.RESULTS:
        exact = sum(replay.RESULTS.values())
        terminalreporter.write_line(f"fim stop corpus: {exact}/{len(replay.RESULTS)} cuts exact")
