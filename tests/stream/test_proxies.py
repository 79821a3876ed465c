"""Proxies come from the environment as requests reads them, looked up once per origin and setting."""

import pytest

from bridge import send, urls

PROXY_VARIABLES = [name for base in send._PROXY_VARIABLES for name in (base, base.upper())]


@pytest.fixture
def no_proxies(monkeypatch):
    for name in PROXY_VARIABLES + ["REQUEST_METHOD"]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("env, url, expected", [
    ({}, "http://api.example/v1", {}),
    ({"http_proxy": "http://proxy:3128"}, "http://api.example/v1", {"http": "http://proxy:3128"}),
    ({"HTTPS_PROXY": "http://proxy:3128"}, "https://api.example/v1", {"https": "http://proxy:3128"}),
    ({"http_proxy": "http://proxy:3128", "no_proxy": "api.example"}, "http://api.example/v1", {}),
    ({"http_proxy": "http://proxy:3128", "NO_PROXY": "*"}, "http://api.example/v1", {}),
])
def test_proxies_are_what_requests_would_use(no_proxies, env, url, expected):
    for name, value in env.items():
        no_proxies.setenv(name, value)
    found = send._proxies(urls.origin(url))
    assert {k: v for k, v in found.items() if k in ("http", "https")} == expected


def test_a_changed_setting_is_seen_at_once(no_proxies):
    origin = urls.origin("http://api.example/v1")
    assert "http" not in send._proxies(origin)
    no_proxies.setenv("http_proxy", "http://proxy:3128")
    assert send._proxies(origin)["http"] == "http://proxy:3128"
    no_proxies.setenv("no_proxy", "api.example")
    assert "http" not in send._proxies(origin)
