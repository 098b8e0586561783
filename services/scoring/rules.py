"""Compatibility re-export: scoring's rules now live in ``services.scoring.domain``
(RULES §6). Kept so that ``services.scoring.rules`` stays importable (the import-linter
contracts in pyproject.toml name it); new code imports ``services.scoring.domain``."""

from services.scoring.domain import *  # noqa: F403
from services.scoring.domain import __all__  # noqa: F401
