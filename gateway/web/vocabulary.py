"""The published language's vocabularies as the portal shows them: derived from the
qualification service's ``messages.py`` Literal types (as its ``domain/vocabulary.py``
does), so that a new category or criterion needs no copy here (RULES §2, §4.1, §4.2, §6.1).
``WEIGHT_NAMES`` is a Jinja global (``weight_names``) for every page that names a weight."""

from __future__ import annotations

from typing import get_args

from services.qualification import messages as qm

CATEGORIES: tuple[str, ...] = get_args(qm.CategoryCode)
PASS_FAIL_CRITERIA: tuple[str, ...] = get_args(qm.CriterionCode)
WEIGHTED_CRITERIA: tuple[str, ...] = get_args(qm.WeightedCriterion)
INSURANCE_COVERS: tuple[str, ...] = get_args(qm.InsuranceCoverKind)
WEIGHT_KEYS: tuple[str, ...] = get_args(qm.ReferralWeightKey)
_NAMES = {"P": "Price", "C": "Core competency", "L": "Location", "O": "Outcomes",
          "N": "Needs", "F": "Features"}
WEIGHT_NAMES: dict[str, str] = {k: _NAMES.get(k, k) for k in WEIGHT_KEYS}
"""§6.1's award criteria, P C L O N F, in the published order."""
