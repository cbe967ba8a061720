"""Static pages: the district report (`index.html`) and one page per firm (`firms/<id>.html`).

No script and no network: charts are inline SVG, styles inline. A firm's page is built only
from that firm's rows, its benchmark row (percentiles and medians, no peer) and its own side
of the symbiosis matches (the other firm is "a district firm" at a rounded distance): it never
shows another firm's name, id or values.
"""

from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hub.canonical import TABLES
from hub.ratings.methodology import OVERALL, Methodology
from hub.warehouse import Warehouse

GRADE_COLOURS = {"A": "#1a9850", "B": "#91cf60", "C": "#fee08b", "D": "#fc8d59", "E": "#d73027",
                 "n/a": "#bbbbbb"}  # fmt: skip
NO_GRADE = "n/a"
CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}.grade{display:inline-block;min-width:1.6rem;text-align:center;
font-weight:bold;border-radius:.3rem;padding:0 .3rem}.muted{color:#666;font-size:.85rem}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.chart{border:1px solid #eee;padding:.5rem}
details{margin:.3rem 0}
"""


def _e(v: Any) -> str:
    return escape("" if v is None else str(v))


def _grade(g: str | None) -> str:
    g = g or NO_GRADE
    label = g if g != NO_GRADE else "insufficient data"
    return (f'<span class="grade" style="background:{GRADE_COLOURS.get(g, "#bbb")}">'
            f"{_e(label)}</span>")  # fmt: skip


def _page(title: str, body: str) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n"
            f"</body></html>\n")  # fmt: skip


def bar_chart(title: str, counts: dict[str, int], width: int = 300, height: int = 160) -> str:
    """A bar chart as inline SVG: one bar per grade."""
    keys = list(counts)
    top = max([*counts.values(), 1])
    bw = (width - 20) / max(len(keys), 1)
    bars = []
    for i, k in enumerate(keys):
        h = (height - 50) * counts[k] / top
        x, y = 10 + i * bw, height - 25 - h
        bars.append(
            f'<rect x="{x + 4:.1f}" y="{y:.1f}" width="{bw - 8:.1f}" height="{h:.1f}" '
            f'fill="{GRADE_COLOURS.get(k, "#888")}"><title>{_e(k)}: {counts[k]}</title></rect>'
            f'<text x="{x + bw / 2:.1f}" y="{height - 10}" text-anchor="middle" '
            f'font-size="11">{_e(k)}</text><text x="{x + bw / 2:.1f}" y="{y - 3:.1f}" '
            f'text-anchor="middle" font-size="11">{counts[k]}</text>'
        )
    return (
        f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}"><text x="10" y="15" '
        f'font-size="12" font-weight="bold">{_e(title)}</text>{"".join(bars)}</svg>'
    )


def line_chart(points: list[tuple[str, float]], width: int = 320, height: int = 120) -> str:
    """The overall score over rating dates, as inline SVG."""
    if not points:
        return '<p class="muted">No scored rating yet.</p>'
    n = len(points)

    def xy(i: int, s: float) -> tuple[float, float]:
        x = 30 + (width - 50) * (i / (n - 1) if n > 1 else 0.5)
        return x, height - 20 - (height - 40) * s / 100

    pts = [xy(i, s) for i, (_, s) in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{_e(d)}: {s:g}</title></circle>'
        for (x, y), (d, s) in zip(pts, points, strict=True)
    )
    return (
        f'<svg role="img" aria-label="overall score over time" width="{width}" '
        f'height="{height}"><polyline fill="none" stroke="#2c7fb8" stroke-width="2" '
        f'points="{path}"/>{dots}<text x="2" y="{height - 18}" font-size="10">0</text>'
        f'<text x="2" y="24" font-size="10">100</text></svg>'
    )


def _rows(wh: Warehouse, table: str) -> list[dict[str, Any]]:
    return wh.read_arrow(sa.select(TABLES[table])).to_pylist()


def _table(rows: list[dict[str, Any]], cols: list[str] | None = None) -> str:
    if not rows:
        return '<p class="muted">No rows.</p>'
    cols = cols or list(rows[0])
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_e(r.get(c))}</td>" for c in cols) + "</tr>"
                   for r in rows)  # fmt: skip
    return f"<table><tr>{head}</tr>{body}</table>"


def write_pages(wh: Warehouse, out_dir: Path, m: Methodology) -> Path:
    """Write the district report and the firms' pages; returns the path of index.html."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "firms").mkdir(exist_ok=True)
    companies = {c["company_id"]: c for c in _rows(wh, "companies")}
    ratings = _rows(wh, "company_ratings")
    latest: dict[str, Any] = {}
    for r in ratings:
        latest[r["company_id"]] = max(latest.get(r["company_id"], r["as_of"]), r["as_of"])
    current = {(r["company_id"], r["criterion"]): r for r in ratings
               if r["as_of"] == latest.get(r["company_id"])}  # fmt: skip
    bench = {(b["company_id"], b["criterion"]): b for b in _rows(wh, "company_benchmarks")
             if b["as_of"] == latest.get(b["company_id"])}  # fmt: skip
    matches = _rows(wh, "symbiosis_matches")
    for company_id in sorted(companies):
        firm_ratings = [r for r in ratings if r["company_id"] == company_id]
        mine = {c: r for (f, c), r in current.items() if f == company_id}
        html = firm_page(
            companies[company_id],
            mine,
            firm_ratings,
            {c: b for (f, c), b in bench.items() if f == company_id},
            [x for x in matches if company_id in (x["offer_company_id"], x["demand_company_id"])],
            m,
        )
        (out_dir / "firms" / f"{company_id}.html").write_text(html, encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(district_page(companies, current, matches, m), encoding="utf-8")
    return index


def _counts(grades: list[str | None]) -> dict[str, int]:
    out: dict[str, int] = {}
    for g in ("A", "B", "C", "D", "E", NO_GRADE):
        out[g] = sum(1 for x in grades if (x or NO_GRADE) == g)
    return out


def district_page(companies: dict[str, Any], current: dict[tuple[str, str], Any],
                  matches: list[dict[str, Any]], m: Methodology) -> str:  # fmt: skip
    ids = sorted(companies)
    overall = [current.get((c, OVERALL), {}).get("grade") for c in ids]
    charts = [bar_chart("Overall grade", _counts(overall))]
    for crit in m.criteria:
        grades = [current.get((c, crit.id), {}).get("grade") for c in ids]
        charts.append(bar_chart(crit.name, _counts(grades)))
    as_of = max((r["as_of"] for r in current.values()), default=None)
    firms = []
    for c in ids:
        o = current.get((c, OVERALL), {})
        firms.append(
            f'<tr><td><a href="firms/{_e(c)}.html">{_e(companies[c]["name"])}</a></td>'
            f'<td>{_e(companies[c]["role"])}</td><td>{_grade(o.get("grade"))}</td>'
            f'<td>{_e(o.get("score"))}</td><td>{_e(o.get("coverage"))}</td>'
            + "".join(f'<td>{_grade(current.get((c, k.id), {}).get("grade"))}</td>'
                      for k in m.criteria) + "</tr>")  # fmt: skip
    head = "".join(f"<th>{_e(k.name)}</th>" for k in m.criteria)
    avoided = sum(x["landfill_kg_avoided"] or 0 for x in matches)
    match_rows = [{
        "offer": companies.get(x["offer_company_id"], {}).get("name", x["offer_company_id"]),
        "waste": f'{x["material"]} ({x["ewc_code"]})', "use": x["use"],
        "demand": companies.get(x["demand_company_id"], {}).get("name", x["demand_company_id"]),
        "km": x["distance_km"], "kg/year": x["quantity_kg_year"], "score": x["score"],
        "landfill kg avoided": x["landfill_kg_avoided"]} for x in matches]  # fmt: skip
    body = (
        f"<h1>District sustainability ratings</h1><p>Rating date {_e(as_of)} · methodology "
        f"{_e(m.version)} ({_e(m.name)}) · {len(ids)} firms</p>"
        f'<h2>Distribution of grades</h2><div class="charts" id="charts">{"".join(charts)}</div>'
        f'<h2>Firms</h2><table id="firms"><tr><th>firm</th><th>role</th><th>grade</th>'
        f"<th>score</th><th>coverage</th>{head}</tr>{''.join(firms)}</table>"
        f"<h2>Industrial symbiosis matches</h2><p>{len(matches)} proposals; landfill avoided "
        f"if all were taken up: {avoided:,.0f} kg a year.</p>"
        f'<div id="matches">{_table(match_rows)}</div>'
        f'<p class="muted">Report for the district consortium. Each firm sees only its own page '
        f"(firms/…), where peers are anonymous.</p>"
    )
    return _page("District sustainability ratings", body)


def _value(v: Any, unit: str) -> str:
    if v is None:
        return "—"
    if unit == "share":
        return f"{v:.0%}"
    if unit == "yes/no":
        return "yes" if v >= 1 else "no"
    return f"{v:,.1f} {unit}"


def _band_km(d: float | None) -> str:
    return "unknown distance" if d is None else f"within {int(math.ceil(d / 10) * 10)} km"


def firm_page(company: dict[str, Any], mine: dict[str, Any], history: list[dict[str, Any]],
              bench: dict[str, Any], matches: list[dict[str, Any]], m: Methodology
              ) -> str:  # fmt: skip
    cid = company["company_id"]
    o = mine.get(OVERALL, {})
    change = o.get("change")
    change_text = (f"{change:+g} points since {o.get('previous_as_of')}" if change is not None
                   else "first scored rating")  # fmt: skip
    parts = [f"<h1>{_e(company['name'])}</h1>",
             f"<p>Rating of {_e(o.get('as_of'))} (methodology {_e(o.get('methodology_version'))})"
             f": {_grade(o.get('grade'))} score {_e(o.get('score'))} · data coverage "
             f"{_e(o.get('coverage'))} · {_e(change_text)}</p>"]  # fmt: skip
    if o.get("status") == "insufficient_data":
        parts.append(
            "<p><strong>Insufficient data</strong>: not enough of the criteria have "
            "data for a grade. The steps below say which data to deliver.</p>"
        )
    # improvement path
    steps = json.loads(o.get("improvement") or "[]")
    items = []
    for s in steps[:8]:
        gain = (f" (+{s['gain_overall']:g} overall)" if s.get("gain_overall")
                else f" (+{s['gain_criterion']:g} on the criterion)" if s.get("gain_criterion")
                else "")  # fmt: skip
        items.append(
            f'<li>{_e(s["action"])}{_e(gain)}<br><span class="muted">'
            f"{_e(s.get('advice'))}</span></li>"
        )
    parts.append(
        f'<h2>What would raise the rating most</h2><ol id="improvement">'
        f"{''.join(items) or '<li>Nothing left to improve.</li>'}</ol>"
    )
    # criteria
    parts.append(
        '<h2>Scores by criterion</h2><table id="criteria"><tr><th>criterion</th>'
        "<th>grade</th><th>score</th><th>coverage</th><th>district percentile</th>"
        "<th>percentile in role</th><th>change</th></tr>"
    )
    for crit in [OVERALL, *(c.id for c in m.criteria)]:
        r, b = mine.get(crit, {}), bench.get(crit, {})
        name = "Overall" if crit == OVERALL else m.criterion(crit).name
        pct = [b.get(k) if b.get(k) is not None else "not shown" for k in
               ("district_percentile", "role_percentile")]  # fmt: skip
        parts.append(
            f"<tr><td>{_e(name)}</td><td>{_grade(r.get('grade'))}</td>"
            f"<td>{_e(r.get('score'))}</td><td>{_e(r.get('coverage'))}</td>"
            f"<td>{_e(pct[0])}</td><td>{_e(pct[1])}</td>"
            f"<td>{_e(r.get('change'))}</td></tr>"
        )
    parts.append("</table>")
    notes = sorted({n for b in bench.values() for n in (b.get("note") or "").split("; ") if n})
    if notes:
        parts.append(
            f'<p class="muted">Benchmark: {_e("; ".join(notes))}. Peers are '
            "anonymous: only percentiles are shown.</p>"
        )
    # evidence
    parts.append('<h2>Evidence</h2><div id="evidence">')
    for crit in m.criteria:
        ev = json.loads(mine.get(crit.id, {}).get("evidence") or '{"indicators": []}')
        parts.append(
            f"<h3>{_e(crit.name)}</h3><table><tr><th>indicator</th><th>status</th>"
            "<th>value</th><th>score</th><th>weight</th><th>how</th></tr>"
        )
        for i in ev["indicators"]:
            parts.append(
                f"<tr><td>{_e(i['name'])}</td><td>{_e(i['status'])}</td>"
                f"<td>{_e(_value(i['value'], i['unit']))}</td><td>{_e(i['score'])}"
                f"</td><td>{_e(i['weight'])}</td><td>{_e(i['note'])}"
            )
            if i["evidence"]:
                parts.append(
                    f"<details><summary>{i['rows_total']} rows</summary>"
                    f"{_table(i['evidence'])}</details>"
                )
            parts.append("</td></tr>")
        parts.append("</table>")
    parts.append("</div>")
    # history
    overall_hist = sorted((r for r in history if r["criterion"] == OVERALL),
                          key=lambda r: r["as_of"])  # fmt: skip
    points = [(str(r["as_of"]), r["score"]) for r in overall_hist if r["score"] is not None]
    parts.append(f'<h2>History</h2><div id="history">{line_chart(points)}'
                 + _table([{"date": r["as_of"], "grade": r["grade"] or "insufficient data",
                            "score": r["score"], "change": r["change"]} for r in overall_hist])
                 + "</div>")  # fmt: skip
    # symbiosis, own side only
    offers, needs = [], []
    for x in matches:
        other = f"a district firm {_band_km(x['distance_km'])}"
        if x["offer_company_id"] == cid:
            offers.append({"your waste": f"{x['material']} ({x['ewc_code']})",
                           "your kg/year": json.loads(x["evidence"])["offer"]["quantity_kg_year"],
                           "could become": x["use"], "for": other})  # fmt: skip
        else:
            needs.append({"your need": x["use"], "offered as EWC": x["ewc_code"], "by": other})
    parts.append('<h2>Symbiosis opportunities</h2><div id="symbiosis">'
                 + (_table(offers) if offers else "") + (_table(needs) if needs else "")
                 + ("" if offers or needs else '<p class="muted">No match yet.</p>')
                 + '<p class="muted">Ask the district to be introduced: the other firm is not '
                 "named here.</p></div>")  # fmt: skip
    return _page(f"Rating — {company['name']}", "\n".join(parts))
