"""One reading of a URL: the origin check agrees with the connection, or the URL is refused."""

import ipaddress
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from bridge import urls
from bridge.errors import BuildError

SAME = [
    ("https://API.openai.com:443/v1", "https://api.openai.com/v1"),
    ("HTTPS://api.openai.com/v1", "https://api.openai.com:443/"),
    ("http://localhost/", "http://LocalHost:80/x"),
    ("http://h:00080/", "http://h/"),
    ("http://[::1]:8080/", "http://[0:0:0:0:0:0:0:1]:8080/v1"),
    ("http://[::FFFF:7F00:1]/", "http://[::ffff:127.0.0.1]/"),
]
DIFFERENT = [
    ("https://api.openai.com/v1", "http://api.openai.com/v1"),  # scheme
    ("https://api.openai.com/v1", "https://api.openai.com:8443/v1"),  # port
    ("http://localhost:8080/", "http://127.0.0.1:8080/"),  # two names for one socket are two origins
    ("https://api.openai.com/v1", "https://api.openai.com./v1"),  # a trailing dot is another name
    ("http://b#@a/", "http://a/"),  # the part after # is a fragment for every parser
]
REFUSED = [
    ("http://127.0.0.1:1\\@127.0.0.1:2/", "backslash"),
    ("http://a/\\", "backslash"),
    ("http://a b/", "a space"),
    ("http://a\tb/", "a tab"),
    ("http://a/\x00", "U+0000"),
    ("http://a/\u3000", "U+3000"),
    ("http://u@a/", "userinfo"),
    ("http://u:p@a/", "userinfo"),
    ("http://@a/", "userinfo"),
    ("http://a;@b/", "userinfo"),
    ("http://a%40b/", "percent-encoding"),
    ("http://a%2eb/", "percent-encoding"),
    ("http://ex\uff03ample/", "non-ASCII"),
    ("http://b\u00fccher.example/", "non-ASCII"),
    ("http://a:99999/", "invalid port"),
    ("http://a:0/", "invalid port"),
    ("http://a:/", "invalid port"),
    ("http://a:8o/", "invalid port"),
    ("http://a:1:2/", "invalid port"),
    ("p://[", "scheme"),
    ("ftp://a/", "scheme"),
    ("http://[", "[ with no ]"),
    ("http://[::1/", "[ with no ]"),
    ("http://[::g]/", "invalid IPv6"),
    ("http://[1.2.3.4]/", "invalid IPv6"),
    ("http://[::1]x/", "after the IPv6 address"),
    ("http://::1/", "brackets"),
    ("http:///v1", "no host"),
    ("http:a/", "not an http:// or https:// URL"),
    ("a/", "not an http:// or https:// URL"),
    ("http://.a/", "invalid host"),
    ("http://a..b/", "invalid host"),
    ("http://a]/", "invalid host"),
]


@pytest.mark.parametrize("one, other", SAME)
def test_same_origin(one, other):
    assert urls.origin(one) == urls.origin(other)


@pytest.mark.parametrize("one, other", DIFFERENT)
def test_different_origin(one, other):
    assert urls.origin(one) != urls.origin(other)


def test_origin_is_shown_with_its_port():
    assert str(urls.origin("https://API.openai.com/v1")) == "https://api.openai.com:443"
    assert str(urls.origin("http://[0::1]:8080/")) == "http://[::1]:8080"


@pytest.mark.parametrize("url, says", REFUSED)
def test_refused_with_one_line_naming_the_url(url, says):
    with pytest.raises(BuildError) as caught:
        urls.origin(url)
    line = str(caught.value)
    assert says in line and url in line and "\n" not in line.replace(url, "")


def connects_to(url):
    """Where requests really connects: the URL it prepares, read by the parser its connection pool uses."""
    prepared = requests.Request("POST", url).prepare().url
    found = parse_url(prepared)
    return found.scheme, found.host, found.port or urls.DEFAULT_PORTS[found.scheme]


AUTHORITY_PIECES = st.sampled_from([
    "a", "b", "A", "127.0.0.1", "1", ":", "@", "\\", "/", "?", "#", ";", "%", "%40", "%5c", "[", "]", "::1", " ",
    "\t", ".", "-", "_", "\uff03", "\uff3c", "\u00e9", "80", "443", "99999", "0", "\x00", "\r", "\n",
])


@settings(max_examples=800, deadline=None)
@given(scheme=st.sampled_from(["http", "https", "HTTP", "p"]), pieces=st.lists(AUTHORITY_PIECES, max_size=8),
       path=st.sampled_from(["", "/", "/v1", "/v1/chat/completions", "/?q=1", "/#f"]))
def test_every_accepted_url_has_one_reading(scheme, pieces, path):
    url = f"{scheme}://{''.join(pieces)}{path}"
    try:
        found = urls.origin(url)
    except BuildError as err:
        assert "\n" not in str(err).replace(url, "")
        return
    expected = (found.scheme, canonical(found.host), found.port)
    scheme, host, port = connects_to(url)
    assert (scheme, canonical(host), port) == expected
    split = urlsplit(url)
    assert (split.scheme.lower(), canonical(split.hostname), split.port or urls.DEFAULT_PORTS[found.scheme]) == expected


def canonical(host):
    """A host as text to compare: lowercase, an IPv6 address without brackets, compressed."""
    host = (host or "").strip("[]").lower()
    try:
        return ipaddress.IPv6Address(host).compressed
    except ValueError:
        return host
