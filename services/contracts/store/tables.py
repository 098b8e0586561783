"""Tables of the contracts service (schema ``contracts``, RULES §7).

Database constraints guard the rules that span rows (DESIGN, digitalmarketplace-api):

- ``placements.source_key`` is UNIQUE: a redelivered ``referral_awarded`` or
  ``direct_placement_recorded`` event (even under another event id) creates nothing (§7.1).
- ``variations (placement_id, uplift_id)`` is UNIQUE: an uplift is applied to a placement at
  most once (§7.2); ``uplifts (category, cost_head, effective_from)`` is UNIQUE too.
- ``publications (quarter, format)`` is the frozen package of an ended quarter (§7.5): stored
  as bytes and never rewritten, so a re-read returns the same bytes.
- ``performance_reports (establishment_id, category, period_start)`` is the claim of one
  ``performance_reviewed`` event per establishment, category and period (§7.4, §4.5).
- ``notices.notice_id`` is the Procurement Act notice's own key (``UK6:<referral_id>``,
  ``UK15:<event id>``…): a redelivered event raises no second notice (§11.4). ``markets``
  is the copy of qualification's markets (§11.2) the notices and fees (s.38) need.

Copies of other services' facts (DESIGN rule 1), fed by their events: ``providers`` (names
for publication), ``memberships`` (who runs an establishment, for block contracts),
``referral_records`` and ``declines`` (benchmarking, §7.6).

Queries are ``repository.Store``'s methods; rows map to and from ``domain`` objects in
``codecs``. Migrations (``migrations/versions``) create these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.common.tables import common_tables

metadata = MetaData(schema="contracts")
TABLES = common_tables(metadata)

ID = 100  # ids are opaque strings (UUIDs from our services; up to 100 characters)
MONEY = Numeric(14, 2)

placements = Table(
    "placements",
    metadata,
    Column("placement_id", String(ID), primary_key=True),
    Column("source_key", String(250), nullable=False, unique=True),
    Column("source", String(30), nullable=False),
    Column("source_ref", String(220), nullable=False),
    Column("authority", String(64), nullable=False),
    Column("provider_id", String(ID), nullable=False),
    Column("provider_name", String(300), nullable=False, server_default=""),
    Column("establishment_id", String(ID), nullable=False),
    Column("establishment_name", String(300), nullable=False, server_default=""),
    Column("category", String(64), nullable=False),
    Column("child_reference", Text, comment="§13 sealed under keys.data_keys[child_key_id]"),
    Column("child_key_id", String(100)),
    Column("agreed_at", DateTime(timezone=True), nullable=False),
    Column("price", JSONB, nullable=False),
    Column("awarded_weekly_price", MONEY, nullable=False),
    Column("reason_code", String(64)),
    Column("justification", Text),
    Column("block_id", String(ID), ForeignKey("contracts.block_contracts.block_id")),
    Column("bids_count", Integer),
    Column("incentive", JSONB),
    Column("desired_outcomes", JSONB, nullable=False),
    Column("monitored_components", JSONB, nullable=False),
    Column("review_interval_months", Integer, nullable=False),
    Column("start_date", Date),
    Column("status", String(20), nullable=False),
    Column("ended_on", Date),
    Column("end_reason", String(30)),
    Column("end_note", Text),
    Column("next_review_due", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # §11 (migration 0005): the market and regime, threshold, standstill, entering (s.53)
    Column("dps_id", String(ID)),
    Column("regime", String(30)),
    Column("estimated_value", Numeric(16, 2)),
    Column("above_threshold", Boolean),
    Column("standstill_ends_on", Date),
    Column("entered_on", Date),
    Index("ix_placements_authority_agreed", "authority", "agreed_at", "placement_id"),
    Index("ix_placements_provider_agreed", "provider_id", "agreed_at", "placement_id"),
    Index("ix_placements_agreed", "agreed_at", "placement_id"),
    Index("ix_placements_category_agreed", "category", "agreed_at"),
    Index("ix_placements_block", "block_id"),
    Index("ix_placements_review_due", "status", "next_review_due"),
)


def _placement_ref() -> Column:
    """The placement a row belongs to (indexed foreign key)."""
    return Column(
        "placement_id",
        String(ID),
        ForeignKey("contracts.placements.placement_id"),
        nullable=False,
        index=True,
    )


variations = Table(
    "variations",
    metadata,
    Column("variation_id", String(ID), primary_key=True),
    _placement_ref(),
    Column("effective_from", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("uplift_id", String(ID)),
    Column("data", JSONB, nullable=False),
    UniqueConstraint("placement_id", "uplift_id", name="uq_variations_placement_uplift"),
)

uplifts = Table(
    "uplifts",
    metadata,
    Column("uplift_id", String(ID), primary_key=True),
    Column("category", String(64), nullable=False),
    Column("cost_head", String(64), nullable=False),
    Column("percent", Numeric(7, 2), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("placements_uplifted", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", JSONB),
    UniqueConstraint(
        "category", "cost_head", "effective_from", name="uq_uplifts_category_head_date"
    ),
)

block_contracts = Table(
    "block_contracts",
    metadata,
    Column("block_id", String(ID), primary_key=True),
    Column("authority", String(64), nullable=False, index=True),
    Column("provider_id", String(ID), nullable=False),
    Column("provider_name", String(300), nullable=False, server_default=""),
    Column("establishment_id", String(ID), nullable=False),
    Column("establishment_name", String(300), nullable=False, server_default=""),
    Column("category", String(64), nullable=False),
    Column("places", Integer, nullable=False),
    Column("weekly_price_per_place", MONEY, nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("review_id", String(ID), primary_key=True),
    _placement_ref(),
    Column("authority", String(64), nullable=False),
    Column("establishment_id", String(ID), nullable=False),
    Column("category", String(64), nullable=False),
    Column("date", Date, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("scores", JSONB, nullable=False),
    Column("child_view", Text),
    Column("parent_view", Text),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_reviews_establishment_date", "establishment_id", "category", "date"),
    Index("ix_reviews_category_date", "category", "date"),
    Index("ix_reviews_period", "period_start"),
)

performance_reports = Table(
    "performance_reports",
    metadata,
    Column("establishment_id", String(ID), primary_key=True),
    Column("category", String(64), primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("period_end", Date, nullable=False),
    Column("performance_index", Numeric(5, 2), nullable=False),
    Column("reviews_count", Integer, nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
)

publications = Table(
    "publications",
    metadata,
    Column("quarter", String(7), primary_key=True),
    Column("format", String(10), primary_key=True),
    Column("content", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("awards_count", Integer, nullable=False),
    Column("frozen_at", DateTime(timezone=True), nullable=False),
)

providers = Table(
    "providers",
    metadata,
    Column("provider_id", String(ID), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("ppon", String(50)),  # §11.2 (migration 0005)
    Column("companies_house_number", String(20)),
)

memberships = Table(
    "memberships",
    metadata,
    Column("establishment_id", String(ID), primary_key=True),
    Column("category", String(64), primary_key=True),
    Column("provider_id", String(ID), nullable=False),
    Column("establishment_name", String(300), nullable=False),
    Column("status", String(20), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

referral_records = Table(
    "referral_records",
    metadata,
    Column("referral_id", String(ID), primary_key=True),
    Column("authority", String(64), nullable=False),
    Column("category", String(64), nullable=False),
    Column("published_at", DateTime(timezone=True)),
    Column("needs", JSONB),
    Column("bids_count", Integer),
    Column("compliant_bids_count", Integer),
    Column("awarded_at", DateTime(timezone=True)),
    Column("status", String(20)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_referral_records_category_published", "category", "published_at"),
)

declines = Table(
    "declines",
    metadata,
    Column("referral_id", String(ID), primary_key=True),
    Column("establishment_id", String(ID), primary_key=True),
    Column("authority", String(64), nullable=False),
    Column("category", String(64), nullable=False),
    Column("reason_code", String(64), nullable=False),
    Column("declined_at", DateTime(timezone=True), nullable=False),
)

markets = Table(
    "markets",
    metadata,
    Column("dps_id", String(ID), primary_key=True),
    Column("regime", String(30), nullable=False),
    Column("title", String(300), nullable=False),
    Column("description", Text),
    Column("parts", JSONB, nullable=False),
    Column("valid_from", Date),
    Column("valid_to", Date),
    Column("fee_percent", Numeric(7, 4)),
    Column("lead_authority", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("ended_on", Date),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

notices = Table(
    "notices",
    metadata,
    Column("notice_id", String(250), primary_key=True),
    Column("notice_type", String(10), nullable=False),
    Column("ocid", String(250), nullable=False),
    Column("dps_id", String(ID)),
    Column("authority", String(64)),
    Column("release", JSONB, nullable=False),
    Column("due_by", Date),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
    Column("fts_notice_id", String(50)),
    Column("published_by", JSONB),
    Column("source_event_id", String(100)),
    Index("ix_notices_type_raised", "notice_type", "raised_at"),
    Index("ix_notices_raised", "raised_at", "notice_id"),
    Index("ix_notices_due", "published_at", "due_by"),
)

anonymisation_keys = Table(
    "anonymisation_keys",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("secret", String(128), nullable=False),
)
