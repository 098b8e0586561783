"""RULES §10 for scoring, walked whole: who may have bids scored (the what-if preview,
``scoring_<category>.score``). Scoring holds no objects, so a principal's authority and
provider never change the answer; the walk shows it."""

import itertools

import pytest

from services.common.errors import Forbidden
from services.scoring import access
from services.scoring.handlers import score
from services.scoring.messages import ScoringRequest
from tests.support.scoring_samples import worked_example

ALLOWED, FORBIDDEN = "allowed", 403
EXPECTED = {  # role → answer (§10 "own authority's referrals", "bids after deadline")
    "commissioner": ALLOWED,
    "lead": ALLOWED,  # as commissioner of WSCC
    "provider": FORBIDDEN,
    "contract_manager": FORBIDDEN,
    "auditor": FORBIDDEN,
}
AUTHORITIES = ("MED", "WSCC")  # the principal's own authority, or another one
PROVIDERS = (None, "prov-1", "prov-2")  # no provider, own provider, another provider


def principal(role: str, authority: str, provider_id: str | None) -> dict:
    return {"id": f"k-{role}", "role": role, "authority": authority,
            "provider_id": provider_id if role == "provider" else None}


CASES = [
    (role, authority, provider, answer)
    for (role, answer), authority, provider in itertools.product(
        EXPECTED.items(), AUTHORITIES, PROVIDERS
    )
]


@pytest.mark.parametrize(("role", "authority", "provider", "answer"), CASES)
def test_the_scoring_access_matrix(role, authority, provider, answer):
    who = principal(role, authority, provider)
    command = ScoringRequest.model_validate(worked_example())
    assert access.can_preview_scoring(who) is (answer == ALLOWED)
    if answer == ALLOWED:
        access.check_preview_scoring(who)
        assert score(command, "SEN", who).status == "parent_choice"
    else:
        with pytest.raises(Forbidden, match=f"the {role} role may not do this") as exc_info:
            score(command, "SEN", who)
        assert exc_info.value.status == 403


def test_a_call_without_a_principal_is_a_service_call_and_is_allowed():
    """The referral service's evaluation carries the commissioner's principal; a call with
    none comes from inside the platform (benchmarks, tests) and is scored."""
    assert access.can_preview_scoring(None)
    access.check_preview_scoring(None)
