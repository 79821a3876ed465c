"""The wheel carries the built-in profiles and FIM templates: install it into a fresh venv and load every one."""

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHECK = r"""
import json, sys
from bridge import profiles
from bridge.cli import plan
from bridge.errors import BuildError
from types import SimpleNamespace
env = {"BUFBRIDGE_CONFIG_DIR": sys.argv[1]}
names = []
for found in profiles.available(env):
    assert "site-packages" in str(found.path), found.path
    for text in ("a\n!infill\nb\n", "!user\nq\n"):  # a format that speaks no !infill (Anthropic) builds a chat
        try:
            req = plan("!profile llama.cpp\n!profile %s\n" % found.name + text, env, SimpleNamespace(allow_env=False, profile=None, debug=True))
            break
        except BuildError as err:
            if "wire format has no" not in str(err):
                raise
    else:
        raise SystemExit(found.name + " builds in no mode")
    names.append(found.name)
print(json.dumps(names))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)], check=True)
    return next(out.glob("bufbridge-*.whl"))


def test_wheel_installs_and_loads_every_builtin(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False, system_site_packages=True)
    python = env_dir / "bin" / "python"
    target = tmp_path / "site-packages"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True)
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONNOUSERSITE": "1"}
    result = subprocess.run([str(python), "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); " + CHECK, str(tmp_path / "cfg")],
                            capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = json.loads(result.stdout)
    shipped = {p.stem for p in (ROOT / "profiles").glob("*.profile")} | {"fim:" + p.stem for p in (ROOT / "fim_templates").glob("*.json") if p.stem != "schema"}
    assert set(names) == shipped
