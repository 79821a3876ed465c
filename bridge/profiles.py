"""Where profiles and FIM templates come from.

The search order, in one place (the README repeats it):

1. a name containing ``/`` is a file path;
2. ``fim:NAME`` is the FIM template ``fim_templates/NAME.json`` (built-in,
   or ``<config dir>/fim_templates/NAME.json``, which shadows it);
3. otherwise ``<config dir>/profiles/NAME.profile``, the user's own, which
   may shadow a built-in;
4. then the built-in ``profiles/NAME.profile``.

Built-ins are package data read by the same loader as the user's files.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ProfileError

PROFILE_SUFFIX = ".profile"
TEMPLATE_SUFFIX = ".json"


@dataclass(frozen=True)
class Found:
    """A located profile: its display name, file, origin and whether it is trusted."""

    name: str
    path: Path
    origin: str  # "built-in", "user", "path"
    trusted: bool
    kind: str = "profile"  # or "fim"


def data_dir(name):
    """A built-in data folder: inside the installed package, or at the checkout root."""
    here = Path(__file__).resolve().parent
    for candidate in (here / name, here.parent / name):
        if candidate.is_dir():
            return candidate
    return here / name


def config_dir(env):
    """The user's configuration folder (``BUFBRIDGE_CONFIG_DIR`` overrides)."""
    if env.get("BUFBRIDGE_CONFIG_DIR"):
        return Path(env["BUFBRIDGE_CONFIG_DIR"])
    from platformdirs import user_config_dir  # only needed when not overridden

    return Path(user_config_dir("bufbridge"))


def find(name, env, *, path_trusted=False):
    """Locate profile ``name``; raise ProfileError saying where we looked."""
    if "/" in name or "\\" in name:
        # Not looked at here: whether the file may be read, and whether it can,
        # is for the reader of the source that names it (files.py, rule 5).
        return Found(name, Path(os.path.expanduser(name)), "path", path_trusted)
    if name.startswith("fim:"):
        return _find_in(name, name[4:], "fim_templates", TEMPLATE_SUFFIX, "fim", env)
    return _find_in(name, name, "profiles", PROFILE_SUFFIX, "profile", env)


def _find_in(display, stem, folder, suffix, kind, env):
    user = config_dir(env) / folder / (stem + suffix)
    builtin = data_dir(folder) / (stem + suffix)
    if stem and not stem.startswith(".") and "/" not in stem and (kind, stem) != ("fim", "schema"):
        for path, origin in ((user, "user"), (builtin, "built-in")):
            if _is_file(path):
                return Found(display, path, origin, True, kind)
    raise ProfileError(
        f"no profile named {display!r} (looked for {user} and the built-in {builtin.name})",
        hint="run `bufbridge --list-profiles` to see what is available",
    )


def _is_file(path):
    try:
        return path.is_file()
    except OSError:  # e.g. a name too long for the file system: no such profile
        return False


def available(env):
    """Every profile and FIM template a buffer can name, user files shadowing built-ins."""
    found = {}
    for origin, base in (("built-in", None), ("user", config_dir(env))):
        for folder, suffix, prefix, kind in (
            ("profiles", PROFILE_SUFFIX, "", "profile"),
            ("fim_templates", TEMPLATE_SUFFIX, "fim:", "fim"),
        ):
            root = data_dir(folder) if base is None else base / folder
            for path in sorted(root.glob("*" + suffix)) if root.is_dir() else ():
                if path.name == "schema.json":
                    continue
                name = prefix + path.name[: -len(suffix)]
                found[name] = Found(name, path, origin, True, kind)
    return [found[name] for name in sorted(found)]


def describe(found):
    """A one-line description: a profile's first ``!note``, a template's ``description``."""
    from . import files, jsonsafe

    try:
        text = files.Reader().read(str(found.path), "--list-profiles")  # a FIFO or a huge file costs nothing
    except files.FileError as err:
        return f"(unreadable: {err.reason})"
    if found.kind == "fim":
        try:
            data = jsonsafe.loads(text)
        except jsonsafe.JSONError:
            return "(invalid template)"
        return str(data.get("description", "")) if isinstance(data, dict) else "(invalid template)"
    for line in text.splitlines():
        if line.startswith("!note "):
            return line[6:].strip()
    return ""
