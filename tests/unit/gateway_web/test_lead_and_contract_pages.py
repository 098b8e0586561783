"""Pure parts of the lead's and the contract manager's portal pages (issue 11): the
benchmark charts as inline SVG fit for the portal's strict CSP and for screen readers
(RULES §7.6, §12 WCAG 2.2 AA), and the forms that turn into DPS (§3) and category (§2)
changes, leaving out what is unchanged so that an untouched form makes no new version."""

from __future__ import annotations

import re
from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from gateway.web import charts
from gateway.web.pages import FormInvalid
from gateway.web.views import benchmarks, categories, dps_settings

BOX = {"label": "SEN", "count": 4, "min": "100.00", "lower_quartile": "200.00",
       "median": "300.00", "upper_quartile": "400.00", "max": "900.00"}


def test_a_box_plot_is_inline_svg_without_any_css_named_by_its_title():
    svg = str(charts.cost_boxes("chart-cost", [BOX, {"label": "RESIDENTIAL", "median": None,
                                                      "count": 0}]))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert 'aria-labelledby="chart-cost-title chart-cost-desc"' in svg
    assert '<title id="chart-cost-title">Weekly cost of placements by category</title>' in svg
    assert "SEN: median £300.00, quartiles £200.00 to £400.00" in svg  # the numbers, said
    assert "RESIDENTIAL" not in svg  # no placement: no box
    # style-src 'self' blocks inline CSS: none is left, presentation attributes instead
    assert "<style" not in svg and " style=" not in svg
    assert 'fill="#d2e2f1"' in svg
    ids = re.findall(r' id="([^"]+)"', svg)
    assert ids and all(i.startswith("chart-cost-") for i in ids)
    assert len(ids) == len(set(ids))
    for ref in re.findall(r'(?:href="#|url\(#)([^")]+)', svg):
        assert ref in ids  # every reference still points at its element


def test_two_charts_on_one_page_share_no_id():
    one = str(charts.cost_boxes("chart-a", [BOX]))
    two = str(charts.cost_boxes("chart-b", [BOX]))
    assert not set(re.findall(r' id="([^"]+)"', one)) & set(re.findall(r' id="([^"]+)"', two))


def test_a_line_over_months_leaves_gaps_and_nothing_to_draw_gives_no_chart():
    svg = str(charts.over_time("chart-time", "Time to place", "Days (median)",
                               [("2026-01", None), ("2026-02", "3.50"), ("2026-03", "2.00")]))
    assert "Feb 2026: 3.5; Mar 2026: 2" in svg and "Jan 2026" not in svg.split("<desc")[1][:200]
    assert charts.over_time("x", "t", "Days", [("2026-01", None)]) is None
    assert charts.cost_boxes("x", [{"label": "SEN", "median": None, "count": 0}]) is None


def test_the_twelve_months_to_a_day_run_oldest_first_across_the_new_year():
    months = benchmarks.month_starts(date(2026, 2, 14))
    assert months[0] == date(2025, 3, 1) and months[-1] == date(2026, 2, 1)
    assert len(months) == 12
    assert benchmarks.month_end(date(2028, 2, 1)) == date(2028, 2, 29)


def test_dps_forms_become_patches_of_only_what_they_change():
    form = MultiDict({"valid_from": "2026-01-01", "valid_to": "2030-12-31"})
    assert dps_settings.patch_for("period", form) == {"valid_from": "2026-01-01",
                                                       "valid_to": "2030-12-31"}
    assert dps_settings.patch_for("close", MultiDict()) == {"entry_open": False}
    assert dps_settings.patch_for("unschedule", MultiDict()) == {"closed_from": None,
                                                                  "closed_until": None}
    with pytest.raises(FormInvalid) as refused:
        dps_settings.patch_for("schedule", MultiDict({"closed_from": "2027-02-01"}))
    assert refused.value.errors == [{"field": "closed_until",
                                     "text": "Reopens on: enter a date"}]


CURRENT = {"code": "SEN", "version": 3, "pass_fail_criteria": ["EXCLUSIONS", "INSURANCE"],
           "weighted_criteria_weights": {"WORKFORCE": 30, "OUTCOMES_APPROACH": 40,
                                         "PERFORMANCE_MONITORING": 30},
           "cost_heads": ["premises", "core_staffing"], "optional_cost_heads": [],
           "insurance_minimums": {"employers_liability": "5000000.00",
                                  "public_liability": "5000000.00",
                                  "professional_liability": "2000000.00"},
           "min_tender_period_hours": 72, "min_invited": 3, "affordability_cap": None,
           "authority_caps": {"KCC": "4000.00"}, "competency_period_months": 6,
           "referral_weights": {"P": 30, "C": 20, "L": 10, "O": 20, "N": 10, "F": 10}}


def _unchanged_form() -> MultiDict:
    c = CURRENT
    items = [("pass_fail_criteria", x) for x in c["pass_fail_criteria"]]
    items += [(k, str(c[k])) for k in categories.NUMBERS]
    items += [("cost_heads", "\n".join(c["cost_heads"])), ("optional_cost_heads", "")]
    items += [(f"weighted_criteria_weights.{k}", str(v))
              for k, v in c["weighted_criteria_weights"].items()]
    items += [(f"referral_weights.{k}", str(v)) for k, v in c["referral_weights"].items()]
    items += [(f"insurance_minimums.{k}", v) for k, v in c["insurance_minimums"].items()]
    items += [("authority_caps.KCC", "4000.00"), ("authority_caps.ESCC", ""),
              ("affordability_cap", "")]
    return MultiDict(items)


def test_an_unchanged_category_form_makes_no_version():
    with pytest.raises(FormInvalid):
        categories.patch_for(_unchanged_form(), CURRENT, ["KCC", "ESCC"])


def test_a_category_form_sends_only_its_changes_and_a_blank_cap_removes_it():
    form = _unchanged_form()
    form.setlist("min_invited", ["4"])
    form.setlist("authority_caps.KCC", [""])
    form.setlist("authority_caps.ESCC", ["3500"])
    form.setlist("affordability_cap", ["5000.00"])
    form.setlist("cost_heads", ["premises\ncore_staffing\nvehicles"])
    patch = categories.patch_for(form, CURRENT, ["KCC", "ESCC"])
    assert patch == {"min_invited": 4, "cost_heads": ["premises", "core_staffing", "vehicles"],
                     "affordability_cap": "5000.00",
                     "authority_caps": {"KCC": None, "ESCC": "3500.00"}}


def test_a_phone_for_sms_codes_is_a_uk_mobile_kept_in_e164_and_shown_masked():
    from gateway.web import sms

    assert sms.uk_mobile("07700 900 982") == "+447700900982"
    assert sms.uk_mobile("+44 (0)7700-900982") is None  # ambiguous: refused
    assert sms.uk_mobile("+44 7700 900982") == "+447700900982"
    assert sms.uk_mobile("01273 123456") is None  # a landline gets no text message
    assert sms.uk_mobile("0770090098") is None
    assert sms.masked("+447700900982") == "07… …982"


def test_portal_pages_use_the_uk_date_not_the_utc_one(monkeypatch):
    """Between 00:00 and 01:00 BST the UTC date is still yesterday: the portal's default
    dates (a placement's start, a review, the financial year of cost shares) are UK dates;
    31 March 23:30 UTC is 1 April in London, a new financial year (§7.3)."""
    from datetime import datetime, timezone

    from gateway.web import pages

    monkeypatch.setattr(pages, "utcnow", lambda: datetime(2027, 3, 31, 23, 30,
                                                          tzinfo=timezone.utc))
    assert pages.today() == date(2027, 4, 1)
    monkeypatch.setattr(pages, "utcnow", lambda: datetime(2027, 12, 31, 23, 30,
                                                          tzinfo=timezone.utc))
    assert pages.today() == date(2027, 12, 31)  # GMT in winter
