"""Free text that looks like a child's personal data (RULES §13): needs, features and
desired outcomes reach every invited provider in the anonymised profile (§5), so the
platform warns the commissioner when one of them appears to hold a name or a date of
birth. A warning, never a refusal: "born prematurely" or "Mrs Smith's school" can be
right, and only the commissioner knows.

What counts as looking like it:
- a date: ``12/03/2014``, ``12-3-14``, ``2014-03-12``, ``12 March 2014``, ``March 12th 2014``;
- the words "born" / "DOB" / "date of birth" / "d.o.b." followed by anything;
- any name of the referral's own children (each part of two letters or more, as a word);
- a title followed by a capitalised word (``Mr Jones``, ``Miss A. Patel``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from services.referral.messages import PersonalDataWarning

_MONTHS = ("jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|"
           "sep(t(ember)?)?|oct(ober)?|nov(ember)?|dec(ember)?")
_DATE = re.compile(
    r"\b(\d{1,2}[/.-]\d{1,2}[/.-](\d{4}|\d{2})"  # 12/03/2014, 12.3.14
    r"|\d{4}-\d{1,2}-\d{1,2}"  # 2014-03-12
    rf"|\d{{1,2}}(st|nd|rd|th)?\s+({_MONTHS})\.?,?\s+\d{{4}}"  # 12 March 2014
    rf"|({_MONTHS})\.?\s+\d{{1,2}}(st|nd|rd|th)?,?\s+\d{{4}})\b",  # March 12th, 2014
    re.IGNORECASE)
_BIRTH = re.compile(r"\b(d\.?o\.?b\.?|date of birth|born)\b", re.IGNORECASE)
_TITLED = re.compile(r"\b(Mr|Mrs|Ms|Miss|Mx|Master)\.?\s+[A-Z][a-z'-]*\b")

DATE = "looks like a date, perhaps a date of birth"
BIRTH = "mentions a birth or date of birth"
CHILD_NAME = "contains the name of a child of this referral"
TITLED_NAME = "looks like a person's name"


def _name_parts(names: Iterable[str | None]) -> set[str]:
    return {part.lower() for name in names if name
            for part in re.findall(r"[^\W\d_][^\W\d_'-]*", name) if len(part) >= 2}


def _why(text: str, name_parts: set[str]) -> str | None:
    if _DATE.search(text):
        return DATE
    if _BIRTH.search(text):
        return BIRTH
    words = {w.lower() for w in re.findall(r"[^\W\d_][^\W\d_'-]*", text)}
    if words & name_parts:
        return CHILD_NAME
    if _TITLED.search(text):
        return TITLED_NAME
    return None


def warnings_for(spec) -> list[PersonalDataWarning]:
    """The free-text fields of a referral spec (``messages.ReferralCreate``) that look like
    personal data, each with its location and why (§13)."""
    name_parts = _name_parts(c.name for c in spec.children)
    fields: list[tuple[list[str | int], str]] = [
        *((["needs", i, "label"], n.label) for i, n in enumerate(spec.needs)),
        *((["features", i, "label"], f.label) for i, f in enumerate(spec.features)),
        *((["desired_outcomes", i], o) for i, o in enumerate(spec.desired_outcomes)),
    ]
    found = []
    for loc, text in fields:
        reason = _why(text, name_parts)
        if reason:
            found.append(PersonalDataWarning(field=loc, reason=reason))
    return found
