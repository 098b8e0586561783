"""The portal's referral form (issue 11, RULES §5 draft edits, §6.1 weights): a draft's
spec shown in the edit form and posted back unchanged is the same referral, and the
weights are all six or none."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from gateway.web.pages import FormInvalid
from gateway.web.views.referrals import _form_of, _referral_body
from services.referral.messages import ReferralCreate

SPEC = {
    "category": "RESIDENTIAL", "child_reference": "KCC-123",
    "children": [{"age": 13, "name": "Rowan Quill", "date_of_birth": "2013-04-21",
                  "gender": "girl"}, {"age": 9}],
    "home_location": {"lat": 51.25, "lon": 0.5}, "address": "7 Larch Close",
    "radius_miles": 20.0, "deadline": "2026-12-10T12:00:00+00:00",
    "needs": [{"code": "N1", "label": "education on site", "marks": 3}],
    "features": [{"code": "M1", "label": "single occupancy", "must_have": True, "marks": 0},
                 {"code": "D1", "label": "garden", "must_have": False, "marks": 2}],
    "desired_outcomes": ["attend school", "see a sibling"], "price_weight": 70,
}


def test_a_draft_shown_in_the_edit_form_and_posted_back_is_the_same_referral():
    form = {k: str(v) for k, v in _form_of(SPEC).items()}
    assert form["children.0.name"] == "Rowan Quill" and form["deadline"] == "2026-12-10T12:00"
    assert form["features.0.must_have"] == "yes" and form["features.1.must_have"] == ""
    again = ReferralCreate.model_validate(_referral_body(MultiDict(form)))
    assert again == ReferralCreate.model_validate(SPEC)


def test_weights_are_all_six_or_none():
    form = {k: str(v) for k, v in _form_of(SPEC).items() if k != "price_weight"}
    with pytest.raises(FormInvalid) as refused:
        _referral_body(MultiDict({**form, "weights.P": "60", "weights.C": "20"}))
    assert {e["field"] for e in refused.value.errors} == {"weights-L", "weights-O",
                                                          "weights-N", "weights-F"}
    six = dict(zip(("weights.P", "weights.C", "weights.L", "weights.O", "weights.N",
                    "weights.F"), ("60", "20", "5", "5", "5", "5"), strict=True))
    body = ReferralCreate.model_validate(_referral_body(MultiDict({**form, **six})))
    assert body.weights.P == 60 and body.price_weight is None


def test_the_edit_form_has_a_row_for_every_child_need_and_feature_of_the_draft():
    """A draft made through the API may hold more than the form's blank rows: the edit
    form shows every one of them and a blank row more, so saving never drops one."""
    from gateway.web.views.referrals import _rows

    assert _rows({}) == {"children": 2, "needs": 3, "features": 3}
    big = {**SPEC, "children": [{"age": 9}, {"age": 11}, {"age": 13}],
           "needs": [{"code": f"N{i}", "label": f"need {i}", "marks": 1} for i in range(5)]}
    assert _rows(_form_of(big)) == {"children": 4, "needs": 6, "features": 3}


def test_editing_a_draft_keeps_what_the_form_does_not_show():
    """A draft made through the API with an incentive, a minimum of invited providers and a
    title: editing it through the form's fields changes what the form shows and leaves the
    rest as it was (§5 draft edits); the estimated value's fields (§11.4) are on the form."""
    from gateway.web.views.referrals import draft_patch

    api_draft = {**SPEC, "weekly_price_ceiling": "4500.00", "expected_weeks": 26,
                 "min_invited": 4, "title": "Residential placement, Kent",
                 "incentive": {"kind": "early_step_down", "description": "step down early",
                               "premium": "500.00", "within_weeks": 12}}
    form = {k: str(v) for k, v in _form_of(api_draft).items()}
    assert form["weekly_price_ceiling"] == "4500.00" and form["expected_weeks"] == "26"
    shown = {k: v for k, v in form.items() if not k.startswith(("incentive", "min_invited",
                                                                  "title"))}
    patch = draft_patch(_referral_body(MultiDict({**shown, "expected_weeks": "30"})))
    assert not {"incentive", "min_invited", "title"} & patch.keys()  # left unchanged
    assert patch["expected_weeks"] == 30 and patch["weekly_price_ceiling"] == "4500.00"
    cleared = draft_patch(_referral_body(MultiDict(
        {k: v for k, v in shown.items() if k != "weekly_price_ceiling"})))
    assert cleared["weekly_price_ceiling"] is None  # a blank field clears it


def test_the_bid_form_asks_for_the_heads_of_the_invited_establishments_qualified_offer(
        monkeypatch):
    """§5: a bid is checked against the invitation's snapshot of the qualified offer, so
    the form asks for those heads (not every head the category allows), in the category's
    order; a removed membership or an establishment the provider cannot read adds none."""
    from gateway.web.views import referrals
    from services.common.errors import NotFound

    establishments = {
        "e1": {"memberships": [
            {"category": "RESIDENTIAL", "status": "admitted",
             "core_costs": {"accommodation": "900.00", "staffing": "2100.00"}},
            {"category": "FOSTERING", "status": "admitted", "core_costs": {"fees": "1.00"}}]},
        "e2": {"memberships": [{"category": "RESIDENTIAL", "status": "removed",
                                "core_costs": {"therapy": "300.00"}}]},
    }

    def rpc(service, method, est_id):
        if est_id not in establishments:
            raise NotFound("no such establishment")
        return establishments[est_id]

    monkeypatch.setattr(referrals, "rpc", rpc)
    referral = {"category": "RESIDENTIAL", "invitations": [
        {"establishment_id": e} for e in ("e1", "e2", "e3")]}
    category = {"cost_heads": ["staffing", "education", "accommodation", "therapy"]}
    assert referrals._bid_heads(referral, category) == ["staffing", "accommodation"]
    assert referrals._bid_heads({**referral, "invitations": []}, category) == \
        category["cost_heads"]
