"""Scoring's settings (DESIGN "One configuration pattern"), read when a process or a
container starts, never at import.

``SCORING_CATEGORIES`` (comma-separated category codes, e.g. ``SEN``; unset or empty: every
category) chooses which ``scoring_<category>`` services a scoring process hosts (DESIGN
"Scoring can be run per category"; ``run.py``). It keeps its historical name, without the
``DPS_`` prefix. An unknown code is a validation error, so the process stops at start.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from services.common.config import Settings
from services.scoring.messages import CATEGORIES

CATEGORIES_ENV = "SCORING_CATEGORIES"


def hosted_categories(value: str | None) -> tuple[str, ...]:
    """Parse ``SCORING_CATEGORIES``: codes in their first order, case and blanks ignored;
    unset or empty means every category (RULES §2); an unknown code is a ``ValueError``."""
    codes = tuple(dict.fromkeys(c.strip().upper() for c in (value or "").split(",") if c.strip()))
    unknown = [c for c in codes if c not in CATEGORIES]
    if unknown:
        raise ValueError(f"{CATEGORIES_ENV}: unknown categories {', '.join(unknown)}")
    return codes or CATEGORIES


class ScoringConfig(Settings):
    """The common settings plus the categories this scoring process serves."""

    scoring_categories: Annotated[tuple[str, ...], NoDecode] = Field(
        CATEGORIES, validation_alias=CATEGORIES_ENV
    )

    @field_validator("scoring_categories", mode="before")
    @classmethod
    def _parse_categories(cls, value: object) -> object:
        if value is None or isinstance(value, str):
            return hosted_categories(value)
        return hosted_categories(",".join(value))  # a list given in code
