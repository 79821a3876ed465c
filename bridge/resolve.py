"""Precedence, written once.

Three rules decide what reaches the request when the buffer and profiles
disagree (documented in the README under "Precedence"):

* body keys (``!:KEY``): a key the buffer set or deleted anywhere beats every
  profile, wherever the ``!profile`` line stands; among profiles, the later
  one wins; the defaults are the base;
* the API URL (``!api``): the buffer's last ``!api`` beats every profile;
  among profiles, the first ``!api`` wins;
* headers (``!>``): as in Illume, the last line to set a header wins, in the
  order the lines are read.

The functions here are pure: they take the recorded settings in load order
and return the outcome, so each rule is pinned by a table-driven test.
"""

from dataclasses import dataclass

DELETE = object()  # the value of ``!:KEY`` with no value: remove the key


@dataclass(frozen=True)
class Setting:
    """One ``!:KEY VALUE`` line as read, in load order."""

    key: str
    value: object
    where: str = ""
    from_buffer: bool = False


def resolve_body(defaults, settings):
    """The JSON body from ``defaults`` and ``settings`` (in load order)."""
    body = dict(defaults)
    profile_final, buffer_final = {}, {}
    for setting in settings:
        (buffer_final if setting.from_buffer else profile_final)[setting.key] = setting.value
    for key, value in {**profile_final, **buffer_final}.items():
        if value is DELETE:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def resolve_api(apis):
    """The ``!api`` in force from ``(url, from_buffer)`` pairs in load order, or None."""
    buffer_apis = [url for url, from_buffer in apis if from_buffer]
    if buffer_apis:
        return buffer_apis[-1]
    profile_apis = [url for url, from_buffer in apis if not from_buffer]
    return profile_apis[0] if profile_apis else None


def resolve_headers(headers):
    """The header map from ``(name, value)`` pairs in load order; None deletes."""
    result = {}
    for name, value in headers:
        if value is None:
            result.pop(name.lower(), None)
        else:
            result[name.lower()] = value
    return result
