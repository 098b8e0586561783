"""Row mapping for dataclass aggregates, written once (issue 9): a field goes to the column
of the same name unless renamed, enums as their values; a row comes back through the
dataclass's own fields, with conversions named where a column holds an encoded value.

    to_row(question, rename={"question_id": "id"}, referral_id=referral_id)
    from_row(Question, row, rename={"question_id": "id"})
    from_row(Placement, row, convert={"status": PlacementStatus}, variations=[...])

Pure: no database here (``row`` is any mapping, or a SQLAlchemy ``Row``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")


def to_row(obj: Any, *, rename: Mapping[str, str] | None = None,
           **extra: Any) -> dict[str, Any]:
    """The dataclass ``obj`` as column values; ``extra`` adds or overrides columns."""
    rename = rename or {}
    row = {}
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        row[rename.get(field.name, field.name)] = value.value if isinstance(value, Enum) \
            else value
    row.update(extra)
    return row


def from_row(cls: type[T], row: Any, *, rename: Mapping[str, str] | None = None,
             convert: Mapping[str, Callable[[Any], Any]] | None = None,
             **given: Any) -> T:
    """An instance of the dataclass ``cls`` from ``row``: each field not ``given`` is read
    from its column (``rename[field]`` or its own name), through ``convert[field]`` when
    not NULL. Fields with defaults may be missing from the row."""
    mapping = row._mapping if hasattr(row, "_mapping") else row
    rename, convert = rename or {}, convert or {}
    values = dict(given)
    for field in dataclasses.fields(cls):
        if field.name in values or not field.init:
            continue
        column = rename.get(field.name, field.name)
        if column not in mapping:
            continue
        value = mapping[column]
        if value is not None and field.name in convert:
            value = convert[field.name](value)
        values[field.name] = value
    return cls(**values)
