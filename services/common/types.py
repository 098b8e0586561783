"""Strict field types shared by every service's ``messages.py`` (issue 10: bad input is a
422 naming the field, never a 500 and never silently reinterpreted).

pydantic's lax mode turns ``"yes"`` into ``True``, ``0`` into 1 January 1970 and accepts
integers that no database column can hold; these types refuse all of that:

- ``StrictBool``: ``true``/``false`` only (as JSON, or as the text of a query string);
  never ``"yes"``, ``1`` or ``"on"``.
- ``IsoDate`` / ``IsoDateTime``: an ISO 8601 string (or a date/datetime object from our
  own code), never a number. ``IsoDateTime`` must carry its offset (timezone-aware UTC).
- ``Int32``: within PostgreSQL's ``integer`` range.
- ``Money``: RULES §4.4 money, see ``services.common.money.parse``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator, Field, PlainSerializer

from services.common import money

__all__ = ["StrictBool", "IsoDate", "IsoDateTime", "Int32", "Money"]

INT32 = 2**31 - 1


def _iso_only(value: object) -> object:
    if isinstance(value, bool | int | float | Decimal):
        raise ValueError("a date is an ISO 8601 string such as \"2026-04-01\"")
    return value


def _iso_datetime_only(value: object) -> object:
    if isinstance(value, bool | int | float | Decimal):
        raise ValueError("a time is an ISO 8601 string such as \"2026-04-01T09:30:00Z\"")
    return value


def _true_or_false(value: object) -> object:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):  # a query string's text
        return value == "true"
    raise ValueError("must be true or false")


StrictBool = Annotated[bool, BeforeValidator(_true_or_false)]
IsoDate = Annotated[dt.date, BeforeValidator(_iso_only)]
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime_only)]
Int32 = Annotated[int, Field(ge=-INT32 - 1, le=INT32)]
Money = Annotated[Decimal, BeforeValidator(money.parse), Field(ge=0, le=money.MAX),
                  PlainSerializer(money.fmt, return_type=str)]
