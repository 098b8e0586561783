"""CSV of the establishments export (API.md ``GET /establishments/export``; business
case 7.16): one row per membership, a column per cost head of any category."""

from __future__ import annotations

import csv
import io


def establishments_csv(data: dict) -> str:
    heads: list[str] = []
    for category_heads in data["cost_heads"].values():
        heads += [h for h in category_heads if h not in heads]
    columns = [
        "establishment_id",
        "name",
        "urn",
        "provider_id",
        "provider_name",
        "address",
        "postcode",
        "lat",
        "lon",
        "capacity",
        "inspection_body",
        "inspection_grade",
        "inspection_date",
        "contact_emails",
        "category",
        "status",
        "admitted_on",
        "competency",
        "total_weekly_core_cost",
        "cohort_discounts",
        "reverification_due_on",
        *(f"cost_{h}" for h in heads),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for est in data["items"]:
        inspection = est["latest_inspection"] or {}
        for ms in est["memberships"]:
            writer.writerow(
                [
                    est["id"],
                    est["name"],
                    est["urn"] or "",
                    est["provider_id"],
                    est["provider_name"] or "",
                    est["address"],
                    est["postcode"],
                    est["location"]["lat"],
                    est["location"]["lon"],
                    est["capacity"] or "",
                    inspection.get("body", ""),
                    inspection.get("grade", ""),
                    inspection.get("date", ""),
                    ";".join(c["email"] for c in est["contacts"]),
                    ms["category"],
                    ms["status"],
                    ms["admitted_on"],
                    ms["competency"],
                    ms["total_weekly_core_cost"],
                    ";".join(f"{t['min_children']}:{t['percent']}" for t in ms["cohort_discounts"]),
                    ms["reverification_due_on"],
                    *(ms["core_costs"].get(h, "") for h in heads),
                ]
            )
    return out.getvalue()
