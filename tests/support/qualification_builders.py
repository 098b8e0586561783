"""Test data for the qualification domain: complete, valid objects to vary per test."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from services.qualification.domain import (
    CATEGORIES,
    INSURANCE_COVERS,
    WEIGHTED_CRITERIA,
    ApplicationContent,
    CategoryConfig,
    CohortTier,
    Contact,
    CriterionAnswer,
    CriterionResult,
    Decision,
    DpsSettings,
    Establishment,
    GeoPoint,
    default_category_configs,
    open_application,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday, GMT
TODAY = date(2026, 3, 2)
INSURANCE_EXPIRY = date(2027, 1, 31)
BRIGHTON = GeoPoint(50.8225, -0.1372)
LONDON = GeoPoint(51.5074, -0.1278)
CONTACTS = (Contact("Ann Head", "ann@downs-school.org.uk", "+44 7700 900123", True),)


def configs() -> dict[str, CategoryConfig]:
    return default_category_configs()


def dps_open() -> DpsSettings:
    return DpsSettings(date(2026, 1, 1), date(2029, 12, 31), entry_open=True)


def answer(code: str, **changes) -> CriterionAnswer:
    base = CriterionAnswer(f"{code} answer", f"https://evidence.example.org/{code}")
    if code == "INSURANCE":
        base = replace(
            base,
            expires_on=INSURANCE_EXPIRY,
            cover={k: Decimal("10000000.00") for k in INSURANCE_COVERS},
        )
    return replace(base, **changes)


def complete_content(config: CategoryConfig, **changes) -> ApplicationContent:
    base = ApplicationContent(
        pass_fail={c: answer(c) for c in config.pass_fail_criteria},
        method_statements={k: f"our {k.lower()} approach" for k in WEIGHTED_CRITERIA},
        core_costs={h: Decimal("300.00") for h in config.cost_heads},
        cohort_discounts=(CohortTier(2, Decimal(5)), CohortTier(3, Decimal(8))),
    )
    return replace(base, **changes)


def establishment(
    name: str = "Downs School",
    provider_id: str = "provider-1",
    location: GeoPoint = BRIGHTON,
    categories=CATEGORIES,
) -> Establishment:
    return Establishment(
        id=f"est-{name.lower().replace(' ', '-')}",
        provider_id=provider_id,
        name=name,
        address="1 Downs Road, Brighton",
        postcode="BN1 1AA",
        location=location,
        categories=tuple(categories),
        contacts=CONTACTS,
    )


def decision(config: CategoryConfig, scores=(80, 70, 90), fail: dict | None = None) -> Decision:
    fail = fail or {}
    return Decision(
        {
            c: CriterionResult("fail", fail[c]) if c in fail else CriterionResult("pass")
            for c in config.pass_fail_criteria
        },
        dict(zip(WEIGHTED_CRITERIA, scores, strict=True)),
    )


def draft(config: CategoryConfig, est: Establishment | None = None, now: datetime = NOW, **changes):
    est = est or establishment()
    app = open_application(est, config.code, complete_content(config, **changes), config, (), now)
    return app, est


def submitted(
    config: CategoryConfig, est: Establishment | None = None, now: datetime = NOW, **changes
):
    app, est = draft(config, est, now, **changes)
    app.submit(config, dps_open(), now)
    return app, est


def admitted(
    config: CategoryConfig, est: Establishment | None = None, now: datetime = NOW, **changes
):
    """An establishment admitted in ``config``'s category; returns (est, membership)."""
    app, est = submitted(config, est, now, **changes)
    app.decide(decision(config), config, est, now)
    return est, est.membership(config.code)
