"""Hostile-input guards that run before any body or id reaches a model or a service
(API.md "Errors"; issue 10): bad input is always a 4xx problem naming the field, never a
500 and never a half-written change.

- ``nesting_depth`` scans the raw JSON text *before* it is decoded, so a body nested
  thousands deep is refused without the decoder's recursion.
- ``bad_text`` finds strings that PostgreSQL cannot store or that no form of free text
  needs: NUL and the other C0/C1 control characters (tab, newline and carriage return are
  allowed) and lone UTF-16 surrogates. Both object keys and values are checked; the
  location of each offender is returned as a pydantic-style ``loc``.
- ``bad_path_value``: a path id with such characters, or absurdly long, names nothing
  (404, as for an unknown id).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MAX_DEPTH = 32
"""Deepest JSON nesting accepted: the deepest model in API.md is 4 levels."""

MAX_PATH_VALUE = 200

_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")


def nesting_depth(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """The nesting depth of a JSON text, stopping early once ``limit`` is exceeded (so the
    cost is bounded by the body size, which ``MAX_CONTENT_LENGTH`` bounds)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif byte in _CLOSE:
            depth -= 1
    return deepest


def forbidden_chars(text: str) -> bool:
    return bool(_FORBIDDEN.search(text))


def bad_text(value: object, loc: tuple = ()) -> Iterator[list]:
    """Locations of strings holding characters that no field accepts."""
    if isinstance(value, str):
        if forbidden_chars(value):
            yield list(loc)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and forbidden_chars(key):
                yield [*loc, "<key>"]
            yield from bad_text(item, (*loc, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from bad_text(item, (*loc, i))


def bad_path_value(value: object) -> bool:
    return isinstance(value, str) and (len(value) > MAX_PATH_VALUE or forbidden_chars(value))


TEXT_ERROR = "text may not hold NUL, control characters (other than tab and newline) " \
             "or unpaired surrogates"
