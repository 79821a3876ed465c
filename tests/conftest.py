"""Shared fixtures. Every test runs with its own configuration folder and no profile from the caller's environment."""

import pytest

ISOLATED = ("BUFBRIDGE_PROFILE", "ILLUME_PROFILE", "BUFBRIDGE_DEBUG", "BUFBRIDGE_CONFIG_DIR")


@pytest.fixture(autouse=True)
def isolated_config(tmp_path, monkeypatch):
    """A fresh BUFBRIDGE_CONFIG_DIR per test; returns its path."""
    for name in ISOLATED:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.mkdir()
    monkeypatch.setenv("BUFBRIDGE_CONFIG_DIR", str(config))
    return config
