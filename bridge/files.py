"""Every file a buffer makes bufbridge read, through one reader (security rule 5).

``!context``, ``!profile PATH``, ``!reddit`` and ``!github`` read files with
a ``Reader``. The reader of the buffer, and of a profile the buffer named by
path, is *confined*: it reads only inside the current folder, after resolving
symlinks, unless the user opted in (``--allow-files`` or ``allow_files = true``
in ``config.toml``); even then it never reads ``/proc``, ``/sys``, ``/dev`` or
the user's configuration folder, where the environment and literal keys live.
A trusted source (a built-in profile, one from the configuration folder, a
path named on the command line or in ``$BUFBRIDGE_PROFILE``) reads anywhere.

Whoever reads, a file is opened without blocking and checked on the open
descriptor to be a regular file (a FIFO, a socket or a device never hangs or
floods us), and no more than ``MAX_FILE_BYTES`` are read from it. A folder
walk visits each real folder once (symlink loops end), looks at no more than
``MAX_ENTRIES`` entries and reads no more than ``MAX_TOTAL_BYTES``.

Every refusal and every OS error is a ``FileError``: one line naming the
path, what is wrong and how to fix or allow it.
"""

import errno
import os
import re
import stat
from dataclasses import dataclass

from .errors import DirectiveError

MIB = 1 << 20
MAX_FILE_BYTES = 1 * MIB  # one file
MAX_TOTAL_BYTES = 8 * MIB  # all the files of one folder walk, or one --extra-json listing
MAX_ENTRIES = 100_000  # folder entries one walk looks at
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")
ALLOW_HINT = "run bufbridge with --allow-files (or set allow_files = true in config.toml) to read files outside it"
SHOWN_CHARS = 120  # a path longer than this is shortened in messages


class FileError(DirectiveError):
    """A file that cannot be read; ``reason`` says why in a few words (for notes and other wordings)."""

    def __init__(self, message, *, reason, hint=None, refused=False):
        super().__init__(message, hint=hint)
        self.reason = reason
        self.refused = refused  # the policy said no (rather than the OS)


@dataclass(frozen=True)
class Policy:
    """Where a confined reader may read: inside ``root`` (anywhere with ``allow_outside``), never under ``never``."""

    root: str | None  # the real current folder; None when it no longer exists
    allow_outside: bool = False
    never: tuple = SYSTEM_FOLDERS
    base: str | None = None  # relative paths start here (None: the process's current folder)

    @classmethod
    def here(cls, env, *, allow_outside=False, cwd=None):
        """The policy for a buffer run in ``cwd`` (default: the current folder) with the configuration folder of ``env``.

        The editor host runs requests from several folders at once, so the
        folder is a value here, never the process's current directory.
        """
        from .profiles import config_dir

        try:
            root = os.path.realpath(cwd or os.getcwd())
        except OSError:
            root = None
        return cls(root, allow_outside, SYSTEM_FOLDERS + (os.path.realpath(config_dir(env)),), cwd)

    def reader(self, *, confined=True):
        return Reader(self if confined else None, self.base)


@dataclass(frozen=True)
class Walk:
    """What a folder walk found: ``files`` as (name, text) in walk order, ``skipped`` as (name, reason)."""

    files: tuple
    skipped: tuple


@dataclass(frozen=True)
class Reader:
    """Reads files for one source; ``policy`` None: a trusted source, which may read anywhere."""

    policy: Policy | None = None
    base: str | None = None  # relative paths start here (None: the process's current folder)

    def read(self, path, directive, *, limit=MAX_FILE_BYTES):
        """The text of the regular file ``path`` (UTF-8, bad bytes replaced)."""
        return self._bytes(path, directive, path, limit).decode("utf-8", errors="replace")

    def walk(self, folder, suffixes, directive):
        """The files under ``folder`` whose names end with one of ``suffixes``, in lexical walk order.

        Each folder's entries are sorted by name and a subfolder's files come
        at its place; a folder reached twice (through a link) is visited once.
        Files the policy refuses, broken links and non-regular files are
        skipped and listed in ``skipped``; an OS error or a size limit is an error.
        """
        real = self._place(folder, directive, folder)
        info = _stat(real, folder, directive, kind="folder")
        if not stat.S_ISDIR(info.st_mode):
            raise _error(directive, folder, "not a folder", hint="give a folder followed by file suffixes, or a file alone")
        budget = _Budget(folder, directive)
        visited = {(info.st_dev, info.st_ino)}
        stack = [(folder, real, iter(_listing(real, folder, directive, budget)))]
        found, skipped = [], []
        while stack:
            shown_dir, real_dir, names = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                continue
            shown, path = os.path.join(shown_dir, name), os.path.join(real_dir, name)
            try:
                info = os.stat(path)
            except (OSError, ValueError):
                if name.endswith(suffixes):
                    skipped.append((shown, "a broken link"))
                continue
            if stat.S_ISDIR(info.st_mode):
                if (info.st_dev, info.st_ino) in visited:
                    continue
                try:
                    sub = self._place(path, directive, shown)
                except FileError as err:
                    if not err.refused:
                        raise
                    skipped.append((shown + "/", err.reason))
                    continue
                visited.add((info.st_dev, info.st_ino))
                stack.append((shown, sub, iter(_listing(sub, shown, directive, budget))))
            elif name.endswith(suffixes):
                try:
                    data = self._bytes(path, directive, shown, MAX_FILE_BYTES)
                except FileError as err:
                    if not err.refused:
                        raise
                    skipped.append((shown, err.reason))
                    continue
                budget.spend(len(data))
                found.append((shown, data.decode("utf-8", errors="replace")))
        return Walk(tuple(found), tuple(skipped))

    def _bytes(self, path, directive, shown, limit):
        real = self._place(path, directive, shown)
        try:
            info = os.stat(real)  # before opening: a device is never even opened
        except OSError as err:
            raise _os_error(err, directive, shown) from None
        _regular(info, directive, shown)
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC | os.O_NOFOLLOW
        try:
            fd = os.open(real, flags)
        except OSError as err:
            raise _os_error(err, directive, shown) from None
        try:
            info = os.fstat(fd)  # what was opened, whatever happened to the name since
            _regular(info, directive, shown)
            if info.st_size > limit:
                raise _too_large(directive, shown, limit)
            data = _read_at_most(fd, limit + 1)
        except OSError as err:
            raise _os_error(err, directive, shown) from None
        finally:
            os.close(fd)
        if len(data) > limit:  # a file that grew, or one that reports no size (/proc)
            raise _too_large(directive, shown, limit)
        return data

    def _place(self, path, directive, shown):
        """The real path of ``path``, once the policy agrees to it."""
        if "\0" in path:
            raise _error(directive, shown, "a file name cannot contain a NUL character", hint="remove it from the path")
        if self.base:
            path = os.path.join(self.base, path)  # unchanged when path is absolute
        try:
            real = os.path.realpath(path)
            literal = os.path.abspath(path)
            os.fsencode(real)
        except ValueError:  # characters that cannot be a file name on this system
            raise _error(directive, shown, "not a valid file name", hint="check the path") from None
        policy = self.policy
        if policy is None:
            return real
        for folder in policy.never:
            if _within(real, folder) or _within(literal, folder):
                what = folder if folder in SYSTEM_FOLDERS else "the configuration folder"
                raise _error(
                    directive, shown, f"in {what}, which is never read for a buffer",
                    hint="copy what you need into a file in the current folder", refused=True,
                )
        if policy.allow_outside:
            return real
        if policy.root is None:
            raise _error(directive, shown, "the current folder no longer exists", hint="run bufbridge from an existing folder", refused=True)
        if not _within(real, policy.root):
            reason = "a link that leads outside the current folder" if _within(literal, policy.root) else "outside the current folder"
            raise _error(directive, shown, f"{reason} ({policy.root})", hint=ALLOW_HINT, refused=True, short=reason)
        return real


class _Budget:
    """What one walk may still look at and read."""

    def __init__(self, folder, directive):
        self.folder, self.directive = folder, directive
        self.entries, self.bytes = MAX_ENTRIES, MAX_TOTAL_BYTES

    def look(self):
        self.entries -= 1
        if self.entries < 0:
            raise _error(self.directive, self.folder, f"more than {MAX_ENTRIES} entries under it", hint="name a smaller folder")

    def spend(self, size):
        self.bytes -= size
        if self.bytes < 0:
            raise _error(self.directive, self.folder, f"its files add up to more than {MAX_TOTAL_BYTES // MIB} MiB", hint="name a smaller folder or fewer suffixes")


def _listing(real, shown, directive, budget):
    """The names in folder ``real``, sorted; counted against the walk's budget as they are read."""
    names = []
    try:
        with os.scandir(real) as entries:
            for entry in entries:
                budget.look()
                names.append(entry.name)
    except OSError as err:
        raise _os_error(err, directive, shown, kind="folder") from None
    return sorted(names)


def _stat(real, shown, directive, *, kind):
    try:
        return os.stat(real)
    except OSError as err:
        raise _os_error(err, directive, shown, kind=kind) from None


def _regular(info, directive, shown):
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        hint = "give a file, or a folder followed by file suffixes" if directive == "!context" else "give a file"
        raise _error(directive, shown, "a folder", hint=hint)
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special"
        raise _error(directive, shown, f"{kind}, not a regular file", hint="only regular files are read", refused=True)


def _read_at_most(fd, size):
    parts = []
    while size > 0:
        data = os.read(fd, min(size, 1 << 16))
        if not data:
            break
        parts.append(data)
        size -= len(data)
    return b"".join(parts)


def _within(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _short(path):
    return path if len(path) <= SHOWN_CHARS else path[: SHOWN_CHARS - 3] + "..."


def _error(directive, path, reason, *, hint=None, refused=False, short=None):
    """``DIRECTIVE: PATH: REASON``; ``short`` is the reason as a note lists it, when it differs."""
    return FileError(f"{directive}: {_short(path)}: {reason}", reason=short or reason, hint=hint, refused=refused)


def _too_large(directive, shown, limit):
    size = f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit} bytes"
    return _error(directive, shown, f"larger than {size}, the most bufbridge reads from one file", hint="give a smaller file, or copy the part you need into one")


_OS_REASONS = {
    errno.EACCES: ("permission denied", "check the file's permissions"),
    errno.EPERM: ("permission denied", "check the file's permissions"),
    errno.ELOOP: ("a symlink loop", "fix or remove the link"),
    errno.ENAMETOOLONG: ("the name is too long", "check the path"),
    errno.ENOTDIR: ("a part of the path is not a folder", "check the path"),
    errno.ENXIO: ("not a regular file", "only regular files are read"),
}


def _os_error(err, directive, shown, *, kind="file"):
    if err.errno == errno.ENOENT:
        hint = "check the path, or name a profile from `bufbridge --list-profiles`" if directive == "!profile" else "check the path (relative to the current folder)"
        return FileError(f"{directive}: no such {kind} {_short(shown)}", reason=f"no such {kind}", hint=hint)
    reason, hint = _OS_REASONS.get(err.errno, (f"cannot read it: {err.strerror}", None))
    return _error(directive, shown, reason, hint=hint)


# --- files that look like secrets (security rule 6) -----------------------------

SECRET_NAMES = re.compile(
    r"""(
        \.env.*                                   # .env, .env.local, .envrc
      | .*\.(pem|key|p12|pfx|jks|keystore|ppk|kdbx)  # keys and key stores
      | id_[a-z0-9_-]+(\.pub)?                     # ssh keys: id_rsa, id_ed25519 (and .pub)
      | [._]netrc | \.npmrc | \.pypirc | \.pgpass | \.git-credentials | \.htpasswd | \.dockercfg
      | credentials.*                              # credentials, credentials.json
      | secrets?\.(json|ya?ml|toml|ini|env|txt|py)    # secrets.yaml, secret.json
    )""",
    re.IGNORECASE | re.VERBOSE,
)
SECRET_FOLDERS = frozenset({".ssh", ".gnupg", ".aws", ".docker", ".kube"})


def looks_secret(name):
    """Whether a file named ``name`` (a path) looks like it holds secrets: never sent as context."""
    parts = re.split(r"[/\\]", name)
    return bool(SECRET_NAMES.fullmatch(parts[-1])) or any(part.lower() in SECRET_FOLDERS for part in parts[:-1])


def skipped_note(directive, skipped, *, shown=5):
    """A one-line note for the files a walk left out."""
    names = ", ".join(f"{name} ({why})" for name, why in skipped[:shown])
    more = f" and {len(skipped) - shown} more" if len(skipped) > shown else ""
    allow = "; " + ALLOW_HINT if any("outside" in why for _, why in skipped) else ""
    return f"{directive} left out {len(skipped)} file{'s' if len(skipped) != 1 else ''}: {names}{more}{allow}"
