"""Benchmarking of a category over a period and the anonymity of authorities in it
(RULES §7.6, §10)."""

from __future__ import annotations

import hashlib
import hmac
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from services.common.errors import Forbidden, InvalidInput
from services.common.money import round_pence
from services.contracts.domain.calendar import award_day, quarter_of
from services.contracts.domain.cost_shares import DEFAULT_FEE_PERCENT, transaction_fee
from services.contracts.domain.placements import Placement, PlacementSource
from services.contracts.domain.publication import award_record
from services.contracts.domain.reviews import Review, mean_review_score
from services.contracts.domain.values import ZERO, _jsonable, _q2
from services.contracts.messages import ReferralAwarded

NAMED_ROLES = frozenset({"lead", "contract_manager"})
"""§10: roles that see every authority by name in benchmarks."""


@dataclass(frozen=True)
class ReferralRecord:
    """What benchmarking needs of a referral. ``bids_count`` and ``compliant_bids_count``
    are ``None`` until its deadline; ``decline_reasons`` holds one code per decline."""

    referral_id: str
    authority: str
    category: str
    published_at: datetime
    needs: tuple[str, ...] = ()
    bids_count: int | None = None
    compliant_bids_count: int | None = None
    awarded_at: datetime | None = None
    decline_reasons: tuple[str, ...] = ()


def referral_record_from_award(event: ReferralAwarded) -> ReferralRecord:
    """The benchmarking record of an awarded referral (declines are added from the referral
    service's ``invitation_declined`` events)."""
    return ReferralRecord(
        referral_id=event.referral_id,
        authority=event.authority,
        category=event.category,
        published_at=event.published_at,
        needs=tuple(need.code for need in event.referral.needs) if event.referral else (),
        bids_count=event.bids_count,
        compliant_bids_count=event.compliant_bids_count,
        awarded_at=event.awarded_at,
    )


def cost_distribution(values: Iterable[Decimal]) -> dict[str, Any] | None:
    """Count, minimum, quartiles, median and maximum of weekly costs (§7.6).

    Quartiles are ``statistics.quantiles(n=4, method="inclusive")`` on the Decimals: linear
    interpolation between order statistics, as spreadsheets' QUARTILE.INC; the median is the
    middle quartile. Each is rounded half up to the penny. ``None`` for no value."""
    data = sorted(values)
    if not data:
        return None
    q1, median, q3 = (
        statistics.quantiles(data, n=4, method="inclusive") if len(data) > 1 else data * 3
    )
    return {
        "count": len(data),
        "min": round_pence(data[0]),
        "lower_quartile": round_pence(q1),
        "median": round_pence(median),
        "upper_quartile": round_pence(q3),
        "max": round_pence(data[-1]),
    }


def authority_labels(
    authorities: Iterable[str], *, role: str, reader_authority: str | None, secret: bytes
) -> dict[str, str]:
    """How a reader sees each authority in benchmarks (§7.6, §10).

    The lead and the contract manager see codes. A commissioner sees its own code and every
    other authority as ``Authority 3F9A``: the first hex digits of
    HMAC-SHA256(secret, reader + other), so labels are stable for a reader across calls,
    differ between readers and reveal nothing without the secret. Digits are added (4, 6,
    …) until the labels of the given set are distinct. Other roles: ``Forbidden``."""
    codes = sorted(set(authorities))
    if role in NAMED_ROLES:
        return {code: code for code in codes}
    if role != "commissioner" or not reader_authority:
        raise Forbidden("benchmarks are for commissioners, the lead and the contract manager")
    if not secret:
        raise ValueError("an anonymisation secret is required")
    digests = {
        code: hmac.new(secret, f"{reader_authority}\x1f{code}".encode(), hashlib.sha256)
        .hexdigest()
        .upper()
        for code in codes
        if code != reader_authority
    }
    width = 4
    while len({d[:width] for d in digests.values()}) < len(digests):
        width += 2
    labels = {code: f"Authority {digest[:width]}" for code, digest in digests.items()}
    if reader_authority in codes:
        labels[reader_authority] = reader_authority
    return labels


def _days(start: datetime, end: datetime) -> Fraction:
    delta = end - start
    return Fraction(delta.days * 86_400 + delta.seconds, 86_400)


def _median(values: list[Fraction]) -> Decimal | None:
    return _q2(statistics.median(values)) if values else None


def _mean(values: list[int]) -> Decimal | None:
    return _q2(Fraction(sum(values), len(values))) if values else None


def _counts(codes: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(codes).items()))


def _fees(placements: list[Placement], fee_percent: Decimal) -> dict[str, Any]:
    """§7.7 platform transaction fees on the awards among ``placements`` (block places are
    not awards), per calendar quarter of the award. An award under a Procurement Act dynamic
    market bears none: its fee is the supplier's (s.38, §11.2; see ``cost_shares``)."""
    by_quarter: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for p in placements:
        award = award_record(p)
        if award is not None and award.regime != "PA2023_DYNAMIC_MARKET":
            by_quarter[quarter_of(award_day(award.awarded_at))] += transaction_fee(
                award, fee_percent
            )
    return {
        "percent": format(fee_percent.normalize(), "f"),
        "by_quarter": dict(sorted(by_quarter.items())),
        "total": sum(by_quarter.values(), ZERO),
    }


def _figures(
    placements: list[Placement],
    referrals: list[ReferralRecord],
    reviews: list[Review],
    fee_percent: Decimal = DEFAULT_FEE_PERCENT,
) -> dict[str, Any]:
    via_dps = [p for p in placements if p.source is not PlacementSource.DIRECT_PLACEMENT]
    direct = [p for p in placements if p.source is PlacementSource.DIRECT_PLACEMENT]
    closed = [r for r in referrals if r.bids_count is not None]
    three = [r for r in closed if (r.compliant_bids_count or 0) >= 3]
    mean_score = mean_review_score(reviews)
    return {
        "placements": len(via_dps),
        "weekly_cost": cost_distribution(p.awarded_weekly_price or ZERO for p in via_dps),
        "direct_placements": {
            "count": len(direct),
            "by_reason": _counts(p.reason_code or "" for p in direct),
            "weekly_cost": cost_distribution(p.awarded_weekly_price or ZERO for p in direct),
        },
        "referrals": len(referrals),
        "bids_per_referral": _mean([r.bids_count or 0 for r in closed]),
        "share_with_3_compliant_bids_percent": (
            _q2(Fraction(100 * len(three), len(closed))) if closed else None
        ),
        "time_to_place_days": _median(
            [_days(r.published_at, r.awarded_at) for r in referrals if r.awarded_at is not None]
        ),
        "mean_review_score": None if mean_score is None else _q2(mean_score),
        "demand": {
            "referrals_per_month": _counts(
                award_day(r.published_at).strftime("%Y-%m") for r in referrals
            ),
            "referrals_per_need": _counts(need for r in referrals for need in set(r.needs)),
        },
        "declines_by_reason": _counts(code for r in referrals for code in r.decline_reasons),
        "transaction_fees": _fees(placements, fee_percent),
    }


def benchmark(
    *,
    category: str,
    period_start: date,
    period_end: date,
    placements: Iterable[Placement],
    referrals: Iterable[ReferralRecord],
    reviews: Iterable[Review],
    role: str,
    reader_authority: str | None,
    secret: bytes,
    fee_percent: Decimal = DEFAULT_FEE_PERCENT,
) -> dict[str, Any]:
    """Benchmarks of a category over a period, both days included (§7.6), JSON-ready.

    - placements: agreed in the period, except those that never started (§7.1
      ``did_not_start``); ``weekly_cost`` is the distribution of the awarded
      weekly prices of competed and block placements; direct placements are reported
      separately (§5), by reason.
    - referrals: published in the period; bids per referral and the share with at least 3
      compliant bids count those past their deadline; time to place is the median of
      publish → award in days (2 decimals); demand per month of publication and per need.
    - declines by reason, as market-capacity intelligence (§5).
    - ``transaction_fees``: the platform fee (§7.7, ``fee_percent`` of each award's
      annualised value, rounded per award) per calendar quarter, overall and per authority.
    - mean review score: reviews dated in the period (each review's mean, then the mean).
    - ``by_authority``: the same figures per authority, labelled per §10 and sorted by label.
    """
    if period_end < period_start:
        raise InvalidInput.at(["to"], "must not be before from")

    def within(day: date) -> bool:
        return period_start <= day <= period_end

    placed = [
        p
        for p in placements
        if p.category == category and within(award_day(p.agreed_at)) and not p.never_started
    ]
    refs = [r for r in referrals if r.category == category and within(award_day(r.published_at))]
    revs = [r for r in reviews if r.category == category and within(r.date)]
    involved = {p.authority for p in placed} | {r.authority for r in refs + revs}
    labels = authority_labels(involved, role=role, reader_authority=reader_authority, secret=secret)
    by_authority = [
        {
            "authority": label,
            **_figures(
                [p for p in placed if p.authority == code],
                [r for r in refs if r.authority == code],
                [r for r in revs if r.authority == code],
                fee_percent,
            ),
        }
        for code, label in sorted(labels.items(), key=lambda item: item[1])
    ]
    return _jsonable(
        {
            "category": category,
            "from": period_start,
            "to": period_end,
            **_figures(placed, refs, revs, fee_percent),
            "by_authority": by_authority,
        }
    )
