"""Ratings, benchmark, symbiosis and pages on small hand-made warehouses (no sync, no browser)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from hub.ratings.benchmark import benchmark, percentile
from hub.ratings.data import FirmData, load_district_data
from hub.ratings.methodology import DEFAULT_PATH, MethodologyError, load_methodology
from hub.ratings.pages import write_pages
from hub.ratings.scoring import INSUFFICIENT, MISSING, SCORED, rate_firm
from hub.ratings.store import refresh_ratings
from hub.symbiosis import load_rules, match
from hub.warehouse import Warehouse

AS_OF = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, tzinfo=UTC)


# --- the methodology file ----------------------------------------------------------------------


def test_the_committed_methodology_loads() -> None:
    m = load_methodology(DEFAULT_PATH)
    assert [c.id for c in m.criteria] == [
        "short_supply_chain",
        "circularity",
        "footprint",
        "chemicals",
        "social",
        "data_completeness",
    ]
    assert abs(sum(c.weight for c in m.criteria) - 1) < 1e-9
    assert [g.grade for g in m.grades] == ["A", "B", "C", "D", "E"]


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "ratings.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_criteria_weights_that_do_not_sum_to_1_name_file_line_and_field(tmp_path: Path) -> None:
    path = _broken(tmp_path, "    weight: 0.20\n", "    weight: 0.25\n")
    with pytest.raises(MethodologyError) as e:
        load_methodology(path)
    msg = str(e.value)
    assert f"{path}:{_line_of(path, 'criteria:')}: criteria:" in msg
    assert "sum to 1.05" in msg and "0.25 (short_supply_chain)" in msg


def test_indicator_weights_that_do_not_sum_to_1(tmp_path: Path) -> None:
    path = _broken(tmp_path, "        weight: 0.35\n", "        weight: 0.3\n")
    with pytest.raises(
        MethodologyError,
        match=r"criteria\[4\]\.indicators: the weights of the "
        r"indicators must sum to 1, they sum to 0\.95",
    ):
        load_methodology(path)


def test_an_unknown_indicator_function_is_named_with_its_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "function: waste_recovered_share", "function: waste_recycled_share")
    with pytest.raises(MethodologyError) as e:
        load_methodology(path)
    line = _line_of(path, "waste_recycled_share")
    assert (
        f"{path}:{line}: criteria[1].indicators[1].function: unknown indicator function "
        "'waste_recycled_share'; known:" in str(e.value)
    )
    assert "waste_recovered_share" in str(e.value)  # the known ones are listed


def test_thresholds_out_of_order(tmp_path: Path) -> None:
    path = _broken(tmp_path, "[0.2, 0.4, 0.6, 0.8, 0.95]", "[0.2, 0.6, 0.4, 0.8, 0.95]")
    with pytest.raises(MethodologyError) as e:
        load_methodology(path)
    line = _line_of(path, "[0.2, 0.6, 0.4, 0.8, 0.95]")
    assert (
        f"{path}:{line}: criteria[1].indicators[1].thresholds[2]: thresholds must "
        "increase: 0.4 after 0.6"
    ) in str(e.value)


def test_a_missing_parameter_and_several_problems_at_once(tmp_path: Path) -> None:
    path = _broken(tmp_path, "params: {km: 50, basis: steps}", "params: {basis: steps}")
    text = path.read_text().replace("  - {grade: B, min: 65", "  - {grade: B, min: 85")
    path.write_text(text)
    with pytest.raises(MethodologyError) as e:
        load_methodology(path)
    assert len(e.value.problems) == 2
    assert "chain_share_within needs parameter 'km'" in str(e.value)
    assert "grades[1].min: grades go from best to worst" in str(e.value)


def test_a_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(MethodologyError, match="file not found"):
        load_methodology(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ncriteria: [\n")
    with pytest.raises(MethodologyError, match=r"bad\.yaml:\d+: invalid YAML"):
        load_methodology(bad)


def test_scores_between_thresholds_and_reversed() -> None:
    m = load_methodology()
    waste = m.criterion("circularity").indicators[1]  # [0.2, 0.4, 0.6, 0.8, 0.95]
    assert waste.score(0.1) == 0 and waste.score(0.5) == 37.5 and waste.score(1) == 100
    intensity = m.criterion("footprint").indicators[1]  # lower is better
    assert intensity.score(1000) == 100 and intensity.score(10000) == 0
    assert intensity.next_target(7000) == 6000 and waste.next_target(0.5) == 0.6


# --- rating a firm ------------------------------------------------------------------------------


def _firm(company_id: str = "f1", role: str = "manufacturer", **rows: list[dict]) -> FirmData:
    company = {"company_id": company_id, "name": f"Firm {company_id}", "role": role,
               "municipality": "Carpi", "province": "MO", "country": "IT", "lat": 44.78,
               "lon": 10.88}  # fmt: skip
    return FirmData(company_id, company, dict(rows))


def test_a_firm_without_data_gets_insufficient_data_never_a_score() -> None:
    r = rate_firm(_firm(), load_methodology(), AS_OF)
    assert r.overall.status == INSUFFICIENT and r.overall.score is None and r.overall.grade is None
    social = next(c for c in r.criteria if c.id == "social")
    assert social.status == INSUFFICIENT and all(i.status == MISSING for i in social.indicators)
    assert "no list of certificates" in social.indicators[0].note
    assert r.improvement and r.improvement[0]["kind"] == "data"  # deliver data first


CERTS = [
    {"holder_id": "f1", "scheme": "SA8000", "number": "S1", "valid_from": date(2024, 1, 1),
     "valid_to": date(2027, 1, 1), "grade": None},
    {"holder_id": "f1", "scheme": "ISO 45001", "number": "H1", "valid_from": date(2022, 1, 1),
     "valid_to": date(2025, 6, 30), "grade": None},
    {"holder_id": "f1", "scheme": "amfori BSCI", "number": "B1", "valid_from": date(2025, 1, 1),
     "valid_to": date(2027, 1, 1), "grade": "B"},
]  # fmt: skip


def test_social_criterion_reads_validity_and_grades_with_evidence() -> None:
    r = rate_firm(_firm(certifications=CERTS), load_methodology(), AS_OF)
    social = next(c for c in r.criteria if c.id == "social")
    by_id = {i.id: i for i in social.indicators}
    assert by_id["sa8000"].value == 1.0 and by_id["iso45001"].value == 0.0
    assert by_id["bsci"].value == 0.8
    assert social.score == pytest.approx(0.4 * 100 + 0.35 * 75 + 0.25 * 0)
    assert by_id["iso45001"].evidence[0]["number"] == "H1"
    assert by_id["iso45001"].evidence[0]["valid"].startswith("no")
    # the expired certificate is on the improvement path
    assert any(s["indicator"] == "iso45001" and s["kind"] == "improve" for s in r.improvement)


def test_the_same_data_gives_the_same_rating() -> None:
    m = load_methodology()
    firm = _firm(certifications=CERTS, waste_streams=[
        {"company_id": "f1", "material": "scraps", "ewc_code": "04 02 21",
         "quantity_kg_year": 100.0, "destination": "landfill"}])  # fmt: skip
    assert rate_firm(firm, m, AS_OF).to_dict() == rate_firm(firm, m, AS_OF).to_dict()


# --- warehouse: history, benchmark isolation, symbiosis, pages ---------------------------------


def _wh(tmp_path: Path) -> Warehouse:
    wh = Warehouse(f"duckdb:///{tmp_path}/w.duckdb")
    wh.create_all()
    return wh


FIRMS = [("alfa", "Alfa Maglieria S.r.l.", "manufacturer", 44.78, 10.88),
         ("beta", "Beta Confezioni S.r.l.", "manufacturer", 44.80, 10.90),
         ("gamma", "Gamma Tessuti S.p.A.", "manufacturer", 44.70, 10.80),
         ("delta", "Delta Filati S.p.A.", "supplier", 44.60, 10.70)]  # fmt: skip


def _district(wh: Warehouse, recovered: float = 0.5) -> None:
    companies, waste, certs, bom = [], [], [], []
    for i, (cid, name, role, lat, lon) in enumerate(FIRMS):
        companies.append({"company_id": cid, "name": name, "role": role, "lat": lat, "lon": lon,
                          "municipality": "Carpi", "country": "IT"})  # fmt: skip
        kg = 1000.0 * (i + 1)
        share = recovered if cid == "alfa" else 0.25 * i
        waste += [
            {"company_id": cid, "material": f"cotton scraps {cid}", "ewc_code": "04 02 21",
             "quantity_kg_year": kg * (1 - share), "destination": "landfill"},
            {"company_id": cid, "material": "cardboard", "ewc_code": "15 01 01",
             "quantity_kg_year": kg * share, "destination": "recovery"},
        ]  # fmt: skip
        certs.append(
            {
                "holder_id": cid,
                "scheme": "SA8000",
                "number": f"SA-{cid}-77",
                "valid_from": date(2024, 1, 1),
                "valid_to": date(2027 + i, 1, 1),
            }
        )
        bom.append({"company_id": cid, "sku": f"{cid}-1", "line_no": 1,
                    "component_code": "YCO", "component_name": "cotton yarn",
                    "component_kind": "yarn", "quantity": 0.3, "unit": "kg",
                    "quantity_kg": 0.3, "composition": json.dumps({"cotton": 100.0}),
                    "recycled_share": 0.1 * i, "certifications": "GOTS"})  # fmt: skip
    with wh.transaction() as conn:
        for table, rows in (
            ("companies", companies),
            ("waste_streams", waste),
            ("certifications", certs),
            ("bom_lines", bom),
        ):
            wh.upsert(conn, table, pa.Table.from_pylist(rows))


def test_ratings_are_kept_per_date_with_the_change(tmp_path: Path) -> None:
    wh = _wh(tmp_path)
    _district(wh, recovered=0.5)
    first = {r.company_id: r for r in refresh_ratings(wh, date(2026, 10, 1))}
    _district(wh, recovered=1.0)  # alfa now recovers all its waste
    second = {r.company_id: r for r in refresh_ratings(wh, date(2026, 11, 1))}
    rows = wh.read_arrow(
        "select * from company_ratings where company_id = 'alfa' and "
        "criterion = 'circularity' order by as_of"
    ).to_pylist()
    assert [r["as_of"] for r in rows] == [date(2026, 10, 1), date(2026, 11, 1)]
    gained = second["alfa"].criteria[1].score - first["alfa"].criteria[1].score
    assert gained > 0 and rows[1]["change"] == pytest.approx(gained)
    assert rows[1]["previous_as_of"] == date(2026, 10, 1)
    # the same date again replaces that date's rows, and gives the same ratings
    again = {r.company_id: r for r in refresh_ratings(wh, date(2026, 11, 1))}
    assert {k: v.to_dict() for k, v in again.items()} == {k: v.to_dict() for k, v in second.items()}
    assert wh.count("company_ratings", company_id="alfa", criterion="circularity") == 2
    wh.dispose()


def test_benchmark_rows_hold_no_peer_and_small_groups_are_hidden(tmp_path: Path) -> None:
    wh = _wh(tmp_path)
    _district(wh)
    m = load_methodology()
    ratings = refresh_ratings(wh, AS_OF, m)
    rows = benchmark(ratings, m)
    ids = {cid for cid, *_ in FIRMS}
    for row in rows:
        assert set(map(str, row.values())) & (ids - {row["company_id"]}) == set()
    delta = next(r for r in rows if r["company_id"] == "delta" and r["criterion"] == "social")
    assert delta["role_peers"] == 0 and delta.get("role_percentile") is None
    assert "fewer than 3 peers" in delta["note"]
    alfa = next(r for r in rows if r["company_id"] == "alfa" and r["criterion"] == "social")
    assert alfa["district_peers"] == 3 and alfa["district_percentile"] is not None
    assert percentile(50, [10, 50, 90]) == 50.0
    wh.dispose()


def test_symbiosis_matches_within_the_radius_with_landfill_avoided(tmp_path: Path) -> None:
    wh = _wh(tmp_path)
    _district(wh)
    matches, unmatched = match(wh, AS_OF)
    pairs = {(m["offer_company_id"], m["demand_company_id"], m["use"]) for m in matches}
    assert ("alfa", "beta", "recycled cotton yarn (mechanical recycling of cotton scraps)") in pairs
    assert all(m["offer_company_id"] != m["demand_company_id"] for m in matches)
    cotton = next(m for m in matches if m["offer_company_id"] == "alfa"
                  and m["demand_company_id"] == "beta")  # fmt: skip
    assert cotton["landfill_kg_avoided"] == cotton["quantity_kg_year"] == 500.0
    assert "demand_quantity" in json.loads(cotton["evidence"])
    assert all(m["distance_km"] <= 60 for m in matches)
    # cardboard: no firm's BOM has packaging, so it stays unmatched with a reason
    assert {u["material"] for u in unmatched} == {"cardboard"}
    assert all(u["reason"].startswith("no firm needing it") for u in unmatched)
    # a smaller radius drops the pairs further apart
    rules = load_rules()
    small = match(wh, AS_OF, type(rules)(5.0, rules.full_quantity_kg, rules.weights,
                                         rules.uses))[0]  # fmt: skip
    assert small and all(m["distance_km"] <= 5 for m in small) and len(small) < len(matches)
    wh.dispose()


def test_a_firm_page_never_shows_another_firm(tmp_path: Path) -> None:
    wh = _wh(tmp_path)
    _district(wh)
    refresh_ratings(wh, AS_OF)
    from hub.symbiosis import refresh_matches

    refresh_matches(wh, AS_OF)
    index = write_pages(wh, tmp_path / "ratings", load_methodology())
    district = index.read_text()
    assert all(name in district for _, name, *_ in FIRMS)  # the district's own report
    assert "<script" not in district and "http" not in district.replace("http-equiv", "")
    for cid, name, *_ in FIRMS:
        page = (tmp_path / "ratings" / "firms" / f"{cid}.html").read_text()
        assert name in page
        for other, other_name, *_ in FIRMS:
            if other == cid:
                continue
            assert other_name not in page and f"SA-{other}-77" not in page
            assert other not in page, f"{cid}'s page mentions {other}"
    wh.dispose()


def test_firm_data_holds_only_the_firms_rows(tmp_path: Path) -> None:
    wh = _wh(tmp_path)
    _district(wh)
    firms = load_district_data(wh)
    for cid, f in firms.items():
        for table, rows in f.rows.items():
            owner = "holder_id" if table == "certifications" else "company_id"
            assert all(r[owner] == cid for r in rows), table
    assert rate_firm(firms["alfa"], load_methodology(), AS_OF).overall.status == SCORED
    wh.dispose()


def test_symbiosis_rules_errors_name_file_line_and_field(tmp_path: Path) -> None:
    from hub.symbiosis import DEFAULT_PATH as RULES

    path = tmp_path / "symbiosis.yaml"
    text = RULES.read_text(encoding="utf-8")
    path.write_text(text.replace("distance: 0.2}", "distance: 0.3}"), encoding="utf-8")
    with pytest.raises(MethodologyError) as e:
        load_rules(path)
    line = _line_of(path, "weights:")
    assert f"{path}:{line}: weights: must sum to 1, they sum to 1.1" in str(e.value)


def test_ratings_check_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from hub.cli import main

    ok = CliRunner().invoke(main, ["ratings-check"])
    assert ok.exit_code == 0 and "version 2026.1" in ok.output
    monkeypatch.setenv(
        "HUB_RATINGS_METHODOLOGY", str(_broken(tmp_path, "    weight: 0.20\n", "    weight: 0.3\n"))
    )
    bad = CliRunner().invoke(main, ["ratings-check"])
    assert bad.exit_code == 1 and "must sum to 1, they sum to 1.1" in bad.output
