"""A loopback TCP server that misbehaves below HTTP: it plays raw bytes, or nothing, on each connection.

``fakeserver`` always answers with a well-formed status line and headers;
this one is for the faults that happen before or instead of them::

    with RawServer([b"HTTP/1.1 20"]) as server:      # half a status line, then close
    with RawServer([], hold=True) as server:           # read the request, then say nothing
        server.url, server.wait_for_request(), server.wait_for_disconnect(timeout)

The script runs after the whole request has been read (``read_request=False``
skips that: accept and act at once). Items are ``bytes`` (sent) or a float
(seconds to wait). With ``hold=True`` the connection then stays open until the
client closes it, and ``disconnected_at`` records when (``time.monotonic()``).
Every wait is bounded by ``timeout``; leaving the ``with`` block closes everything.
"""

import select
import socket
import threading
import time


class RawServer:
    def __init__(self, script=(), *, hold=False, read_request=True, timeout=30.0):
        self.script, self.hold, self.read_request, self.timeout = list(script), hold, read_request, timeout
        self.request = threading.Event()
        self.disconnect = threading.Event()
        self.disconnected_at = None
        self.errors = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rawserver:{self.port}", daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._listener.close()
        self._thread.join(self.timeout)
        if exc[0] is None and self.errors:
            raise self.errors[0]

    def wait_for_request(self, timeout=None):
        return self.request.wait(self.timeout if timeout is None else timeout)

    def wait_for_disconnect(self, timeout=None):
        return self.disconnect.wait(self.timeout if timeout is None else timeout)

    def _run(self):
        try:
            ready, _, _ = select.select([self._listener], [], [], self.timeout)
            if not ready or self._stop.is_set():
                return
            conn, _ = self._listener.accept()
        except OSError:
            return
        with conn:
            try:
                self._serve(conn)
            except (BrokenPipeError, ConnectionResetError):
                self._gone()
            except Exception as err:  # noqa: BLE001 - re-raised in the test
                self.errors.append(err)

    def _serve(self, conn):
        if self.read_request:
            self._read_request(conn)
        self.request.set()
        for item in self.script:
            if isinstance(item, bytes):
                conn.sendall(item)
            elif self._wait_closed(conn, item):
                return
        if self.hold and not self._wait_closed(conn, self.timeout):
            self.errors.append(TimeoutError("the client never closed the connection"))

    def _read_request(self, conn):
        data = b""
        while b"\r\n\r\n" not in data:
            data += self._recv(conn)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            body += self._recv(conn)

    def _recv(self, conn):
        ready, _, _ = select.select([conn], [], [], self.timeout)
        if not ready:
            raise TimeoutError("the client sent an incomplete request")
        data = conn.recv(65536)
        if not data:
            raise ConnectionResetError("the client closed before its request was complete")
        return data

    def _wait_closed(self, conn, seconds):
        """Wait up to ``seconds``; True (and recorded) when the client closes the connection meanwhile."""
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([conn], [], [], min(left, 0.1))
            if ready:
                try:
                    data = conn.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    self._gone()
                    return True
        return False

    def _gone(self):
        self.disconnected_at = time.monotonic()
        self.disconnect.set()
