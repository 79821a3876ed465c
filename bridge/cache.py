"""What the user's files say, read again only when they change.

The editor host runs the whole pipeline for every request, many a minute
while suggestions are typed: the configuration file, the profiles and the
FIM templates it names would be read and parsed (a template is validated
against its schema) each time. ``by_file`` keeps each result with the file's
identity (device, inode, size, modification time) and builds it again as soon
as any of them differs, so an edited profile takes effect at the next request.
Only trusted files go through here: the user's own and the built-in ones.
"""

import os
import threading

_entries = {}
_lock = threading.Lock()
MAX_ENTRIES = 512  # far more files than anyone's configuration holds


def by_file(kind, path, build):
    """``build(path)`` for this version of the file at ``path``; an error from ``build`` is never kept."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return build(path)  # let build say what is wrong with it
    version = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    key = (kind, os.fspath(path))
    with _lock:
        kept = _entries.get(key)
    if kept is not None and kept[0] == version:
        return kept[1]
    value = build(path)
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[key] = (version, value)
    return value
