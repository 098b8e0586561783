"""Row mapping of the referral service, in one place: one ``*_to_row`` / ``*_from_row``
pair per stored type, and ``rows_of`` / ``referral_from_rows`` that map a whole ``Referral``
aggregate (``domain``) to and from its rows (``tables``). Just over 400 lines, kept whole so
that each stored type's two directions and the aggregate's mapping read side by side."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.common.codecs import from_row, to_row
from services.common.crypto import ERASED
from services.referral.domain import (
    Bid,
    Decline,
    DirectPlacement,
    Invitation,
    Question,
    Referral,
    Status,
)
from services.referral.domain.procurement import Procurement
from services.referral.messages import (
    BidCreate,
    EstablishmentSnapshot,
    EvaluationView,
    PriceBreakdown,
    ReferralCreate,
    ReferralSummary,
    Standing,
)
from services.referral.store.tables import PARTS, pk, referrals
from services.scoring.messages import RankedBidMsg, ScoreInputsMsg, WeightsMsg

Rows = dict[str, dict[tuple, dict]]


def _json(model) -> Any:
    return model.model_dump(mode="json")


# --------------------------------------------------------------------------- referral


def referral_to_row(r: Referral) -> dict:
    return {
        "id": r.referral_id,
        "authority": r.authority,
        "category": r.category,
        "status": str(r.status),
        "spec": _json(r.spec),
        "weights": _json(r.weights),
        "min_invited": r.min_invited,
        "radius_miles": r.spec.radius_miles,
        "deadline": r.deadline,
        "created_at": r.created_at,
        "published_at": r.published_at,
        "closed_at": r.closed_at,
        "evaluated_at": r.evaluated_at,
        "awarded_at": r.awarded_at,
        "cancelled_at": r.cancelled_at,
        "cancel_reason": r.cancel_reason,
        "personal_data": r.personal_data,
        "legal_hold": r.legal_hold,
        "procurement": None if r.procurement is None else r.procurement.to_row(),
    }


PERSONAL_FIELDS = ("child_reference", "address", "home_location")
PERSONAL_CHILD_FIELDS = ("name", "date_of_birth")
ERASED_LOCATION = {"lat": 0.0, "lon": 0.0}


def split_personal(spec: dict) -> tuple[dict, dict]:
    """RULES §13: the spec without the child's personal data, and that data (to be sealed
    under the referral's key, ``referrals.child_data``)."""
    public = {k: v for k, v in spec.items() if k not in PERSONAL_FIELDS}
    personal: dict[str, Any] = {k: spec.get(k) for k in PERSONAL_FIELDS}
    personal["children"] = [{k: c.get(k) for k in PERSONAL_CHILD_FIELDS} for c in spec["children"]]
    public["children"] = [
        {k: v for k, v in c.items() if k not in PERSONAL_CHILD_FIELDS} for c in spec["children"]
    ]
    return public, personal


def merge_personal(public: dict, personal: dict | str | None) -> tuple[dict, str]:
    """The full spec again, and whether its personal data is ``held`` or ``erased`` (its key
    destroyed: placeholders stand in, and views say so)."""
    if not isinstance(personal, dict):
        children = [dict(c) for c in public["children"]]
        return {**public, "child_reference": ERASED, "address": None,
                "home_location": ERASED_LOCATION, "children": children}, ERASED
    children = [{**c, **p} for c, p in zip(public["children"], personal["children"], strict=True)]
    rest = {k: personal.get(k) for k in PERSONAL_FIELDS}
    return {**public, **rest, "children": children}, "held"


def referral_from_row(row, personal: dict | str | None = None) -> Referral:
    """The aggregate's root, without its parts (``referral_from_rows`` adds them);
    ``personal`` is the opened ``child_data`` (or ``ERASED``)."""
    spec, state = merge_personal(row.spec, personal)
    return Referral(
        referral_id=row.id,
        authority=row.authority,
        personal_data=state,
        spec=ReferralCreate.model_validate(spec),
        weights=WeightsMsg.model_validate(row.weights),
        min_invited=row.min_invited,
        created_at=row.created_at,
        status=Status(row.status),
        published_at=row.published_at,
        closed_at=row.closed_at,
        evaluated_at=row.evaluated_at,
        awarded_at=row.awarded_at,
        cancelled_at=row.cancelled_at,
        cancel_reason=row.cancel_reason,
        legal_hold=row.legal_hold,
        procurement=Procurement.from_row(getattr(row, "procurement", None)),
    )


def summary_from_row(row: Mapping, child_reference: str) -> ReferralSummary:
    """A row of ``Store.authority_page`` (referral plus counts) as the owner's list item."""
    return ReferralSummary(
        referral_id=row["id"],
        authority=row["authority"],
        category=row["category"],
        status=row["status"],
        child_reference=child_reference,
        radius_miles=row["radius_miles"],
        deadline=row["deadline"],
        created_at=row["created_at"],
        published_at=row["published_at"],
        closed_at=row["closed_at"],
        invited_count=row["invited_count"],
        bids_count=row["bids_count"],
        declines_count=row["declines_count"],
    )


# --------------------------------------------------------------------------- parts


def invitation_to_row(referral_id: str, i: Invitation) -> dict:
    s, dump = i.snapshot, _json(i.snapshot)
    return {
        "referral_id": referral_id,
        "establishment_id": s.establishment_id,
        "provider_id": s.provider_id,
        "name": s.name,
        "distance_miles": s.distance_miles,
        "competency": s.competency,
        "core_costs": dump["core_costs"],
        "cohort_discounts": dump["cohort_discounts"],
        "contacts": dump["contacts"],
        "additional_services": dump["additional_services"],
        "invited_at": i.invited_at,
        "suspended_reason": i.suspended_reason,
    }


def invitation_from_row(row) -> Invitation:
    snapshot = EstablishmentSnapshot.model_validate(
        {
            "establishment_id": row.establishment_id,
            "provider_id": row.provider_id,
            "name": row.name,
            "distance_miles": row.distance_miles,
            "competency": row.competency,
            "core_costs": row.core_costs,
            "cohort_discounts": row.cohort_discounts,
            "contacts": row.contacts,
            "additional_services": row.additional_services,
        }
    )
    return Invitation(
        snapshot=snapshot, invited_at=row.invited_at, suspended_reason=row.suspended_reason
    )


def bid_to_row(referral_id: str, b: Bid) -> dict:
    """A bid's own row; its outcome scores are ``outcome_score_to_row``'s."""
    return {
        "id": b.bid_id,
        "referral_id": referral_id,
        "establishment_id": b.establishment_id,
        "provider_id": b.provider_id,
        "status": b.status,
        "terms": _json(b.terms),
        "price": _json(b.price),
        "weekly_price": b.price.weekly_price,
        "submitted_at": b.submitted_at,
        "withdrawn_at": b.withdrawn_at,
        "withdrawn_reason": b.withdrawn_reason,
        "standing_admitted": b.standing.admitted if b.standing else None,
        "standing_competency": b.standing.competency if b.standing else None,
    }


def bid_from_row(row, outcome_scores: dict[str, int]) -> Bid:
    standing = (
        None
        if row.standing_admitted is None
        else Standing(admitted=row.standing_admitted, competency=row.standing_competency)
    )
    return Bid(
        bid_id=row.id,
        provider_id=row.provider_id,
        terms=BidCreate.model_validate(row.terms),
        price=PriceBreakdown.model_validate(row.price),
        submitted_at=row.submitted_at,
        status=row.status,
        withdrawn_at=row.withdrawn_at,
        withdrawn_reason=row.withdrawn_reason,
        outcome_scores=outcome_scores,
        standing=standing,
    )


def outcome_score_to_row(referral_id: str, bid_id: str, evaluator: str, score: int) -> dict:
    return {"bid_id": bid_id, "evaluator": evaluator, "referral_id": referral_id, "score": score}


def outcome_score_from_row(row) -> tuple[str, str, int]:
    """``(bid_id, evaluator, score)``."""
    return row.bid_id, row.evaluator, row.score


QUESTION_COLUMNS = {"question_id": "id"}


def question_to_row(referral_id: str, q: Question) -> dict:
    return to_row(q, rename=QUESTION_COLUMNS, referral_id=referral_id)


def question_from_row(row) -> Question:
    return from_row(Question, row, rename=QUESTION_COLUMNS)


def decline_to_row(referral_id: str, d: Decline) -> dict:
    return to_row(d, referral_id=referral_id)


def decline_from_row(row) -> Decline:
    return from_row(Decline, row)


def evaluation_to_row(r: Referral) -> dict | None:
    """The result; each bid's inputs go to ``evaluation_inputs`` (``evaluation_input_rows``)."""
    e = r.evaluation
    if e is None:
        return None
    return {
        "referral_id": r.referral_id,
        "status": e.status,
        "ranking": [x.model_dump(mode="json", exclude={"inputs"}) for x in e.ranking],
        "shortlist": list(e.shortlist),
        "evaluated_at": r.evaluated_at,
        "formula_version": e.formula_version,
        "weights": None if e.weights is None else _json(e.weights),
        "lowest_price": e.lowest_compliant_weekly_price,
    }


def evaluation_input_rows(r: Referral) -> list[dict]:
    """One row per evaluated bid: the §6.3 inputs as applied (issue 15)."""
    if r.evaluation is None:
        return []
    return [
        {
            "bid_id": x.bid_id,
            "referral_id": r.referral_id,
            "compliant": x.compliant,
            **x.inputs.model_dump(),
            "outcome_scores": [str(v) for v in x.inputs.outcome_scores],
        }
        for x in r.evaluation.ranking
        if x.inputs is not None
    ]


def evaluation_from_row(row, input_rows: list) -> EvaluationView:
    inputs = {
        i.bid_id: ScoreInputsMsg.model_validate(
            {c: getattr(i, c) for c in ScoreInputsMsg.model_fields}
        )
        for i in input_rows
    }
    ranking = [
        RankedBidMsg.model_validate(x).model_copy(update={"inputs": inputs.get(x["bid_id"])})
        for x in row.ranking
    ]
    return EvaluationView(
        status=row.status,
        ranking=ranking,
        shortlist=row.shortlist,
        formula_version=row.formula_version,
        weights=None if row.weights is None else WeightsMsg.model_validate(row.weights),
        lowest_compliant_weekly_price=row.lowest_price,
    )


def parent_choice_to_row(r: Referral) -> dict | None:
    if r.parent_choice_bid_id is None:
        return None
    return {
        "referral_id": r.referral_id,
        "bid_id": r.parent_choice_bid_id,
        "reason": r.parent_choice_reason,
    }


def parent_choice_from_row(row) -> tuple[str, str | None]:
    """``(bid_id, reason)``."""
    return row.bid_id, row.reason


def award_to_row(r: Referral) -> dict | None:
    if r.awarded_bid_id is None and r.block_id is None:
        return None
    return {
        "referral_id": r.referral_id,
        "bid_id": r.awarded_bid_id,
        "placement_id": r.placement_id,
        "awarded_at": r.awarded_at,
        "block_id": r.block_id,
    }


def award_from_row(row) -> tuple[str | None, str, str | None]:
    """``(bid_id, placement_id, block_id)``."""
    return row.bid_id, row.placement_id, row.block_id


def direct_placement_to_row(placement: DirectPlacement) -> dict:
    req = placement.request
    return {
        "id": placement.direct_placement_id,
        "placement_id": placement.placement_id,
        "authority": placement.authority,
        "category": req.category,
        "establishment_id": req.establishment_id,
        "provider_id": placement.provider_id,
        "reason_code": req.reason_code,
        "justification": req.justification,
        "weekly_price": req.weekly_price,
        "recorded_at": placement.recorded_at,
        "procurement": placement.procurement,
    }


# --------------------------------------------------------------------------- the aggregate


def rows_of(r: Referral) -> Rows:
    """The aggregate as rows: ``{table name: {primary key: row}}``."""
    out: Rows = {t.name: {} for t in (referrals, *PARTS)}
    tables = {t.name: t for t in (referrals, *PARTS)}

    def put(name: str, row: dict | None) -> None:
        if row is not None:
            out[name][tuple(row[c] for c in pk(tables[name]))] = row

    rid = r.referral_id
    put("referrals", referral_to_row(r))
    for i in r.invitations.values():
        put("invitations", invitation_to_row(rid, i))
    for b in r.bids.values():
        put("bids", bid_to_row(rid, b))
        for evaluator, score in b.outcome_scores.items():
            put("outcome_scores", outcome_score_to_row(rid, b.bid_id, evaluator, score))
    for q in r.questions.values():
        put("questions", question_to_row(rid, q))
    for d in r.declines.values():
        put("declines", decline_to_row(rid, d))
    put("evaluations", evaluation_to_row(r))
    for row in evaluation_input_rows(r):
        put("evaluation_inputs", row)
    put("parent_choices", parent_choice_to_row(r))
    put("awards", award_to_row(r))
    return out


def referral_from_rows(row, parts: Mapping[str, list], personal=None) -> Referral:
    """The aggregate from its ``referrals`` row and ``{part table name: rows}``."""
    referral = referral_from_row(row, personal)
    for i in parts["invitations"]:
        referral.invitations[i.establishment_id] = invitation_from_row(i)
    scores: dict[str, dict[str, int]] = {}
    for s in parts["outcome_scores"]:
        bid_id, evaluator, score = outcome_score_from_row(s)
        scores.setdefault(bid_id, {})[evaluator] = score
    for b in parts["bids"]:
        referral.bids[b.id] = bid_from_row(b, scores.get(b.id, {}))
    for q in parts["questions"]:
        referral.questions[q.id] = question_from_row(q)
    for d in parts["declines"]:
        referral.declines[d.establishment_id] = decline_from_row(d)
    for e in parts["evaluations"]:
        referral.evaluation = evaluation_from_row(e, parts["evaluation_inputs"])
    for p in parts["parent_choices"]:
        referral.parent_choice_bid_id, referral.parent_choice_reason = parent_choice_from_row(p)
    for a in parts["awards"]:
        referral.awarded_bid_id, referral.placement_id, referral.block_id = award_from_row(a)
    return referral
