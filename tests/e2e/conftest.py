"""The end-to-end tier: a real llama-server with the real bundled model.

One server per test session on a free port (``llama``), started and stopped
by the same ``LocalServer`` that ``bufbridge serve`` uses. When the ``local``
extra is missing or the server does not come up, every test here FAILS (it
does not skip): CI must go red when the server is missing or broken.
"""

import pytest

from .support import start_server


@pytest.fixture(scope="session")
def llama():
    """The session's llama-server: bundled model, `bufbridge serve` defaults, plus --metrics."""
    server = start_server(port=0, extra_args=["--metrics"])
    try:
        yield server
    finally:
        server.stop()
