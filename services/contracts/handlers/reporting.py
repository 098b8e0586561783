"""Benchmarks (RULES §7.6, anonymity §10) and cost shares (§7.7)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from services.common.errors import InvalidInput
from services.contracts import access, domain
from services.contracts.handlers.common import today
from services.contracts.messages import BenchmarkQuery, CostShareQuery


def _secret(uow, config) -> bytes:
    """The HMAC secret of anonymous labels: configured, or one random secret stored in the
    database the first time (committed at once, so every reader shares it)."""
    if config.benchmark_secret:
        return config.benchmark_secret.encode()
    secret = uow.store.anonymisation_secret()
    if secret is None:
        secret = uow.store.ensure_anonymisation_secret(secrets.token_hex(32))
        uow.commit()
    return secret.encode()


def benchmarks(query: BenchmarkQuery, uow, principal: dict, config) -> dict:
    """A category's benchmarks over a period, the last 12 months by default (§7.6)."""
    role = access.can_read_benchmarks(principal)
    to = query.to or today(uow)
    start = query.from_ or (domain.add_months(to, -12) + timedelta(days=1))
    if to < start:
        raise InvalidInput.at(["query", "to"], "must not be before from")
    placements = uow.store.placement_summaries(category=query.category, start=start, end=to)
    referrals = uow.store.referral_records_between(query.category, start, to)
    reviews = uow.store.reviews_between(start, to, category=query.category)
    secret = _secret(uow, config)
    return domain.benchmark(
        category=query.category,
        period_start=start,
        period_end=to,
        placements=placements,
        referrals=referrals,
        reviews=reviews,
        role=role,
        reader_authority=principal.get("authority"),
        secret=secret,
        fee_percent=config.transaction_fee_percent,
    )


def cost_shares(query: CostShareQuery, uow, principal: dict, config) -> dict:
    """The cost split of a financial year (§7.7), on the previous year's placements."""
    access.can_read_cost_shares(principal)
    basis_start, _ = domain.financial_year(query.year - 1)
    _, end = domain.financial_year(query.year)
    placements = uow.store.placement_summaries(start=basis_start, end=end)
    started = [p for p in placements if not p.never_started]  # §7.1 did_not_start
    awards = [a for a in map(domain.award_record, started) if a is not None]
    return domain.cost_shares(
        year=query.year,
        authorities=config.authorities,
        placements=placements,
        awards=awards,
        running_cost=config.cost_share_running_cost,
        setup_cost=config.cost_share_setup_cost,
        fee_percent=config.transaction_fee_percent,
        market_fee_percents=uow.store.market_fee_percents(),  # §11.2, s.38
    )
