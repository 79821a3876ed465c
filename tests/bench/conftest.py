"""Loopback requests in the bench tests never go through a proxy from the environment."""

import pytest


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """Loopback requests never go through a proxy from the environment."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
