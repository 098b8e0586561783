"""Pictures of the benchmarks (issue 11, RULES §7.6): server-rendered SVG drawn with
matplotlib's SVG backend, made fit to sit inline in a page under the portal's strict
Content-Security-Policy (``style-src 'self'``, no inline styles) and to be read by people
who cannot see it.

matplotlib writes a ``<style>`` element and ``style="…"`` attributes, which the CSP would
block on an inline ``<svg>``; :func:`clean` turns every declaration into the SVG
presentation attribute of the same name (not governed by ``style-src``), drops the
metadata, and prefixes every id so that several charts can share a page. Each chart gets
``role="img"`` named by its ``<title>`` and ``<desc>``; the page shows the same numbers in a
table under a GOV.UK details component (WCAG 2.2 1.1.1).

Nothing here reads a service: the views pass plain numbers. matplotlib is imported on
first use (it is slow to import) and only its object-oriented API is used (no pyplot
state), so concurrent requests do not share a figure.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
BLUE, DARK, GREY, LIGHT = "#1d70b8", "#0b0c0c", "#505a5f", "#b1b4b6"
FONT = "\"GDS Transport\", arial, sans-serif"
# CSS properties matplotlib writes that are also SVG presentation attributes
PRESENTATION = {
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
    "stroke-linecap", "stroke-linejoin", "stroke-dasharray", "stroke-dashoffset",
    "stroke-miterlimit", "opacity", "font-size", "font-family", "font-weight", "font-style",
    "text-anchor", "clip-path", "clip-rule", "dominant-baseline", "alignment-baseline",
}

ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


def _figure(width: float = 7.0, height: float = 3.4):
    from matplotlib.figure import Figure  # noqa: PLC0415 - slow import, on first chart

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(GREY)
    ax.tick_params(colors=DARK, labelsize=11)
    ax.yaxis.grid(True, color=LIGHT, linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _render(fig, name: str, title: str, description: str) -> Markup:
    from matplotlib import rc_context  # noqa: PLC0415

    out = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return clean(out.getvalue(), name, title, description)


def clean(svg: str, name: str, title: str, description: str) -> Markup:
    """matplotlib's SVG as an accessible inline ``<svg>`` without any CSS (see above)."""
    root = ET.fromstring(svg)  # noqa: S314 - matplotlib's own output, never a user's
    q = lambda tag: f"{{{SVG_NS}}}{tag}"  # noqa: E731
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (q("metadata"), q("title"), q("desc"), q("style")):
                parent.remove(child)
    prefix = re.sub(r"[^a-z0-9-]", "-", name.lower())
    ids = {}
    for el in root.iter():
        if "id" in el.attrib:
            ids[el.attrib["id"]] = f"{prefix}-{el.attrib['id']}".replace(".", "-")
            el.attrib["id"] = ids[el.attrib["id"]]
    href = f"{{{XLINK_NS}}}href"
    for el in root.iter():
        style = el.attrib.pop("style", "")
        for declaration in filter(None, (d.strip() for d in style.split(";"))):
            prop, _, value = (p.strip() for p in declaration.partition(":"))
            if prop in PRESENTATION:
                el.attrib[prop] = FONT if prop == "font-family" else value
        for attr in (href, "href"):
            if el.attrib.get(attr, "").startswith("#"):
                el.attrib[attr] = "#" + ids.get(el.attrib[attr][1:], el.attrib[attr][1:])
        for attr in ("clip-path", "mask", "filter"):
            m = re.fullmatch(r"url\(#(.+)\)", el.attrib.get(attr, ""))
            if m:
                el.attrib[attr] = f"url(#{ids.get(m[1], m[1])})"
    for attr in ("width", "height"):
        root.attrib.pop(attr, None)
    root.attrib.update({"width": "100%", "role": "img", "focusable": "false",
                        "aria-labelledby": f"{prefix}-title {prefix}-desc",
                        "stroke-linejoin": "round", "stroke-linecap": "butt",
                        "class": "dps-chart"})
    desc = ET.Element(q("desc"), {"id": f"{prefix}-desc"})
    desc.text = description
    head = ET.Element(q("title"), {"id": f"{prefix}-title"})
    head.text = title
    root.insert(0, desc)
    root.insert(0, head)
    text = ET.tostring(root, encoding="unicode")
    return Markup(text)  # noqa: S704 - built from our numbers; labels escaped by ElementTree


def _number(value) -> float | None:
    return None if value in (None, "") else float(Decimal(str(value)))


def cost_boxes(name: str, boxes: Sequence[dict]) -> Markup | None:
    """A box plot of the weekly cost distribution, one box per category (§7.6): each box
    from lower to upper quartile with the median, whiskers to the minimum and maximum.
    ``boxes``: ``{label, min, lower_quartile, median, upper_quartile, max, count}``, money
    as strings; categories with no placement are left out. ``None`` when none has any."""
    drawn = [b for b in boxes if b.get("median") is not None]
    if not drawn:
        return None
    fig, ax = _figure()
    stats = [{"label": f"{b['label']}\n({b['count']})", "med": _number(b["median"]),
              "q1": _number(b["lower_quartile"]), "q3": _number(b["upper_quartile"]),
              "whislo": _number(b["min"]), "whishi": _number(b["max"])} for b in drawn]
    ax.bxp(stats, showfliers=False, widths=0.5, patch_artist=True,
           boxprops={"facecolor": "#d2e2f1", "edgecolor": BLUE, "linewidth": 1.5},
           medianprops={"color": DARK, "linewidth": 2.5},
           whiskerprops={"color": BLUE, "linewidth": 1.5},
           capprops={"color": BLUE, "linewidth": 1.5})
    ax.set_ylabel("Weekly cost (£)", color=DARK, fontsize=11)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"£{v:,.0f}")
    title = "Weekly cost of placements by category"
    parts = [f"{b['label']}: median £{b['median']}, quartiles £{b['lower_quartile']} to "
             f"£{b['upper_quartile']}, from £{b['min']} to £{b['max']}, {b['count']} "
             "placements" for b in drawn]
    return _render(fig, name, title, "Box plot. " + "; ".join(parts) + ".")


def over_time(name: str, title: str, unit: str, points: Sequence[tuple[str, object]]
              ) -> Markup | None:
    """A line over months (``("2026-03", value)``, value ``None`` where there is nothing
    to measure: a gap, never a zero). ``None`` when no month has a value."""
    values = [(label, _number(v)) for label, v in points]
    if not any(v is not None for _, v in values):
        return None
    fig, ax = _figure(height=3.0)
    xs = list(range(len(values)))
    ys = [float("nan") if v is None else v for _, v in values]
    ax.plot(xs, ys, color=BLUE, linewidth=2, marker="o", markersize=6)
    ax.set_xticks(xs, [_month(label) for label, _ in values], rotation=0)
    ax.set_ylabel(unit, color=DARK, fontsize=11)
    ax.set_ylim(bottom=0)
    said = [f"{_month(label, ' ')}: {v:g}" for label, v in values if v is not None]
    return _render(fig, name, title,
                   f"Line chart of {unit.lower()} per month. " + "; ".join(said) + ".")


def _month(label: str, between: str = "\n") -> str:
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")
    year, _, month = label.partition("-")
    return f"{months[int(month) - 1]}{between}{year}" if month else label
