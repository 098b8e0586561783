"""Pure domain of the qualification service, one module per aggregate or concept.

RULES §2 categories (versioned configuration), §3 the DPS's validity and entry windows,
§4 qualification (applications, evaluation, memberships), §5 the exact eligibility check,
§7.2 uplifts of qualified core costs and §7.4 competency moves.

Nothing here reads the clock, a database or the network. Commands take ``now`` (an aware
UTC datetime) and work out the UK civil date from it (``london_date``); queries take
``today``. The aggregates are ``Application`` and ``Establishment`` (which owns its
``Membership``s). They enforce their transitions, raise ``Conflict``/``InvalidInput``
(every invalid field named, all at once) and append the events they cause, payload models
from ``messages``, to ``.events``; the handlers write those to the outbox in the same
transaction as the change.

Choices made where RULES is silent
----------------------------------
- Categories (§2, §4.1): DFE_REGISTRATION only for SEN. ALT_EDUCATION has no INSPECTION
  ("often unregulated"; the lead can add it by a settings change). SUPPORTED_ACCOMMODATION
  keeps INSPECTION (Ofsted-registered since 2023); an INSPECTION answer's judgement is
  optional everywhere, because a newly registered setting may not be inspected yet.
- Cost heads (§4.4): SEN's nine, with the two residential offers as *optional* heads;
  other categories get the common heads of the National Contracts schedules for their
  sector. Optional heads are priced add-ons and are not counted in the total weekly core
  cost that affordability caps apply to.
- Insurance minimums default to £10m employer's, £5m public and £2m professional liability
  (to be confirmed by the lead through a settings change).
- Weights are whole points summing to 100 and scores are whole numbers 0–100, so the core
  competency score is exact with at most 2 decimals (80/70/90 at 30/40/30 → 79.00).
  A competency move is computed exactly and rounded half up to 2 decimals.
- Working days (§4.3): Monday–Friday except bank holidays of England and Wales (the union
  of both, identical today). The due date is the 10th working day after the UK date of
  submission (15th when extended once, with a reason); overdue from the day after.
- Evidence ``expires_on`` is the first day the evidence no longer holds: reminders go out
  from 30 days before; on that day an unrenewed item suspends the membership.
- Organisation-level answers (reused by a copy, §4): EXCLUSIONS, FINANCIAL, INSURANCE
  (a group policy), COMPLIANCE, SAFEGUARDING, DATA_PROTECTION, the method statements,
  additional services and cohort discounts. Establishment-level (left for the copy to
  fill in): INSPECTION, DFE_REGISTRATION and the core costs.
- One open (draft or submitted) application and one current (admitted or suspended)
  membership per establishment and category; after a rejection or a removal the
  establishment may apply again (a DPS never shuts anyone out for good).
- At decision the domain adds failures the lead cannot pass: insurance cover below the
  minimum, an INADEQUATE latest judgement, evidence expired by the decision date and the
  common affordability cap (``AFFORDABILITY``).
- A membership can fail several criteria at once; reinstatement accepts a resubmission
  for every one of them together.
- Uplifts (§7.2) apply to admitted and suspended memberships, per head, rounded half up to
  the penny, in effective-date order; a membership admitted after the effective date keeps
  its qualified prices.
- Eligibility (§5): great-circle distance on a sphere of radius 3958.8 miles (the mean
  Earth radius), inside when ``distance <= radius``; only the authority's own cap applies
  (the common cap is checked at admission).
- Timers (§4.5, DESIGN rule 4): ``Membership.next_check`` is the first day the timer has
  something to do for a membership (a reminder 30 days before an expiry, the expiry, the
  re-verification due date); the store indexes it. A due re-verification is flagged once
  per due date (``reverification_due`` event); the lead then records the re-check.
- An establishment's location and categories are fixed after registration (referral
  snapshots and distances rely on them); name, address, capacity and contacts can change.
- Markets (§11.1, issue 14): the DPS of before is ``dps-1`` (PCR 2015), the default
  market that ``GET /dps`` shows and that applications go to when they name none. A PCR
  DPS's last day is 23 February 2029 whatever its stored period; ending a market early is
  not a change of its period. Under the Act INSURANCE is not a condition of membership
  (s.36(2)): it is left out of completeness, decision and the evidence timer's suspensions
  and checked at award; the other §4.1 criteria stay (FINANCIAL judges risk, it does not
  require audited accounts). The conditions frozen by s.36(7) are the pass/fail criteria,
  insurance minimums and cost heads; weights, caps, tender settings are not conditions.
  A notice of intended removal (s.37(4)) suspends for ``REMOVAL_NOTICE``; the lead then
  removes, or reinstates (withdrawing it).
Modules
-------
``vocabulary`` (literals and fixed numbers), ``problems`` (InvalidInput collection),
``calendar`` (UK dates, working days, §4.3), ``geo`` (§5 distances), ``categories`` (§2),
``dps`` (§3), ``markets`` (§11.1, §11.2: several DPSs and dynamic markets), ``content``
(application answers, §4.1–§4.4), ``decisions`` (§4.2, §4.3,
§7.4 scores), ``applications`` (the Application aggregate), ``membership`` (§4.5),
``establishment`` (the Establishment aggregate, with its mixins ``establishment_commands``
and ``establishment_changes``), ``eligibility`` (§5). Everything public is re-exported
here, so callers write ``from services.qualification import domain as d``.
"""

from __future__ import annotations

from services.qualification.domain.applications import (
    APPLICATION_MACHINE,
    APPLICATION_TRANSITIONS,
    OPEN_APPLICATION_STATES,
    Application,
    ApplicationStatus,
    copy_application,
    open_application,
)
from services.qualification.domain.calendar import (
    add_months,
    add_working_days,
    bank_holidays,
    is_working_day,
    london_date,
)
from services.qualification.domain.categories import (
    DEFAULT_INSURANCE_MINIMUMS,
    DEFAULT_REFERRAL_WEIGHTS,
    DEFAULT_WEIGHTS,
    CategoryConfig,
    apply_settings_change,
    default_category_configs,
    total_weekly_core_cost,
)
from services.qualification.domain.content import (
    AdditionalService,
    ApplicationContent,
    CohortTier,
    Contact,
    CriterionAnswer,
    InspectionJudgement,
    insurance_shortfalls,
)
from services.qualification.domain.decisions import (
    CriterionResult,
    Decision,
    DecisionOutcome,
    competency_score,
    moved_competency,
)
from services.qualification.domain.dps import (
    DpsSettings,
    apply_dps_change,
)
from services.qualification.domain.eligibility import (
    eligible,
)
from services.qualification.domain.establishment import (
    Establishment,
)
from services.qualification.domain.establishment_changes import (
    TimedChanges,
)
from services.qualification.domain.establishment_commands import (
    MembershipCommands,
)
from services.qualification.domain.geo import (
    GeoPoint,
    bounding_box,
    haversine_miles,
)
from services.qualification.domain.markets import (
    FIRST_DPS_ID,
    PA2023,
    PCR2015,
    Market,
    Part,
    check_frozen_conditions,
    check_period_change,
    check_ppon,
    new_market,
    regime_config,
)
from services.qualification.domain.membership import (
    CURRENT_MEMBERSHIP_STATES,
    MEMBERSHIP_MACHINE,
    MEMBERSHIP_TRANSITIONS,
    CompetencyMove,
    CostEntry,
    Membership,
    MembershipState,
    Milestone,
)
from services.qualification.domain.vocabulary import (
    AFFORDABILITY,
    CATEGORIES,
    EARTH_RADIUS_MILES,
    ESTABLISHMENT_CRITERIA,
    EVALUATION_WORKING_DAYS,
    EXPIRY_REQUIRED,
    EXTENDED_EVALUATION_WORKING_DAYS,
    INSPECTION,
    INSPECTION_BODIES,
    INSPECTION_GRADES,
    INSURANCE,
    INSURANCE_COVERS,
    MAX_COMPETENCY_MOVE,
    PARTNER_AUTHORITIES,
    PASS_FAIL_CRITERIA,
    REFERRAL_WEIGHT_KEYS,
    REMINDER_DAYS,
    WEIGHTED_CRITERIA,
    new_id,
)

__all__ = [
    "CATEGORIES",
    "PASS_FAIL_CRITERIA",
    "WEIGHTED_CRITERIA",
    "INSURANCE_COVERS",
    "INSPECTION_BODIES",
    "INSPECTION_GRADES",
    "REFERRAL_WEIGHT_KEYS",
    "PARTNER_AUTHORITIES",
    "INSURANCE",
    "INSPECTION",
    "AFFORDABILITY",
    "ESTABLISHMENT_CRITERIA",
    "EXPIRY_REQUIRED",
    "EVALUATION_WORKING_DAYS",
    "EXTENDED_EVALUATION_WORKING_DAYS",
    "REMINDER_DAYS",
    "EARTH_RADIUS_MILES",
    "MAX_COMPETENCY_MOVE",
    "new_id",
    "london_date",
    "add_months",
    "bank_holidays",
    "is_working_day",
    "add_working_days",
    "GeoPoint",
    "haversine_miles",
    "bounding_box",
    "DEFAULT_WEIGHTS",
    "DEFAULT_REFERRAL_WEIGHTS",
    "DEFAULT_INSURANCE_MINIMUMS",
    "CategoryConfig",
    "default_category_configs",
    "apply_settings_change",
    "total_weekly_core_cost",
    "DpsSettings",
    "apply_dps_change",
    "FIRST_DPS_ID",
    "PA2023",
    "PCR2015",
    "Market",
    "Part",
    "check_frozen_conditions",
    "check_period_change",
    "check_ppon",
    "new_market",
    "regime_config",
    "Contact",
    "InspectionJudgement",
    "CriterionAnswer",
    "AdditionalService",
    "CohortTier",
    "insurance_shortfalls",
    "ApplicationContent",
    "competency_score",
    "moved_competency",
    "CriterionResult",
    "Decision",
    "DecisionOutcome",
    "APPLICATION_MACHINE",
    "APPLICATION_TRANSITIONS",
    "ApplicationStatus",
    "OPEN_APPLICATION_STATES",
    "Application",
    "open_application",
    "copy_application",
    "MEMBERSHIP_MACHINE",
    "MEMBERSHIP_TRANSITIONS",
    "MembershipState",
    "CURRENT_MEMBERSHIP_STATES",
    "Milestone",
    "CostEntry",
    "CompetencyMove",
    "Membership",
    "MembershipCommands",
    "TimedChanges",
    "Establishment",
    "eligible",
]
