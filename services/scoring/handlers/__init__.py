"""Scoring's use cases (RULES §6): request → rules → result, without nameko.

Scoring is stateless (no tables of its own, no audit, no events), so its handlers take no
unit of work: ``handler(command, principal) -> result`` (``score`` also takes the category its
service instance serves). ``translate`` maps the published messages to the domain and back.
"""

from services.scoring.handlers.scoring import (
    replay,
    replay_evaluation,
    resolve_referral_weights,
    resolve_weights,
    score,
    score_referral,
)

__all__ = [
    "replay",
    "replay_evaluation",
    "resolve_referral_weights",
    "resolve_weights",
    "score",
    "score_referral",
]
