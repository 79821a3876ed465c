"""In-process helpers for the pure tiers: build requests without sending them."""

import io
import os
from types import SimpleNamespace

from bridge.cli import main, plan


def environment(env):
    """``env`` (default: the process environment), always with the test's configuration folder."""
    if env is None:
        return dict(os.environ)
    return {"BUFBRIDGE_CONFIG_DIR": os.environ["BUFBRIDGE_CONFIG_DIR"], **env}


def request(text, env=None, *, allow_env=False, profile=None):
    """The Request bufbridge would send for ``text`` (nothing is sent)."""
    env = environment(env)
    args = SimpleNamespace(allow_env=allow_env, profile=profile, debug=False)
    return plan(text, env, args)


def run(text, *argv, env=None):
    """Run ``main`` in-process on ``text``; return (status, stdout text, stderr text)."""
    out, err = io.BytesIO(), io.StringIO()
    status = main(list(argv), stdin=io.BytesIO(text.encode()), stdout=out, stderr=err, env=environment(env))
    return status, out.getvalue().decode(), err.getvalue()
