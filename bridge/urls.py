"""One reading of a URL, for the origin check and the connection alike (security rule 3).

requests hands a URL to urllib3, and urllib3 decides where to connect with
``urllib3.util.parse_url``. The origin a credential is compared with is
computed here by that same function. A URL that another common parser
(``urllib.parse``, a browser) would read differently is refused instead of
guessed at: a backslash, whitespace or a control character anywhere in it;
userinfo (``user@``); percent-encoding or a non-ASCII character in the host;
a port outside 1-65535. What is left has one reading, so the check and the
connection cannot disagree; ``origin`` confirms it with both parsers.
"""

import functools
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import BuildError

DEFAULT_PORTS = {"http": 80, "https": 443}
_SHAPE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)(.*)")
_HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?")
_PORT = re.compile(r"[0-9]{1,5}")
_ANYWHERE = re.compile(r"[\x00-\x20\x7f-\x9f\\\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]")
_NAMES = {"\\": "a backslash", " ": "a space", "\t": "a tab", "\n": "a line break", "\r": "a carriage return"}


@dataclass(frozen=True)
class Origin:
    """Where a request goes: scheme, host (lowercase; an IPv6 address in brackets, compressed) and port."""

    scheme: str
    host: str
    port: int

    def __str__(self):
        return f"{self.scheme}://{self.host}:{self.port}"


@functools.lru_cache(maxsize=256)
def origin(url):
    """The Origin the HTTP stack connects to for ``url``; BuildError naming the URL if it is refused.

    A function of the string alone, so the editor host, which sends many
    requests to the same few URLs, reads each once (a refusal is not kept).
    """
    _refuse_anywhere(url)
    shape = _SHAPE.fullmatch(url)
    if not shape:
        raise _refused(url, "is not an http:// or https:// URL with a host", "write it as http://HOST:PORT/PATH")
    scheme, authority = shape.group(1).lower(), shape.group(2)
    if scheme not in DEFAULT_PORTS:
        raise _refused(url, f"has the scheme {shape.group(1)}:", "only http:// and https:// are supported")
    host, port = _authority(url, authority)
    found = Origin(scheme, host, port or DEFAULT_PORTS[scheme])
    _confirm(url, found)
    return found


def is_literal(api):
    """A ``!api`` URL in double quotes is used literally: no ``{key}``, no endpoint appended."""
    return len(api) > 2 and api.startswith('"') and api.endswith('"')


def _refuse_anywhere(url):
    bad = _ANYWHERE.search(url)
    if bad:
        char = bad.group()
        what = _NAMES.get(char) or f"a control or space character (U+{ord(char):04X})"
        raise _refused(url, f"has {what}, which URL parsers read differently", "remove it, or percent-encode it in the path (%20, %5C)")


def _authority(url, authority):
    """(host, port or None) of the part between ``//`` and the path."""
    if not authority:
        raise _refused(url, "has no host", "write it as http://HOST:PORT/PATH")
    if "@" in authority:
        raise _refused(url, "has userinfo (text and @ before the host), which parsers split differently", "remove it: a key goes in a header set by a profile")
    if "%" in authority:
        raise _refused(url, "has percent-encoding in its host", "write the host as plain letters, digits, - and .")
    if not authority.isascii():
        raise _refused(url, "has a non-ASCII character in its host", "write the host in ASCII (an international name as xn--...)")
    if authority.startswith("["):
        host, rest = _ipv6(url, authority)
    else:
        host, colon, port = authority.partition(":")
        rest = colon + port
        if not _HOST_NAME.fullmatch(host):
            hint = "an IPv6 address goes in brackets: http://[::1]:8080/" if ":" in port else "a host is letters, digits, -, _ and ."
            raise _refused(url, f"has an invalid host {authority}", hint)
    if not rest:
        return host.lower(), None
    port = rest[1:]
    if not rest.startswith(":") or not _PORT.fullmatch(port) or not 1 <= int(port) <= 65535:
        raise _refused(url, f"has an invalid port {rest}", "a port is a number from 1 to 65535, after the host and one colon")
    return host.lower(), int(port)


def _ipv6(url, authority):
    close = authority.find("]")
    if close < 0:
        raise _refused(url, "has a [ with no ] in its host", "write an IPv6 address as http://[::1]:8080/")
    try:
        address = ipaddress.IPv6Address(authority[1:close])
    except ValueError:
        raise _refused(url, f"has an invalid IPv6 address {authority[: close + 1]}", "write it as http://[::1]:8080/") from None
    rest = authority[close + 1:]
    if rest and not rest.startswith(":"):
        raise _refused(url, f"has {rest} after the IPv6 address {authority[: close + 1]}", "write it as http://[::1]:8080/")
    return f"[{address.compressed}]", rest


def _confirm(url, found):
    """The HTTP stack's parser and urllib.parse must both agree with ``found``; a safety net behind the rules above."""
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    try:
        stack, other = parse_url(url), urlsplit(url)
        readings = {
            (stack.scheme, _canonical(stack.host), stack.port or DEFAULT_PORTS.get(stack.scheme or ""), stack.auth),
            (other.scheme.lower(), _canonical(other.hostname and (f"[{other.hostname}]" if ":" in other.hostname else other.hostname)),
             other.port or DEFAULT_PORTS.get(other.scheme.lower()), other.username),
        }
    except (LocationParseError, ValueError):
        readings = set()
    if readings != {(found.scheme, found.host, found.port, None)}:
        raise _refused(url, "is read differently by URL parsers", "write it as http://HOST:PORT/PATH")


def _canonical(host):
    if host and host.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            return host
    return host.lower() if host else host


def _refused(url, why, hint):
    return BuildError(f"the URL {url} {why}", hint=hint)
