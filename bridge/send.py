"""The only module that talks to the network.

A transport has ``open(request) -> response``; a response has ``status``,
``headers`` (a case-insensitive mapping), ``chunks()`` yielding bytes as
they arrive, ``read_all()`` and ``close(complete=False)``. ``RequestsTransport``
is the real one; tests may pass another to ``cli.main``.

Connections. A process that sends many requests (the editor host) calls
``keep_connections()`` once; from then on a reply that ended as the server
meant it (``close(complete=True)``) leaves its connection open for the next
request to the same origin, which saves a TCP and TLS handshake per request.
Every other end — an error, a cancel, a completion the stop heuristics cut —
closes the connection, since closing it is what stops the server generating.

Two things bound how long a reply may take. The idle timeout: when no byte
arrives for ``timeout`` seconds (before the status line, or between two reads
of the body) the request fails with a message saying how to raise the limit.
And a ``Cancel``: the reader of our output going away shuts the connection
down at once, whatever the server is doing, which stops generation there.
"""

import functools
import os
import socket
import threading

from . import __version__, jsonsafe, urls, wire
from .errors import ConnectError, HTTPStatusError, StreamError
from .output import Closed

CONNECT_TIMEOUT = 10
DRAIN_SECONDS = 2.0  # a finished reply's end of body (the chunked terminator) must arrive within this to keep its connection
DRAIN_LIMIT = 65536  # ... and be no longer than this
IDLE_TIMEOUT = 600  # seconds without a byte; see the README ("Timeouts") for the measurement behind it
READ_SIZE = 65536
ERROR_BODY_LIMIT = 65536
TIMEOUT_HINT = "raise the limit with --timeout SECONDS or `timeout = SECONDS` in config.toml"


class Cancel:
    """Shuts down the connections of one request, from any thread; ``fired`` says it happened."""

    def __init__(self):
        self.fired = False
        self._lock = threading.Lock()
        self._sockets = []

    def attach(self, sock):
        """Watch ``sock`` (a connection being opened); shut it at once if the cancel came first."""
        with self._lock:
            self._sockets.append(sock)
            if self.fired:
                _shut(sock)

    def fire(self):
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)

    def release(self):
        """Forget the sockets: their connection goes back to the pool, where another request may take it."""
        with self._lock:
            self._sockets.clear()


def _shut(sock):
    """Shut down the TCP connection under ``sock`` (TLS or not), without touching the object another thread reads from."""
    try:
        dup = socket.fromfd(sock.fileno(), socket.AF_INET, socket.SOCK_STREAM)  # family and type do not matter for shutdown
    except OSError:
        return  # already closed
    try:
        dup.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        dup.close()


def _timeout_message(url, timeout, during):
    return f"no data from {url} for {timeout:g} s {during} (the idle timeout)"


class RequestsResponse:
    """A streamed ``requests`` response."""

    def __init__(self, response, timeout=None, cancel=None):
        self.response = response
        self.status = response.status_code
        self.headers = response.headers
        self.timeout = timeout
        self.cancel = cancel

    def chunks(self):
        """Bytes as soon as they arrive, with or without chunked encoding."""
        raw = self.response.raw
        try:
            while True:
                data = raw.read1(READ_SIZE)
                if not data:
                    break
                yield data
        except Exception as err:  # urllib3/http.client errors mid-body
            if self.cancel is not None and self.cancel.fired:
                raise Closed() from None
            if _timed_out(err):
                raise StreamError(_timeout_message(self.response.url, self.timeout, "during the reply"),
                                  hint=f"the text so far is kept; {TIMEOUT_HINT}") from None
            reason = err.args[0] if err.args and isinstance(err.args[0], str) else str(err)
            raise StreamError(f"the connection to {self.response.url} broke during the reply: {reason}", hint="the text so far is kept") from None
        if self.cancel is not None and self.cancel.fired:
            raise Closed()

    def read_all(self, limit=ERROR_BODY_LIMIT):
        data = b""
        for chunk in self.chunks():
            data += chunk
            if len(data) >= limit:
                break
        return data

    def close(self, complete=False):
        """Close the connection, or, when the reply is ``complete`` and connections are kept, return it to the pool."""
        if complete and _keeping and not (self.cancel is not None and self.cancel.fired):
            if self.cancel is not None:
                self.cancel.release()  # from now on the connection is the pool's, not this request's
            _drainer.put(self.response)
        else:
            self.response.close()


class RequestsTransport:
    """HTTP through ``requests``, with environment credentials (``.netrc``) ignored.

    ``timeout``: the idle timeout in seconds (None: wait forever). ``cancel``:
    a ``Cancel`` that may shut the connection down from another thread.
    """

    def __init__(self, timeout=IDLE_TIMEOUT, cancel=None):
        self.timeout = timeout
        self.cancel = cancel

    def open(self, request):
        import requests  # deferred: the dry run and errors do not pay for it

        origin = urls.origin(request.url)  # the one reading of the URL (security rule 3), whoever built the request
        headers = requests.structures.CaseInsensitiveDict(requests.utils.default_headers())
        headers.update({"user-agent": f"bufbridge/{__version__}", "accept-encoding": "identity"})
        headers.update(dict(request.headers))
        try:
            # No Session: no cookies kept between requests, no .netrc credentials nobody configured
            # here, and no redirect is followed (it would carry the body and credentials elsewhere:
            # see open_reply).
            prepared = requests.Request("POST", request.url, headers=headers, data=request.body.encode("utf-8")).prepare()
            response = self._send(prepared, origin)
        except requests.exceptions.InvalidURL as err:
            raise ConnectError(f"invalid URL {request.url}: {err}", hint="fix the !api line") from None
        except (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
            raise ConnectError(f"invalid URL {request.url}", hint="the !api URL must start with http:// or https://") from None
        except requests.exceptions.ConnectTimeout:
            raise ConnectError(f"timed out connecting to {request.url}", hint="is the server up and reachable?") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as err:
            if self.cancel is not None and self.cancel.fired:
                raise Closed() from None
            if isinstance(err, requests.exceptions.Timeout) or _timed_out(err):
                raise StreamError(_timeout_message(request.url, self.timeout, "after sending the request"),
                                  hint=f"the server accepted it but has not answered; {TIMEOUT_HINT}") from None
            message, hint = _connect_failure(request.url, err)
            raise ConnectError(message, hint=hint) from None
        _check_encoding(request.url, response)
        return RequestsResponse(response, self.timeout, self.cancel)

    def _send(self, prepared, origin):
        """Send through the shared pool; a kept connection the server had closed meanwhile is retried on a new one."""
        import requests

        adapter = _adapter()
        settings = {
            "stream": True,
            "timeout": (CONNECT_TIMEOUT, self.timeout),
            "proxies": _proxies(origin),
            "verify": os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or True,
        }
        for attempt in range(1 + _STALE_RETRIES):
            _opening.cancel, _opening.reused = self.cancel, False
            try:
                return adapter.send(prepared, **settings)
            except requests.exceptions.ConnectionError as err:
                # A server may close an idle kept connection just as a request goes out on it; the
                # request never reached it (no byte came back), so it is sent again on a new one.
                if not (_opening.reused and _stale(err)) or attempt == _STALE_RETRIES or (self.cancel and self.cancel.fired):
                    raise
            finally:
                _opening.cancel = None


# The variables urllib (and so requests) reads proxies from for http and https; lower case wins.
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def _proxies(origin):
    """requests' proxies for a URL of ``origin`` (a ``urls.Origin``), looked up once per origin and proxy setting.

    requests walks the whole environment (twice) for every request; the editor
    host sends many small requests with an environment that does not change.
    """
    setting = tuple(os.environ.get(name) or os.environ.get(name.upper()) for name in _PROXY_VARIABLES)
    return dict(_proxies_for(f"{origin}/", setting, "REQUEST_METHOD" in os.environ))


@functools.lru_cache(maxsize=256)
def _proxies_for(origin, setting, cgi):
    """What requests reads from the environment for ``origin``; ``setting`` and ``cgi`` are only the cache key."""
    import requests

    return tuple(requests.utils.get_environ_proxies(origin).items())


_keeping = False  # set by keep_connections()
_opening = threading.local()  # the Cancel of the request this thread is sending, and whether its connection was kept
_STALE_RETRIES = 3
_shared = None
_shared_lock = threading.Lock()


def keep_connections():
    """Keep connections open between requests in this process (see the module's docstring)."""
    global _keeping
    _keeping = True


def _adapter():
    """The process's one ``requests`` adapter: a pool of connections per origin (and per proxy)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = _cancellable_adapter()
        return _shared


def _attach(sock):
    """Attach ``sock`` to the Cancel of the request this thread is sending, if any."""
    cancel = getattr(_opening, "cancel", None)
    if cancel is not None:
        cancel.attach(sock)


def _stale(err):
    """The server closed the connection before answering at all (no status line)."""
    import http.client

    return any(isinstance(e, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)) for e in _causes(err))


def _cancellable_adapter():
    """A ``requests`` adapter whose every connection (direct or through an HTTP proxy) is attached to the Cancel
    of the request using it: a new one when its socket is made, a kept one when a request takes it from the pool."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    def attached(connection_class):
        class Attached(connection_class):
            def _new_conn(self):  # the TCP socket, before any TLS or proxy tunnel is set up on it
                sock = super()._new_conn()
                _attach(sock)
                return sock

        return Attached

    def pool(pool_class, connection_class):
        class Pool(pool_class):
            ConnectionCls = attached(connection_class)

            def _get_conn(self, timeout=None):
                conn = super()._get_conn(timeout)
                if conn is not None and conn.sock is not None:  # kept from an earlier request, still open
                    _opening.reused = True
                    _attach(conn.sock)
                return conn

        return Pool

    pools = {"http": pool(HTTPConnectionPool, HTTPConnection), "https": pool(HTTPSConnectionPool, HTTPSConnection)}

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy, **kwargs):
            manager = super().proxy_manager_for(proxy, **kwargs)
            if not proxy.lower().startswith("socks"):  # SOCKS pools have their own connection classes
                manager.pool_classes_by_scheme = pools
            return manager

    return Adapter()


class _Drainer:
    """Reads the end of finished replies on a thread of its own, so that nobody waits for it.

    A stream ends at its end-of-stream event (``[DONE]``, ``message_stop``);
    the body's own end (the chunked terminator) follows. Once it is read,
    urllib3 returns the connection to its pool. A body that does not end
    within DRAIN_SECONDS and DRAIN_LIMIT bytes is closed instead.
    """

    def __init__(self):
        self._queue = None
        self._lock = threading.Lock()

    def put(self, response):
        import queue

        with self._lock:
            if self._queue is None:
                self._queue = queue.SimpleQueue()
                threading.Thread(target=self._run, name="bufbridge-drain", daemon=True).start()
        self._queue.put(response)

    def _run(self):
        while True:
            _drain(self._queue.get())


def _drain(response):
    raw = response.raw
    try:
        connection = getattr(raw, "_connection", None)
        if connection is not None and connection.sock is not None:
            connection.sock.settimeout(DRAIN_SECONDS)  # the next request sets its own
        read = 0
        while read <= DRAIN_LIMIT:
            data = raw.read1(READ_SIZE)
            if not data:
                return  # the body ended: urllib3 has put the connection back in its pool
            read += len(data)
    except Exception:  # noqa: BLE001 - a connection that fails here is simply not kept
        pass
    response.close()


_drainer = _Drainer()


def _check_encoding(url, response):
    """A 200 reply compressed although we asked for none cannot be framed: say so instead of "it ended early"."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if response.status_code == 200 and encoding not in ("", "identity"):
        response.close()
        raise StreamError(
            f"the reply from {url} is compressed (content-encoding: {encoding[:40]}) although bufbridge asked for "
            "an uncompressed one (accept-encoding: identity)",
            hint="configure the server or the proxy in front of it to honour accept-encoding",
        )


def _causes(err):
    """``err`` and every exception it wraps (urllib3 keeps them in ``reason`` and ``args``)."""
    seen, todo = set(), [err]
    while todo:
        item = todo.pop(0)
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        wrapped = [getattr(item, "reason", None), item.__cause__, item.__context__, *item.args]
        todo.extend(e for e in wrapped if isinstance(e, BaseException))


def _timed_out(err):
    from urllib3.exceptions import ReadTimeoutError

    return any(isinstance(e, (TimeoutError, socket.timeout, ReadTimeoutError)) for e in _causes(err))


def _connect_failure(url, err):
    """(message, hint=...) for a request that got no HTTP reply: what happened, from the exception it wraps."""
    import http.client
    import ssl

    for cause in _causes(err):
        if isinstance(cause, ConnectionRefusedError):
            return f"cannot connect to {url}: connection refused (no server is listening there)", _start_hint(url)
        if isinstance(cause, socket.gaierror):
            return f"cannot connect to {url}: the host name does not resolve", _start_hint(url)
        if isinstance(cause, http.client.RemoteDisconnected):
            return (f"the server at {url} accepted the connection, then closed it without answering",
                    "is it an HTTP server, and what does its log say? (an https:// server needs an https:// !api URL)")
        if isinstance(cause, http.client.BadStatusLine):
            line = str(cause.args[0] if cause.args else cause)[:80]
            return (f"the server at {url} did not answer in HTTP (its first line: {line!r})",
                    "is !api pointing at an HTTP server? (an https:// server needs an https:// !api URL)")
        if isinstance(cause, http.client.HTTPException):
            return f"the server at {url} sent a reply that is not valid HTTP: {cause}", "check the server and any proxy in front of it"
        if isinstance(cause, ConnectionResetError):
            return f"the server at {url} reset the connection before answering", "what does its log say?"
        if isinstance(cause, ssl.SSLError):
            return (f"the TLS connection to {url} failed: {cause.reason or cause}",
                    "for a plain-HTTP server use an http:// !api URL")
    return f"cannot connect to {url}: {err}", _start_hint(url)


def _start_hint(url):
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
        data = jsonsafe.loads(text, surrogates=True)
    except jsonsafe.JSONError:  # not JSON, or beyond our limits: quoted as text
        data = None
    message = wire.error_message(data) if data is not None else None
    message = " ".join((message or text[:500] or "(empty body)").split())  # one line, as !error requires
    hint = _status_hint(request, status, data)
    return HTTPStatusError(f"HTTP {status} from {request.url}: {message}", hint=hint)


def _shorten(request):
    if request.source_file:
        return "send less of the file and its context with --ctx-tokens N and --extra-tokens N (in the editor: g:bufbridge_infill_args)"
    return "shorten the buffer (!begin drops earlier text)"


def _status_hint(request, status, data):
    error = data.get("error") if isinstance(data, dict) else None
    error = error if isinstance(error, dict) else {}
    if error.get("type") == "exceed_context_size_error" or "n_ctx" in error:
        n_prompt, n_ctx = error.get("n_prompt_tokens"), error.get("n_ctx")
        sizes = f"the prompt is {n_prompt} tokens but the server's context holds {n_ctx}" if n_prompt and n_ctx else "the prompt does not fit the server's context"
        return f"{sizes}: {_shorten(request)} or restart the server with a larger context (bufbridge serve --ctx-size N, llama-server -c N)"
    if error.get("code") == "context_length_exceeded":
        return f"the prompt is longer than the model's context: {_shorten(request)}"
    if status == 501 and request.mode == "infill":
        if request.source_file:  # no directive works in a source file: say the option that does
            return ("this model has no fill-in-the-middle tokens: use a FIM model (e.g. Qwen2.5-Coder), or a template with "
                    "--fim NAME (in the editor: let g:bufbridge_infill_args = ['--fim', 'qwen'])")
        return "this model has no fill-in-the-middle tokens: use a FIM model (e.g. Qwen2.5-Coder), or name a template with `!profile fim:NAME` to use completions"
    if status in (401, 403):
        return "check the API key the profile sends (see `bufbridge --list-profiles`) and that its environment variable is set"
    if status == 404:
        return "check the !api URL: does the server want a /v1 prefix, or a quoted full URL?"
    return None
