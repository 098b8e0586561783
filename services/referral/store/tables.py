"""Table declarations of the referral service (schema ``referral``).

The ``Referral`` aggregate is stored across one row per referral and one row per part:
invitations with their snapshot, bids, outcome scores, questions, declines, the evaluation
result, the parents' choice and the award. Database constraints guard the rules that span
rows (DESIGN "digitalmarketplace-api"):

- one invitation per establishment and referral (primary key);
- **one live bid per establishment** and referral (partial unique index on
  ``status = 'submitted'``), a bid only from an invited establishment (foreign key);
- one decline per establishment and referral; one score per evaluator and bid;
- one evaluation (with one row of inputs per bid), one parents' choice and one award per
  referral; a placement id is used once (awards and direct placements).

Child personal data (RULES §13) is in ``referrals.child_data`` only, sealed under the
referral's data key (``services.common.crypto``); ``spec`` holds the rest of the record.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.common.tables import common_tables

metadata = MetaData(schema="referral")
TABLES = common_tables(metadata)

ID = String(36)

referrals = Table(
    "referrals",
    metadata,
    Column("id", ID, primary_key=True),
    Column("authority", String(20), nullable=False),
    Column("category", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("spec", JSONB, nullable=False, comment="the record without child personal data"),
    Column("child_data", Text, comment="§13 personal data, AES-GCM under keys.data_keys[id]"),
    Column("child_index", String(64), comment="§13 blind index of authority + reference"),
    Column("personal_data", String(10), nullable=False, server_default="held"),
    Column("legal_hold", Text, comment="§13 reason of a legal hold blocking erasure"),
    Column("placement_ended_on", Date, comment="§13 retention starts when the placement ends"),
    Column("weights", JSONB, nullable=False),
    Column("min_invited", Integer, nullable=False),
    Column("radius_miles", Float, nullable=False),
    Column("deadline", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("evaluated_at", DateTime(timezone=True)),
    Column("awarded_at", DateTime(timezone=True)),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("cancel_reason", Text),
    Column("procurement", JSONB, comment="§11.1, §11.3: market, regime, value, standstill"),
    Index("ix_referrals_authority_created", "authority", "created_at", "id"),
    Index("ix_referrals_child_index", "child_index"),
    # the deadline timer's scan (§5): published referrals by deadline
    Index(
        "ix_referrals_due",
        "deadline",
        postgresql_where=text("status = 'published'"),
    ),
)

invitations = Table(
    "invitations",
    metadata,
    Column("referral_id", ID, ForeignKey("referral.referrals.id"), primary_key=True),
    Column("establishment_id", ID, primary_key=True),
    Column("provider_id", ID, nullable=False),
    Column("name", String(300), nullable=False),
    # the snapshot taken at invitation (§5, DESIGN rule 1)
    Column("distance_miles", Numeric, nullable=False),
    Column("competency", Numeric, nullable=False),
    Column("core_costs", JSONB, nullable=False),
    Column("cohort_discounts", JSONB, nullable=False),
    Column("additional_services", JSONB, nullable=False, server_default="[]",
           comment="the qualified additional services at invitation (§4.4)"),
    Column("contacts", JSONB, nullable=False),
    Column("invited_at", DateTime(timezone=True), nullable=False),
    Column("suspended_reason", Text),
    Index("ix_invitations_provider", "provider_id", "referral_id"),
    Index("ix_invitations_establishment", "establishment_id"),
)

bids = Table(
    "bids",
    metadata,
    Column("id", ID, primary_key=True),
    Column("referral_id", ID, nullable=False),
    Column("establishment_id", ID, nullable=False),
    Column("provider_id", ID, nullable=False),
    Column("status", String(20), nullable=False),
    Column("terms", JSONB, nullable=False),
    Column("price", JSONB, nullable=False),
    Column("weekly_price", Numeric(12, 2), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("withdrawn_reason", Text),
    # the establishment's membership at the deadline (§6.2, §6.3 C), recorded at close
    Column("standing_admitted", Boolean),
    Column("standing_competency", Numeric),
    ForeignKeyConstraint(
        ["referral_id", "establishment_id"],
        ["referral.invitations.referral_id", "referral.invitations.establishment_id"],
    ),
    Index("ix_bids_referral", "referral_id"),
    # §5: one live bid per establishment and referral
    Index(
        "uq_bids_one_live",
        "referral_id",
        "establishment_id",
        unique=True,
        postgresql_where=text("status = 'submitted'"),
    ),
)

outcome_scores = Table(
    "outcome_scores",
    metadata,
    Column("bid_id", ID, ForeignKey("referral.bids.id"), primary_key=True),
    Column("evaluator", String(200), primary_key=True),
    Column("referral_id", ID, nullable=False, index=True),
    Column("score", Integer, nullable=False),
)

questions = Table(
    "questions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("referral_id", ID, nullable=False, index=True),
    Column("establishment_id", ID, nullable=False),
    Column("provider_id", ID, nullable=False),
    Column("text", Text, nullable=False),
    Column("asked_at", DateTime(timezone=True), nullable=False),
    Column("answer", Text),
    Column("published_text", Text),
    Column("answered_at", DateTime(timezone=True)),
    ForeignKeyConstraint(
        ["referral_id", "establishment_id"],
        ["referral.invitations.referral_id", "referral.invitations.establishment_id"],
    ),
)

declines = Table(
    "declines",
    metadata,
    Column("referral_id", ID, primary_key=True),
    Column("establishment_id", ID, primary_key=True),
    Column("provider_id", ID, nullable=False),
    Column("reason_code", String(64), nullable=False),
    Column("note", Text),
    Column("declined_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["referral_id", "establishment_id"],
        ["referral.invitations.referral_id", "referral.invitations.establishment_id"],
    ),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("referral_id", ID, ForeignKey("referral.referrals.id"), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("ranking", JSONB, nullable=False),
    Column("shortlist", JSONB, nullable=False),
    Column("evaluated_at", DateTime(timezone=True), nullable=False),
    # as applied (issue 15); null for evaluations recorded before
    Column("formula_version", String(20)),
    Column("weights", JSONB),
    Column("lowest_price", Numeric(12, 2)),
)

evaluation_inputs = Table(
    "evaluation_inputs",
    metadata,
    Column("bid_id", ID, ForeignKey("referral.bids.id"), primary_key=True),
    Column("referral_id", ID, ForeignKey("referral.evaluations.referral_id"), nullable=False,
           index=True),
    Column("compliant", Boolean, nullable=False),
    Column("weekly_price", Numeric(12, 2), nullable=False, comment="after the cohort discount"),
    Column("competency", Numeric, nullable=False, comment="at the deadline"),
    Column("distance_miles", Numeric, nullable=False, comment="full precision"),
    Column("outcome_scores", JSONB, nullable=False, comment="each evaluator's, as strings"),
    Column("needs_marks_met", Integer, nullable=False),
    Column("needs_marks_total", Integer, nullable=False),
    Column("desirable_marks_met", Integer, nullable=False),
    Column("desirable_marks_total", Integer, nullable=False),
    Column("final_submission_at", DateTime(timezone=True), nullable=False),
    comment="each bid's §6.3 inputs as applied at evaluation, never recomputed (issue 15)",
)

parent_choices = Table(
    "parent_choices",
    metadata,
    Column("referral_id", ID, ForeignKey("referral.referrals.id"), primary_key=True),
    Column("bid_id", ID, ForeignKey("referral.bids.id"), nullable=False),
    Column("reason", Text),
)

awards = Table(
    "awards",
    metadata,
    Column("referral_id", ID, ForeignKey("referral.referrals.id"), primary_key=True),
    Column("bid_id", ID, ForeignKey("referral.bids.id"), unique=True),
    Column("placement_id", ID, nullable=False, unique=True),
    Column("awarded_at", DateTime(timezone=True), nullable=False),
    Column("block_id", ID, comment="placed into a free place of this block (§7.3)"),
    CheckConstraint("(bid_id IS NULL) <> (block_id IS NULL)", name="ck_awards_bid_or_block"),
)

direct_placements = Table(
    "direct_placements",
    metadata,
    Column("id", ID, primary_key=True),
    Column("placement_id", ID, nullable=False, unique=True),
    Column("authority", String(20), nullable=False),
    Column("category", String(40), nullable=False),
    Column("establishment_id", ID, nullable=False),
    Column("provider_id", ID, nullable=False),
    Column("reason_code", String(64), nullable=False),
    Column("justification", Text, nullable=False),
    Column("weekly_price", Numeric(12, 2), nullable=False),
    Column("child_data", Text, comment="§13 child reference, sealed under placement_id's key"),
    Column("child_index", String(64), index=True, comment="§13 blind index"),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("procurement", JSONB, comment="§11.1 market and regime; user choice (Sched 5)"),
    Column("placement_ended_on", Date, comment="§13 retention starts when the placement ends"),
    Column("legal_hold", Text, comment="§13 reason of a legal hold blocking erasure"),
    Index("ix_direct_placements_authority", "authority", "recorded_at"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("referral_id", ID, ForeignKey("referral.referrals.id"), nullable=False, index=True),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", Text, comment="§13 AES-GCM under the referral's data key"),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)
"""Documents a commissioner attaches to a referral (an EHCP, a care plan): child data,
sealed under the referral's key, so erasing the referral erases them too (§13)."""

PARTS = (
    invitations,
    bids,
    outcome_scores,
    questions,
    declines,
    evaluations,
    evaluation_inputs,
    parent_choices,
    awards,
)
"""The aggregate's tables other than ``referrals``, in foreign-key order."""


def pk(table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.primary_key.columns)


ORDER = {
    "invitations": (invitations.c.invited_at, invitations.c.establishment_id),
    "bids": (bids.c.submitted_at, bids.c.id),
    "outcome_scores": (outcome_scores.c.bid_id, outcome_scores.c.evaluator),
    "questions": (questions.c.asked_at, questions.c.id),
    "declines": (declines.c.declined_at, declines.c.establishment_id),
    "evaluations": (evaluations.c.referral_id,),
    "evaluation_inputs": (evaluation_inputs.c.bid_id,),
    "parent_choices": (parent_choices.c.referral_id,),
    "awards": (awards.c.referral_id,),
}
"""The order in which each part's rows are read back (so an aggregate loads the same way)."""
