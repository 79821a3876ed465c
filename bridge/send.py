"""The only module that talks to the network.

A transport has ``open(request) -> response``; a response has ``status``,
``headers`` (a case-insensitive mapping), ``chunks()`` yielding bytes as
they arrive, ``read_all()`` and ``close()``. ``RequestsTransport`` is the real
one; tests may pass another to ``cli.main``.
"""

import json
import os

from . import __version__, urls, wire
from .errors import ConnectError, HTTPStatusError, StreamError

CONNECT_TIMEOUT = 10
READ_SIZE = 65536
ERROR_BODY_LIMIT = 65536


class RequestsResponse:
    """A streamed ``requests`` response."""

    def __init__(self, response):
        self.response = response
        self.status = response.status_code
        self.headers = response.headers

    def chunks(self):
        """Bytes as soon as they arrive, with or without chunked encoding."""
        raw = self.response.raw
        try:
            while True:
                data = raw.read1(READ_SIZE)
                if not data:
                    return
                yield data
        except Exception as err:  # urllib3/http.client errors mid-body
            reason = err.args[0] if err.args and isinstance(err.args[0], str) else str(err)
            raise StreamError(f"the connection to {self.response.url} broke during the reply: {reason}", hint="the text so far is kept") from None

    def read_all(self, limit=ERROR_BODY_LIMIT):
        data = b""
        for chunk in self.chunks():
            data += chunk
            if len(data) >= limit:
                break
        return data

    def close(self):
        self.response.close()


class RequestsTransport:
    """HTTP through ``requests``, with environment credentials (``.netrc``) ignored."""

    def open(self, request):
        import requests  # deferred: the dry run and errors do not pay for it

        urls.origin(request.url)  # the one reading of the URL (security rule 3), whoever built the request
        session = requests.Session()
        session.trust_env = False  # never send .netrc credentials nobody configured here
        headers = {"user-agent": f"bufbridge/{__version__}", "accept-encoding": "identity"}
        headers.update(dict(request.headers))
        try:
            response = session.post(
                request.url,
                data=request.body.encode("utf-8"),
                headers=headers,
                stream=True,
                allow_redirects=False,  # a redirect would carry the body and credentials elsewhere: see open_reply
                timeout=(CONNECT_TIMEOUT, None),
                proxies=requests.utils.get_environ_proxies(request.url),
                verify=os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or True,
            )
        except requests.exceptions.InvalidURL as err:
            raise ConnectError(f"invalid URL {request.url}: {err}", hint="fix the !api line") from None
        except (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
            raise ConnectError(f"invalid URL {request.url}", hint="the !api URL must start with http:// or https://") from None
        except requests.exceptions.ConnectTimeout:
            raise ConnectError(f"timed out connecting to {request.url}", hint="is the server up and reachable?") from None
        except requests.exceptions.ConnectionError as err:
            raise ConnectError(_connect_message(request.url, err), hint=_connect_hint(request.url)) from None
        return RequestsResponse(response)


def _connect_message(url, err):
    text = str(err)
    if "Connection refused" in text or "Errno 111" in text:
        return f"cannot connect to {url}: connection refused (no server is listening there)"
    if "Name or service not known" in text or "nodename nor servname" in text or "Errno -2" in text or "Errno -3" in text:
        return f"cannot connect to {url}: the host name does not resolve"
    return f"cannot connect to {url}: {text}"


def _connect_hint(url):
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host in ("localhost", "127.0.0.1", "::1", "0.0.0.0"):
        return (
            "start a local server with `bufbridge serve` (or `llama-server -m MODEL.gguf --port PORT`), "
            "or point !api at a running one"
        )
    return "check the !api URL and your network"


def open_reply(transport, request):
    """Send ``request``; return the response when its status is 200, else raise HTTPStatusError."""
    response = transport.open(request)
    if response.status == 200:
        return response
    if 300 <= response.status < 400:
        response.close()
        raise redirect_error(request, response)
    try:
        body = response.read_all()
    finally:
        response.close()
    raise status_error(request, response.status, body)


def redirect_error(request, response):
    """A 3xx is not followed: the body and credentials would go with it, maybe to another origin (security rule 3)."""
    location = " ".join(str(response.headers.get("location") or "").split())[:500]
    where = f"to {location}" if location else "without a location"
    return HTTPStatusError(
        f"HTTP {response.status} from {request.url}: the server redirects {where}, and bufbridge does not follow redirects",
        hint="if you trust the new address, put it in the !api line",
    )


def status_error(request, status, body):
    """An HTTPStatusError quoting the server's own message, with a hint when we know one."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    message = wire.error_message(data) if data is not None else None
    message = " ".join((message or text[:500] or "(empty body)").split())  # one line, as !error requires
    hint = _status_hint(request, status, data)
    return HTTPStatusError(f"HTTP {status} from {request.url}: {message}", hint=hint)


def _status_hint(request, status, data):
    error = data.get("error") if isinstance(data, dict) else None
    error = error if isinstance(error, dict) else {}
    if error.get("type") == "exceed_context_size_error" or "n_ctx" in error:
        n_prompt, n_ctx = error.get("n_prompt_tokens"), error.get("n_ctx")
        sizes = f"the prompt is {n_prompt} tokens but the server's context holds {n_ctx}" if n_prompt and n_ctx else "the prompt does not fit the server's context"
        return f"{sizes}: shorten the buffer (!begin drops earlier text) or restart the server with a larger context (bufbridge serve --ctx-size N, llama-server -c N)"
    if error.get("code") == "context_length_exceeded":
        return "the prompt is longer than the model's context: shorten the buffer (!begin drops earlier text)"
    if status == 501 and request.mode == "infill":
        return "this model has no fill-in-the-middle tokens: use a FIM model (e.g. Qwen2.5-Coder), or name a template with `!profile fim:NAME` to use completions"
    if status in (401, 403):
        return "check the API key the profile sends (see `bufbridge --list-profiles`) and that its environment variable is set"
    if status == 404:
        return "check the !api URL: does the server want a /v1 prefix, or a quoted full URL?"
    return None
