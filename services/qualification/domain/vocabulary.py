"""The vocabularies of the published language and the fixed numbers of RULES (§2, §4.3, §4.5,
§5), and new ids.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import get_args

from services.qualification import messages as m

# --- vocabularies -----------------------------------------------------------------------

CATEGORIES: tuple[str, ...] = get_args(m.CategoryCode)
PASS_FAIL_CRITERIA: tuple[str, ...] = get_args(m.CriterionCode)
WEIGHTED_CRITERIA: tuple[str, ...] = get_args(m.WeightedCriterion)
INSURANCE_COVERS: tuple[str, ...] = get_args(m.InsuranceCoverKind)
INSPECTION_BODIES: tuple[str, ...] = get_args(m.InspectionBody)
INSPECTION_GRADES: tuple[str, ...] = get_args(m.InspectionGrade)
REFERRAL_WEIGHT_KEYS: tuple[str, ...] = get_args(m.ReferralWeightKey)
PARTNER_AUTHORITIES = ("BHCC", "ESCC", "ECC", "KCC", "MED", "SCC", "WSCC")
"""The founding partners (§1). Associates may join: callers pass the current list."""

INSURANCE, INSPECTION = "INSURANCE", "INSPECTION"
AFFORDABILITY = "AFFORDABILITY"
"""The failure code of the common affordability cap (§4.4); not a configurable criterion."""
ESTABLISHMENT_CRITERIA = frozenset({INSPECTION, "DFE_REGISTRATION"})
EXPIRY_REQUIRED = frozenset({INSURANCE})
EVALUATION_WORKING_DAYS = 10
EXTENDED_EVALUATION_WORKING_DAYS = 15
REMINDER_DAYS = 30
EARTH_RADIUS_MILES = 3958.8
MAX_COMPETENCY_MOVE = Decimal(10)
_CENT = Decimal("0.01")
_HEAD_NAME = re.compile(r"[a-z][a-z0-9_]{0,59}")
_COVER_NAMES = {
    "employers_liability": "employer's liability",
    "public_liability": "public liability",
    "professional_liability": "professional liability",
}


def new_id() -> str:
    return str(uuid.uuid4())

