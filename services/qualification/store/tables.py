"""Table declarations of the qualification schema (RULES §2–§4, §7.2).

Aggregates (``domain.Establishment`` with its memberships, ``domain.Application``) are
loaded and saved by the repositories of this package; the database guards the rules that span rows
(DESIGN: digitalmarketplace-api):

- one open (draft or submitted) application per establishment, category and market, and
  one current (admitted or suspended) membership per establishment, category and market
  (RULES §11.1: a member of a PCR DPS and of its successor dynamic market at once):
  partial unique indexes;
- history is append-only: milestones, inspections, prices (RULES §7.2) and competency
  moves (§4.5, §7.4) are only ever inserted;
- commands lock the establishment row (``FOR UPDATE``), so one establishment's
  memberships change one command at a time; timers skip locked rows (DESIGN rule 4).

Eligibility (RULES §5) has no PostGIS: memberships carry a copy of their establishment's
location, a partial B-tree index on ``(category, lat, lon)`` of admitted memberships
serves the domain's bounding box, and the exact great-circle check is the domain's.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from services.common.tables import common_tables

metadata = MetaData(schema="qualification")
TABLES = common_tables(metadata)

OPEN_STATES = ("draft", "submitted")
CURRENT_STATES = ("admitted", "suspended")

providers = Table(
    "providers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("companies_house_number", String(8)),
    Column("ppon", String(14), comment="GB-PPON identifier (RULES §11.2)"),
    Column("contact_email", String(320), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# --- the DPS and its categories (§2, §3) ---------------------------------------------------

markets = Table(
    "markets",
    metadata,
    Column("dps_id", String(64), primary_key=True),
    Column("regime", String(30), nullable=False),
    Column("title", String(300), nullable=False),
    Column("description", Text),
    Column("parts", JSONB, nullable=False),
    Column("fee_percent", Numeric(6, 3)),
    Column("lead_authority", String(20), nullable=False),
    Column("state", String(20), nullable=False),
    Column("established_on", Date),
    Column("ended_on", Date),
    Column("migrated_from", String(64)),
    Column("is_default", Boolean, nullable=False, server_default=text("false")),
    Column("warnings_sent", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("regime IN ('PCR2015_DPS', 'PA2023_DYNAMIC_MARKET')", name="market_regime"),
    CheckConstraint("state IN ('planned', 'established', 'ended')", name="market_state"),
    Index("uq_markets_default", "is_default", unique=True, postgresql_where=text("is_default")),
)
"""Every DPS and dynamic market (RULES §11.1); ``dps-1`` is the DPS of before."""

dps_settings = Table(
    "market_settings",
    metadata,
    Column("dps_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("entry_open", Boolean, nullable=False),
    Column("closed_from", Date, comment="scheduled closure of entry from (§3)"),
    Column("closed_until", Date, comment="entry reopens by itself on (§3)"),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", JSONB),
    CheckConstraint("valid_to >= valid_from", name="dps_settings_period"),
    CheckConstraint(
        "(closed_from IS NULL) = (closed_until IS NULL) AND "
        "(closed_until IS NULL OR closed_until > closed_from)",
        name="dps_settings_closure",
    ),
)
"""Every version of each market's settings (RULES §3); the highest is in force."""

category_configs = Table(
    "category_configs",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("config", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", JSONB),
)
"""Every version of every category's configuration (RULES §2); an application keeps the
version in force when it was submitted."""


def _child(name: str, *columns: Column, parent: str = "memberships", **kw) -> Table:
    """A table of ``parent``'s rows (``<parent>_id`` in its primary key, deleted with it)."""
    key = f"{parent.removesuffix('s')}_id"
    return Table(
        name,
        metadata,
        Column(
            key,
            String(36),
            ForeignKey(f"qualification.{parent}.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        *columns,
        **kw,
    )


# --- establishments (§4) ----------------------------------------------------------------------

establishments = Table(
    "establishments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("provider_id", String(64), nullable=False, index=True),
    Column("name", String(300), nullable=False),
    Column("urn", String(10)),
    Column("address", Text, nullable=False),
    Column("postcode", String(10), nullable=False),
    Column("lat", Double, nullable=False),
    Column("lon", Double, nullable=False),
    Column("categories", ARRAY(String(40)), nullable=False),
    Column("capacity", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="est_location"),
    Index("ix_establishments_lat_lon", "lat", "lon"),
)

establishment_contacts = _child(
    "establishment_contacts",
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("name", String(300), nullable=False),
    Column("email", String(320), nullable=False),
    Column("phone", String(30)),
    Column("sms_opt_in", Boolean, nullable=False),
    parent="establishments",
)

inspections = _child(
    "inspections",
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("body", String(10), nullable=False),
    Column("grade", String(30), nullable=False),
    Column("date", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    parent="establishments",
)
"""Regulator judgements in the order recorded (RULES §4.1); append-only."""

# --- applications (§4.3) ---------------------------------------------------------------------

applications = Table(
    "applications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "establishment_id",
        String(36),
        ForeignKey("qualification.establishments.id"),
        nullable=False,
    ),
    Column("provider_id", String(64), nullable=False),
    Column("category", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("content", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("copied_from", String(36)),
    Column("config_version", Integer),
    Column("submitted_at", DateTime(timezone=True)),
    Column("due_on", Date),
    Column("extension_reason", Text),
    Column("decision", JSONB),
    Column("decided_at", DateTime(timezone=True)),
    Column("dps_id", String(64), nullable=False, server_default="dps-1"),
    Column("exclusion_check", JSONB, comment="debarment-list and exclusion check (§11.2)"),
    CheckConstraint(
        "status IN ('draft', 'submitted', 'admitted', 'rejected')", name="application_status"
    ),
    Index(
        "uq_applications_open",
        "establishment_id",
        "category",
        "dps_id",
        unique=True,
        postgresql_where=text("status IN ('draft', 'submitted')"),
    ),
    Index("ix_applications_provider", "provider_id", "created_at"),
    Index("ix_applications_due", "due_on", postgresql_where=text("status = 'submitted'")),
)

# --- memberships (§4.5) ----------------------------------------------------------------------

memberships = Table(
    "memberships",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "establishment_id",
        String(36),
        ForeignKey("qualification.establishments.id"),
        nullable=False,
        index=True,
    ),
    Column("category", String(40), nullable=False),
    Column(
        "application_id",
        String(36),
        ForeignKey("qualification.applications.id"),
        nullable=False,
    ),
    Column("state", String(20), nullable=False),
    Column("admitted_on", Date, nullable=False),
    Column("competency", Numeric(5, 2), nullable=False),
    Column("scores", JSONB, nullable=False),
    Column("reverification_due_on", Date, nullable=False),
    Column("reverification_flagged", Date),
    Column("cohort_discounts", JSONB, nullable=False),
    Column("additional_services", JSONB, nullable=False),
    Column("reminded", JSONB, nullable=False),
    Column("lat", Double, nullable=False),
    Column("lon", Double, nullable=False),
    Column("next_check", Date),
    Column("dps_id", String(64), nullable=False, server_default="dps-1"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("state IN ('admitted', 'suspended', 'removed')", name="membership_state"),
    CheckConstraint("competency BETWEEN 0 AND 100", name="membership_competency"),
    Index(
        "uq_memberships_current",
        "establishment_id",
        "category",
        "dps_id",
        unique=True,
        postgresql_where=text("state IN ('admitted', 'suspended')"),
    ),
    Index(
        "ix_memberships_eligible",
        "category",
        "lat",
        "lon",
        postgresql_where=text("state = 'admitted'"),
    ),
    Index(
        "ix_memberships_next_check",
        "next_check",
        postgresql_where=text("state IN ('admitted', 'suspended')"),
    ),
)
"""One row per membership; ``lat``/``lon`` copy the establishment's location (fixed after
registration) for the eligibility index; ``next_check`` drives the evidence timer."""


membership_evidence = _child(
    "membership_evidence",
    Column("criterion", String(40), primary_key=True),
    Column("answer", JSONB, nullable=False),
    Column("expires_on", Date, index=True),
)
"""The evidence in force per criterion (RULES §4.1, §4.5), with its expiry."""

membership_milestones = _child(
    "membership_milestones",
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(30), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("by", String(20), nullable=False),
    Column("criterion", String(40)),
    Column("reason", Text),
    Column("answer", JSONB),
)
"""A membership's dated history (RULES §4.5); append-only."""

membership_costs = _child(
    "membership_costs",
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("head", String(60), nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("reason", Text, nullable=False),
    Column("uplift_id", String(100)),
    CheckConstraint("amount >= 0", name="membership_cost_amount"),
)
"""Price history of the qualified core costs (RULES §4.4, §7.2); append-only."""

competency_moves = _child(
    "competency_moves",
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("performance_index", Numeric(6, 2), nullable=False),
    Column("reviews_count", Integer, nullable=False),
    Column("old", Numeric(5, 2), nullable=False),
    Column("new", Numeric(5, 2), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
"""Every move of the core competency score with its reason (RULES §4.5, §7.4)."""

uplifts = Table(
    "uplifts",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("category", String(40), nullable=False),
    Column("cost_head", String(64), nullable=False),
    Column("percent", Numeric(7, 3), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("applied", JSONB, nullable=False),
    Column("skipped", JSONB, nullable=False),
)
"""Uplifts applied (RULES §7.2), by the contracts service's uplift id: applied once."""


lead_digests = Table(
    "lead_digests",
    metadata,
    Column("day", Date, primary_key=True, comment="London date of the digest"),
    Column("sent_at", DateTime(timezone=True), nullable=False),
)
"""One row per day the lead's digest went (RULES §8, issue 13): it goes once a day."""


evidence_documents = Table(
    "evidence_documents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("application_id", String(36), nullable=False, index=True),
    Column("provider_id", String(36), nullable=False),
    Column("criterion", String(64), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)
"""Evidence files for pass/fail criteria (§4, issue 12): no child data, kept in clear."""
