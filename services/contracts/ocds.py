"""Kept only so that ``pyproject.toml``'s import-linter contracts, which name
``services.contracts.ocds`` as a module other services must not import, still find it. The
publication rules live in ``services.contracts.domain.publication`` (RULES §7.5); drop this
module when those contracts name that one instead."""

from services.contracts.domain.publication import *  # noqa: F403
