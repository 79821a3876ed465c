"""The budget of the property tests: Hypothesis profiles, example counts and per-case limits.

``ci`` (the default) keeps the whole folder within about a minute on a busy
2-core machine: example counts are fixed per test, Hypothesis's own
deadline is off (a loaded machine makes wall time noisy) and each case is
held to a CPU-time limit instead (``CPU_LIMIT``), with a wall-clock limit
that turns a hang into a failure. ``thorough`` runs ten times as many
examples: ``BUFBRIDGE_HYPOTHESIS_PROFILE=thorough``. No example database is
kept and Hypothesis's cache lives in a temporary folder, so nothing is
written into the checkout (a long hunt belongs to ``bench/fuzz.py``).
"""

import atexit
import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

CPU_LIMIT = 3.0  # seconds of CPU per case: linear code takes milliseconds; a catastrophic regex takes tens of seconds
WALL_LIMIT = 60.0  # seconds of wall time per case before it is stopped as a hang

_COMMON = dict(
    deadline=None,
    database=None,
    derandomize=False,
    print_blob=True,
    # the autouse config fixture of tests/conftest.py is function-scoped; these tests pass their own env instead
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("ci", **_COMMON)
settings.register_profile("thorough", **_COMMON)
settings.load_profile(os.environ.get("BUFBRIDGE_HYPOTHESIS_PROFILE", "ci"))

# Hypothesis also caches what it learns from the source (``.hypothesis/constants``): in a temporary
# folder, removed at exit, so a test run leaves nothing in the checkout
_HOME = tempfile.mkdtemp(prefix="bufbridge-hypothesis-")
set_hypothesis_home_dir(_HOME)
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)

SCALE = 10 if os.environ.get("BUFBRIDGE_HYPOTHESIS_PROFILE") == "thorough" else 1


def examples(n):
    """``n`` examples under the ``ci`` profile, ten times as many under ``thorough``."""
    return n * SCALE
