"""Category settings (RULES §2): every category's configuration — pass/fail criteria,
weighted criteria weights, cost heads, insurance minimums, minimum tender period, minimum
invited, affordability caps, the competency period and the referral weights. The lead
changes them; each change makes a new version (an application is judged against the
version in force when it was submitted), and every version can be read."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request

from gateway.web.pages import REFUSED, FormInvalid, page, refusal, rpc, signed_in
from gateway.web.vocabulary import (
    INSURANCE_COVERS,
    PASS_FAIL_CRITERIA,
    WEIGHT_NAMES,
    WEIGHTED_CRITERIA,
)
from services.common.config import get_settings
from services.qualification.messages import CategoryPatch

bp = Blueprint("web_categories", __name__)
CRITERIA, WEIGHTED, COVERS = PASS_FAIL_CRITERIA, WEIGHTED_CRITERIA, INSURANCE_COVERS
REFERRAL_WEIGHTS = WEIGHT_NAMES
NUMBERS = ("min_tender_period_hours", "min_invited", "competency_period_months")
READERS = ("lead", "commissioner", "contract_manager")
LABELS = {"min_tender_period_hours": "Minimum tender period", "min_invited": "Minimum invited",
          "competency_period_months": "Competency period", "affordability_cap": "Common cap",
          "cost_heads": "Cost heads", "optional_cost_heads": "Optional cost heads",
          "pass_fail_criteria": "Pass/fail criteria"}
LABELS.update({f"weighted_criteria_weights-{k}": k.replace("_", " ").capitalize() + " weight"
               for k in WEIGHTED})
LABELS.update({f"referral_weights-{k}": f"{v} weight" for k, v in REFERRAL_WEIGHTS.items()})
LABELS.update({f"insurance_minimums-{k}": k.replace("_", " ").capitalize() for k in COVERS})


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def _same_money(a, b) -> bool:
    try:
        return a is not None and b not in (None, "") and float(a) == float(b)
    except ValueError:
        return False


def patch_for(form, current: dict, authorities) -> dict:
    """The settings a form changes, as a ``CategoryPatch`` dump (only what differs from
    the version in force: an unchanged form makes no version)."""
    raw: dict = {}
    for key in NUMBERS:
        value = form.get(key, "").strip()
        if value != str(current[key]):
            raw[key] = value
    criteria = [c for c in CRITERIA if c in form.getlist("pass_fail_criteria")]
    if criteria != [c for c in CRITERIA if c in current["pass_fail_criteria"]]:
        raw["pass_fail_criteria"] = criteria
    for key in ("cost_heads", "optional_cost_heads"):
        heads = _lines(form.get(key, ""))
        if heads != current[key]:
            raw[key] = heads
    for key, names in (("weighted_criteria_weights", WEIGHTED),
                       ("referral_weights", tuple(REFERRAL_WEIGHTS))):
        changed = {n: form.get(f"{key}.{n}", "").strip() for n in names
                   if form.get(f"{key}.{n}", "").strip() != str(current[key].get(n, ""))}
        if changed:
            raw[key] = {n: form.get(f"{key}.{n}", "").strip() for n in names}
    covers = {n: form.get(f"insurance_minimums.{n}", "").strip() for n in COVERS}
    if any(not _same_money(current["insurance_minimums"].get(n), v) for n, v in covers.items()):
        raw["insurance_minimums"] = covers
    cap = form.get("affordability_cap", "").strip()
    if not _same_money(current["affordability_cap"], cap) and (cap or current["affordability_cap"]):
        raw["affordability_cap"] = cap or None
    caps = {}
    for code in authorities:
        value = form.get(f"authority_caps.{code}", "").strip()
        old = current["authority_caps"].get(code)
        if not _same_money(old, value) and (value or old):
            caps[code] = value or None
    if caps:
        raw["authority_caps"] = caps
    if not raw:
        raise FormInvalid([{"field": None, "text": "Nothing is changed: change a setting "
                            "first"}])
    return CategoryPatch.model_validate(raw).model_dump(mode="json", exclude_unset=True)


def _context(code: str, version: int | None = None):
    current = rpc("qualification", "get_category", code, None)
    shown = current if version is None else rpc("qualification", "get_category", code, version)
    previous = (rpc("qualification", "get_category", code, shown["version"] - 1)
                if shown["version"] > 1 else None)
    changed = ({k for k in shown if k != "version" and shown[k] != previous[k]}
               if previous else set())
    return {"category": shown, "current": current, "changed": changed,
            "authorities": get_settings().authorities, "criteria": CRITERIA,
            "weighted": WEIGHTED, "covers": COVERS}


@bp.get("/categories")
@signed_in(*READERS)
def index():
    return page("categories.html", title="Categories",
                items=rpc("qualification", "list_categories")["items"])


@bp.get("/categories/<code>")
@signed_in(*READERS)
def show(code, errors=None):
    return page("category.html", title=f"Category settings: {code}", form=request.form,
                errors=errors or [], **_context(code))


@bp.get("/categories/<code>/versions/<int:version>")
@signed_in(*READERS)
def version(code, version):
    context = _context(code, version)
    return page("category.html", title=f"{code} settings, version {version}", form={},
                errors=[], **context)


@bp.post("/categories/<code>")
@signed_in("lead")
def change(code):
    current = rpc("qualification", "get_category", code, None)
    try:
        patch = patch_for(request.form, current, get_settings().authorities)
        after = rpc("qualification", "update_category", code, patch)
    except REFUSED as exc:
        return show(code, errors=refusal(exc, LABELS))
    flash(f"The {code} settings are saved as version {after['version']}. Applications "
          "already submitted keep the version they were submitted under.")
    return redirect(f"/categories/{code}")
