"""A real, scriptable HTTP/1.1 server on 127.0.0.1 for loopback tests and benchmarks.

Usage::

    import fakeserver as fs

    with fs.FakeServer(fs.Reply(fs.openai_chat_stream(["Hel", "lo"]))) as server:
        server.url                       # "http://127.0.0.1:PORT" (random free port)
        ...run bufbridge with "!api " + server.url + "/v1" ...
        got = server.requests[0]         # a Received
        got.method, got.path, got.header("content-type"), got.json, got.body
        got.disconnected                 # the client closed before the reply was complete

The server answers every request with a ``Reply``, chosen in this order:
``handler(received)`` if given, else ``routes[path]`` (path without the
query string), else ``reply``, else a 404 with an OpenAI-style error JSON.
``server.reply``/``server.routes``/``server.handler`` may be changed between
requests. Every request is recorded in ``server.requests`` (in arrival
order) before its reply starts; ``server.wait_for_request()`` waits for one.

A ``Reply`` is a status, headers and a *script*: a list whose items are

* ``bytes`` (or ``str``, UTF-8 encoded): sent as one network write
  (one chunk with ``framing="chunked"``);
* ``Pause(seconds)``: wait (stops early if the client disconnects);
* ``Gate()``: wait until the test calls ``gate.open()``; ``gate.reached``
  is a ``threading.Event`` set when the server gets there, so a test can
  prove a token reached the client *while the stream is still open*;
* ``HOLD``: keep the connection open until the client closes it;
* ``CUT``: close the connection at once without ending the body properly
  (no terminating chunk; fewer bytes than Content-Length).

``Reply(status=None)`` hangs up without answering at all.

``framing`` says how the body is delimited:

* ``"chunked"`` (default): ``Transfer-Encoding: chunked``;
* ``"close"``: no Content-Length, no chunking; the body ends when the
  server closes the connection (HTTP/1.0 style, as some proxies do);
* ``"length"``: ``Content-Length`` computed from the bytes in the script.

``FakeServer(keep_alive=True)`` serves one request after another on each
connection (``Connection: keep-alive``) instead of closing it after each
reply; ``received.connection`` numbers the connection a request came on
(1, 2, ... in the order they were accepted), so a test can see reuse.

Every wait has a time limit (``FakeServer(timeout=10)``), so a test that
forgets to open a gate fails instead of hanging. Leaving the ``with`` block
(or calling ``close()``) releases every wait, closes every connection and
joins every thread; a server-side exception (a bug in a handler) is then
re-raised in the test.

A client going away is recorded: ``received.disconnected`` is True when
the client closed the connection before the script was finished, and
``server.wait_for_disconnect(timeout)`` waits for the first such event.

Reply builders return script lists (bytes chunks) that can be spliced::

    openai_chat_stream(["Hel", "lo"], reasoning=["hmm"])   # chat.completion.chunk events + [DONE]
    openai_completions_stream(["a", "b"])                  # text_completion events + [DONE]
    llama_stream(["a", "b"], timings={...})                # llama.cpp /completion, /infill
    anthropic_stream(["a", "b"], thinking=["hmm"])         # named Messages events
    sse({"any": "json"}, event="name")                     # one SSE event, as bytes
    json_reply(400, {"error": {...}})                      # a Reply with a JSON body
    text_reply(500, "oops")                                # a Reply with a text/plain body

``closed_port()`` returns a loopback port nothing listens on (for
"connection refused" tests).
"""

import json
import os
import select
import socket
import threading
import time
from dataclasses import dataclass, field

__all__ = [
    "CUT", "HOLD", "FakeServer", "Gate", "Pause", "Received", "Reply",
    "anthropic_stream", "closed_port", "json_reply", "llama_stream",
    "openai_chat_stream", "openai_completions_stream", "sse", "text_reply",
]

REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable",
}


# --- script items -----------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    """Wait ``seconds`` before the next item."""

    seconds: float


class Gate:
    """Wait until the test calls ``open()``. ``reached`` is set when the server arrives here."""

    def __init__(self):
        self.reached = threading.Event()
        self.opened = threading.Event()

    def open(self):
        self.opened.set()

    def wait_reached(self, timeout=10):
        """Wait until the server is waiting at this gate; True when it is."""
        return self.reached.wait(timeout)


class _Marker:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


HOLD = _Marker("HOLD")  # keep the connection open until the client closes it
CUT = _Marker("CUT")  # drop the connection now, leaving the body incomplete


@dataclass
class Reply:
    """What the server sends: status, headers, a script of items, and how the body is framed."""

    script: list = field(default_factory=list)
    status: int | None = 200  # None: close the connection without sending anything
    headers: dict = field(default_factory=lambda: {"Content-Type": "text/event-stream"})
    framing: str = "chunked"  # "chunked", "close" or "length"

    def __post_init__(self):
        if self.framing not in ("chunked", "close", "length"):
            raise ValueError(f"unknown framing {self.framing!r}")
        self.script = list(self.script)


@dataclass
class Received:
    """One request as the server received it."""

    method: str
    target: str  # the request target as sent, with any query string
    version: str
    headers: list  # [(name, value)] in the order sent
    body: bytes
    head: bytes  # the request line and headers, raw
    disconnected: bool = False  # the client closed before the reply was complete
    completed: bool = False  # the whole script was sent
    connection: int = 0  # which connection it came on, counted from 1 in the order they were accepted

    @property
    def path(self):
        return self.target.split("?", 1)[0]

    def header(self, name, default=None):
        """The value of header ``name`` (case-insensitive), or ``default``."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return default

    def header_names(self):
        return [key.lower() for key, _ in self.headers]

    @property
    def text(self):
        return self.body.decode("utf-8")

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def raw(self):
        """Everything the client sent: head and body."""
        return self.head + self.body


# --- reply builders ---------------------------------------------------------


def _encode(item):
    return item.encode("utf-8") if isinstance(item, str) else item


def sse(data, event=None):
    """One server-sent event: ``event: NAME\\n`` (optional), ``data: JSON\\n\\n``."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode("utf-8")


DONE = b"data: [DONE]\n\n"


def openai_chat_stream(pieces, *, reasoning=(), reasoning_field="reasoning_content", finish="stop",
                       usage=None, done=True, model="fake-model", role=True):
    """An OpenAI ``chat.completion.chunk`` stream: reasoning deltas, content deltas, finish, ``[DONE]``."""
    def chunk(delta, finish_reason=None, **extra):
        return sse({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}], **extra})

    out = []
    if role:
        out.append(chunk({"role": "assistant", "content": ""}))
    out += [chunk({reasoning_field: piece}) for piece in reasoning]
    out += [chunk({"content": piece}) for piece in pieces]
    if finish:
        out.append(chunk({}, finish))
    if usage:
        out.append(sse({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model,
                        "choices": [], "usage": usage}))
    if done:
        out.append(DONE)
    return out


def openai_completions_stream(pieces, *, finish="stop", done=True, model="fake-model"):
    """An OpenAI legacy ``text_completion`` stream."""
    def chunk(text, finish_reason=None):
        return sse({"id": "cmpl-1", "object": "text_completion", "created": 1, "model": model,
                    "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish_reason}]})

    out = [chunk(piece) for piece in pieces]
    if finish:
        out.append(chunk("", finish))
    if done:
        out.append(DONE)
    return out


LLAMA_TIMINGS = {
    "cache_n": 0, "prompt_n": 12, "prompt_ms": 30.5, "prompt_per_token_ms": 2.54, "prompt_per_second": 393.4,
    "predicted_n": 3, "predicted_ms": 60.0, "predicted_per_token_ms": 20.0, "predicted_per_second": 50.0,
}


def llama_stream(pieces, *, timings=None, stop=True, stop_type="eos"):
    """A llama.cpp native ``/completion`` or ``/infill`` stream: ``content`` chunks, a final ``stop`` chunk with ``timings``; no ``[DONE]``."""
    out = [sse({"index": 0, "content": piece, "tokens": [], "stop": False, "id_slot": 0,
                "tokens_predicted": i + 1, "tokens_evaluated": 12}) for i, piece in enumerate(pieces)]
    if stop:
        out.append(sse({"index": 0, "content": "", "tokens": [], "id_slot": 0, "stop": True, "model": "fake.gguf",
                        "tokens_predicted": len(pieces), "tokens_evaluated": 12, "stop_type": stop_type,
                        "stopping_word": "", "tokens_cached": 14, "truncated": False,
                        "timings": dict(LLAMA_TIMINGS if timings is None else timings)}))
    return out


def anthropic_stream(pieces, *, thinking=(), stop=True, model="claude-fake"):
    """An Anthropic Messages stream with named events (``message_start`` … ``message_stop``)."""
    out = [
        sse({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": model,
             "content": [], "stop_reason": None, "usage": {"input_tokens": 10, "output_tokens": 1}}}, "message_start"),
        sse({"type": "ping"}, "ping"),
    ]
    index = 0
    if thinking:
        out.append(sse({"type": "content_block_start", "index": index, "content_block": {"type": "thinking", "thinking": ""}},
                       "content_block_start"))
        out += [sse({"type": "content_block_delta", "index": index, "delta": {"type": "thinking_delta", "thinking": piece}},
                    "content_block_delta") for piece in thinking]
        out.append(sse({"type": "content_block_delta", "index": index, "delta": {"type": "signature_delta", "signature": "c2ln"}},
                       "content_block_delta"))
        out.append(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
        index += 1
    out.append(sse({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                   "content_block_start"))
    out += [sse({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}},
                "content_block_delta") for piece in pieces]
    out.append(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
    if stop:
        out.append(sse({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                        "usage": {"output_tokens": len(pieces)}}, "message_delta"))
        out.append(sse({"type": "message_stop"}, "message_stop"))
    return out


def json_reply(status, data, *, headers=None):
    """A non-streamed JSON reply (an error body, typically) with a Content-Length."""
    return Reply([json.dumps(data).encode("utf-8")], status=status, framing="length",
                 headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def text_reply(status, text, *, headers=None):
    """A plain-text reply with a Content-Length."""
    return Reply([_encode(text)], status=status, framing="length",
                 headers={"Content-Type": "text/plain; charset=utf-8", **(headers or {})})


def closed_port():
    """A loopback TCP port with no listener (bound then released; nothing else should grab it in time)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the server -------------------------------------------------------------


class _Gone(Exception):
    """The client closed the connection."""


class _Stopped(Exception):
    """The server is shutting down."""


class FakeServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 (or ``host``, e.g. "::1"); see the module docstring."""

    def __init__(self, reply=None, *, routes=None, handler=None, timeout=10.0, host="127.0.0.1", keep_alive=False):
        self.reply = reply
        self.keep_alive = keep_alive
        self.connections = 0  # accepted so far
        self.routes = dict(routes or {})
        self.handler = handler
        self.timeout = timeout
        self.requests = []
        self.errors = []
        self.disconnect = threading.Event()
        self._new_request = threading.Condition()
        self._lock = threading.Lock()
        self._threads = []
        self._conns = set()
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = False
        self._listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{self.port}"
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"fakeserver:{self.port}", daemon=True)
        self._acceptor.start()

    # public API

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close(raise_errors=exc[0] is None)

    def wait_for_request(self, count=1, timeout=None):
        """Wait until ``count`` requests have arrived; return the last of them (None on time-out)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with self._new_request:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._new_request.wait(left)
            return self.requests[count - 1]

    def wait_for_disconnect(self, timeout=None):
        """Wait until a client closes its connection before its reply is complete; True if one did."""
        return self.disconnect.wait(self.timeout if timeout is None else timeout)

    def close(self, raise_errors=True):
        """Stop accepting, release every wait, close every connection, join every thread."""
        if not self._stopping:
            self._stopping = True
            os.write(self._wake_w, b"x")  # level-triggered: wakes every select() on _wake_r
            self._acceptor.join(5)
            self._listener.close()
            with self._lock:
                threads = list(self._threads)
                for conn in self._conns:  # unblocks a sendall() to a client that stopped reading
                    try:
                        conn.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            for thread in threads:
                thread.join(5)
            with self._lock:
                for conn in self._conns:
                    conn.close()
                self._conns.clear()
            os.close(self._wake_r)
            os.close(self._wake_w)
            alive = [t.name for t in threads + [self._acceptor] if t.is_alive()]
            if alive:
                self.errors.append(RuntimeError(f"fakeserver threads still running: {alive}"))
        if raise_errors and self.errors:
            raise self.errors[0]

    # internals

    def _accept_loop(self):
        while True:
            readable, _, _ = select.select([self._listener, self._wake_r], [], [])
            if self._wake_r in readable:
                return
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn, self.connections), name=f"fakeserver:{self.port}:conn", daemon=True)
            with self._lock:
                self._conns.add(conn)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn, number):
        received = None
        try:
            while True:
                received = self._read_request(conn)
                if received is None:
                    return
                received.connection = number
                with self._new_request:
                    self.requests.append(received)
                    self._new_request.notify_all()
                reply = self._choose(received)
                self._send(conn, reply, received)
                received.completed = True
                if not self.keep_alive or reply.framing == "close" or reply.status is None or CUT in reply.script:
                    return
        except _Gone:
            if received is not None:
                received.disconnected = True
                self.disconnect.set()
        except _Stopped:
            pass
        except Exception as err:  # noqa: BLE001 - reported to the test on close()
            self.errors.append(err)
        finally:
            with self._lock:
                self._conns.discard(conn)
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def _choose(self, received):
        if self.handler is not None:
            reply = self.handler(received)
            if reply is not None:
                return reply
        if received.path in self.routes:
            return self.routes[received.path]
        if self.reply is not None:
            return self.reply
        return json_reply(404, {"error": {"message": f"no route for {received.path}", "type": "not_found_error"}})

    def _wait(self, conn, seconds, until=None):
        """Wait up to ``seconds`` (or until ``until`` is set); raise _Gone if the client closes, _Stopped on close()."""
        deadline = time.monotonic() + seconds
        while True:
            if until is not None and until.is_set():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            step = min(left, 0.005) if until is not None else left
            readable, _, _ = select.select([conn, self._wake_r], [], [], step)
            if self._wake_r in readable:
                raise _Stopped()
            if conn in readable:
                try:
                    data = conn.recv(65536)
                except OSError:
                    raise _Gone() from None
                if not data:
                    raise _Gone()

    def _recv_until(self, conn, buffer, marker):
        while marker not in buffer:
            readable, _, _ = select.select([conn, self._wake_r], [], [], self.timeout)
            if self._wake_r in readable:
                raise _Stopped()
            if not readable:
                if self.keep_alive and not buffer:
                    return None  # an idle kept-alive connection: close it, as servers do
                raise TimeoutError("the client sent an incomplete request")
            try:
                data = conn.recv(65536)
            except ConnectionResetError:
                data = b""  # a client that resets instead of closing (one that exits with a kept connection)
            if not data:
                return None
            buffer += data
        return buffer

    def _recv_exactly(self, conn, buffer, size):
        while len(buffer) < size:
            readable, _, _ = select.select([conn, self._wake_r], [], [], self.timeout)
            if self._wake_r in readable:
                raise _Stopped()
            if not readable:
                raise TimeoutError("the client sent an incomplete body")
            data = conn.recv(65536)
            if not data:
                raise _Gone()
            buffer += data
        return buffer

    def _read_request(self, conn):
        buffer = self._recv_until(conn, b"", b"\r\n\r\n")
        if buffer is None:
            return None  # a connection opened and closed without a request (a port probe)
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        received = Received(method, target, version, headers, b"", head + b"\r\n\r\n")
        if (received.header("expect") or "").lower() == "100-continue":
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in (received.header("transfer-encoding") or "").lower():
            body = b""
            while True:
                rest = self._recv_until(conn, rest, b"\r\n")
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                rest = self._recv_exactly(conn, rest, size + 2)
                body += rest[:size]
                rest = rest[size + 2:]
                if size == 0:
                    break
            received.body = body
        else:
            length = int(received.header("content-length") or 0)
            received.body = self._recv_exactly(conn, rest, length)[:length]
        return received

    def _send(self, conn, reply, received):
        status = reply.status
        if status is None:
            return  # hang up without a word
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
        headers = dict(reply.headers)
        if reply.framing == "chunked":
            headers["Transfer-Encoding"] = "chunked"
        elif reply.framing == "length":
            headers["Content-Length"] = str(sum(len(_encode(i)) for i in reply.script if isinstance(i, (bytes, str))))
        headers.setdefault("Connection", "keep-alive" if self.keep_alive and reply.framing != "close" else "close")
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._write(conn, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        for item in reply.script:
            if isinstance(item, (bytes, str)):
                data = _encode(item)
                if not data:
                    continue
                if reply.framing == "chunked":
                    data = b"%x\r\n%s\r\n" % (len(data), data)
                self._write(conn, data)
            elif isinstance(item, Pause):
                self._wait(conn, item.seconds)
            elif isinstance(item, Gate):
                item.reached.set()
                if not self._wait(conn, self.timeout, until=item.opened):
                    raise TimeoutError("a Gate was never opened by the test")
            elif item is HOLD:
                self._wait(conn, self.timeout)
                raise TimeoutError("HOLD: the client did not close the connection in time")
            elif item is CUT:
                return
            else:
                raise TypeError(f"unknown script item {item!r}")
        if reply.framing == "chunked":
            self._write(conn, b"0\r\n\r\n")

    def _write(self, conn, data):
        try:
            conn.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            raise _Gone() from None
