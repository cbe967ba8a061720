"""The sample district generator: determinism, a loadable config, and faults where it says.

A small independent reader below applies the hub's rules to the generated files, so that the
seeded faults are checked to be the *only* rows a correct hub rejects.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest
from stdnum import ean
from stdnum.it import iva

from hub.canonical import BOOL, DATE, ENTITIES, FLOAT, INT
from hub.config import CsvFormat, District, load_district
from hub.sample import FAULT_RULES, main, read_faults, write_sample_district

ROOT = Path(__file__).resolve().parents[1]


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _lines(path: Path, fmt: CsvFormat) -> list[str]:
    """Physical lines of a file, decoded with its declared encoding (line 1 = lines[0])."""
    text = path.read_bytes().decode(fmt.encoding)
    assert text.endswith("\n"), f"{path} does not end with a newline"
    return [line.removesuffix("\r") for line in text.split("\n")[:-1]]


def _cells(line: str, fmt: CsvFormat) -> list[str]:
    return next(csv.reader([line], delimiter=fmt.delimiter, quotechar=fmt.quote))


def _sources(d: District):
    """(firm, source, entity, mapping, format, files) in the order the checks need them."""
    order = ["suppliers", "products", "bom_lines", "orders", "waste_streams", "certifications"]
    for firm in d.firms:
        for src in firm.sources:
            for entity in sorted(src.entities, key=order.index):
                m = d.mapping(src, entity)
                files = sorted(_folder(d, firm, src).glob(m.files))
                yield firm, src, entity, m, m.format or src.format, files


def _folder(d: District, firm, src) -> Path:  # noqa: ANN001
    """The local folder of a source; an SFTP firm's files are generated under sample/<firm>."""
    if src.location.kind == "sftp":
        return d.base_dir / "sample" / firm.company_id
    return d.resolve_path(src.location.path)


def _number(text: str, fmt: CsvFormat) -> float:
    whole = rf"\d{{1,3}}(?:{re.escape(fmt.thousands)}\d{{3}})+|\d+" if fmt.thousands else r"\d+"
    if not re.fullmatch(rf"-?(?:{whole})(?:{re.escape(fmt.decimal)}\d+)?", text):
        raise ValueError(text)
    return float(text.replace(fmt.thousands or "\0", "").replace(fmt.decimal, "."))


def _violations(yaml_path: Path) -> tuple[set[tuple[str, int, str]], dict]:
    """(file, line, rule) of every row the hub's rules reject, and the rows (with `_rule`)."""
    d = load_district(yaml_path)
    bad: set[tuple[str, int, str]] = set()
    rows: dict = defaultdict(list)  # (company_id, entity) → parsed records
    for firm, _src, entity, m, fmt, files in _sources(d):
        ent = ENTITIES[entity]
        supplier_codes = {r["local_code"] for r in rows[(firm.company_id, "suppliers")]}
        for path in files:
            rel = path.relative_to(d.base_dir).as_posix()
            lines = _lines(path, fmt)
            header = _cells(lines[0], fmt)
            keys: dict[tuple, list[int]] = defaultdict(list)
            for no, line in enumerate(lines[1:], start=2):
                cells = _cells(line, fmt)
                if cells == header:
                    bad.add((rel, no, "structure.repeated_header"))
                    continue
                if cells[0].upper().startswith("TOTAL"):
                    bad.add((rel, no, "structure.totals_row"))
                    continue
                assert len(cells) == len(header), f"{rel}:{no}: {len(cells)} cells"
                rec = {c: cells[header.index(h)] for c, h in m.columns.items()}
                rec |= m.constants
                rule = _row_rule(ent, rec, m, fmt, supplier_codes)
                rows[(firm.company_id, entity)].append(rec | {"_rule": rule})
                if rule:
                    bad.add((rel, no, rule))
                elif entity == "orders":
                    keys[(rec["order_id"], rec["line_no"])].append(no)
            for dup in (v for v in keys.values() if len(v) > 1):
                bad |= {(rel, no, "orders.unique_line") for no in dup}
    return bad, rows


def _row_rule(ent, rec: dict, m, fmt: CsvFormat, supplier_codes: set[str]) -> str | None:
    """The first rule a row breaks, as the hub names it; parses `rec` in place."""
    for c, text in rec.items():
        typ = ent.column(c).type
        try:
            if typ == FLOAT and text:
                rec[c] = _number(text, fmt)
            elif typ == INT:
                rec[c] = int(text)
            elif typ == DATE:
                rec[c] = datetime.strptime(text, fmt.date_format).date()
            elif typ == BOOL:
                assert text in fmt.true_values + fmt.false_values, text
        except ValueError:
            return "parse.date" if typ == DATE else "parse.number"
    if "unit" in rec:
        if rec["unit"] not in m.units:
            return "unit.unknown"
        rec["unit"] = m.units[rec["unit"]]
    for c, codes in m.values.items():
        assert rec[c] in codes, f"value {rec[c]!r} of {c} not mapped"
        rec[c] = codes[rec[c]]
    if ent.name == "orders" and rec["quantity"] <= 0:
        return "orders.quantity_positive"
    if (
        ent.name == "products"
        and rec.get("gtin")
        and not (len(rec["gtin"]) == 13 and ean.is_valid(rec["gtin"]))
    ):
        return "products.gtin_valid"
    if ent.name == "suppliers" and not iva.is_valid(rec["vat_number"]):
        return "suppliers.vat_valid"
    if ent.name == "bom_lines" and rec["supplier_code"] not in supplier_codes:
        return "bom_lines.supplier_known"
    gsm, width = rec.get("fabric_weight_gsm"), rec.get("fabric_width_cm")
    if isinstance(gsm, float) and not 15 <= gsm <= 1200:
        return "bom_lines.fabric_weight_range"
    if isinstance(width, float) and not 20 <= width <= 400:
        return "bom_lines.fabric_width_range"
    if rec.get("substances") and not _substances_readable(rec["substances"]):
        return "bom_lines.substances_valid"
    shares = [float(n) for n in re.findall(r"\d+", rec.get("composition") or "")]
    if ent.name in ("bom_lines", "products") and shares and sum(shares) != 100:
        return f"{ent.name}.composition_valid"
    return None


def _substances_readable(text: str) -> bool:
    """'CAS:concentration%; …' with CAS check digits right and concentrations up to 100 %."""
    for part in text.split(";"):
        m = re.fullmatch(r"\s*(\d{2,7})-(\d{2})-(\d):(\d+(?:[.,]\d+)?)%\s*", part)
        if not m:
            return False
        body = m.group(1) + m.group(2)
        if sum(int(d) * i for i, d in enumerate(reversed(body), 1)) % 10 != int(m.group(3)):
            return False
        if float(m.group(4).replace(",", ".")) > 100:
            return False
    return True


def _expected(out_dir: Path) -> set[tuple[str, int, str]]:
    return {(f["file"], f["line"], f["expected_rule"]) for f in read_faults(out_dir)}


# --- the committed sample ---------------------------------------------------------------------


def test_committed_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    write_sample_district(tmp_path)
    assert (tmp_path / "district.yaml").read_bytes() == (ROOT / "district.yaml").read_bytes()
    assert _tree(tmp_path / "sample") == _tree(ROOT / "sample")


def test_committed_config_loads_and_every_mapping_finds_its_files() -> None:
    d = load_district(ROOT / "district.yaml")
    assert [f.company_id for f in d.firms] == [
        "moda-carpi",
        "maglificio-fossoli",
        "confezioni-reno",
        "tintoria-secchia",
        "lavanderia-novese",
        "filatura-tresinaro",
        "stamperia-soliera",  # delivers over SFTP
    ]
    assert {f.role for f in d.firms} == {"brand", "manufacturer", "subcontractor", "supplier"}
    assert all(iva.is_valid(f.vat_number) for f in d.firms)
    assert d.profiles, "at least one mapping shared by two firms"
    for firm, src, _entity, _m, _fmt, files in _sources(d):
        if src.location.kind == "sftp":
            assert src.location.remote_dir == f"sample/{firm.company_id}"
            assert all(Path(f"{p}.ok").is_file() for p in files), "each file has its marker"
        else:
            assert not Path(src.location.path).is_absolute()
        assert files, f"{firm.company_id}/{src.name}: no file for a mapping"


def test_every_fault_is_at_its_file_and_line() -> None:
    d = load_district(ROOT / "district.yaml")
    faults = read_faults(ROOT)
    assert {f["expected_rule"] for f in faults} == set(FAULT_RULES.values())
    for f in faults:
        firm = d.firm(f["company_id"])
        src = next(s for s in firm.sources if s.name == f["source"])
        m = d.mapping(src, f["entity"])
        fmt = m.format or src.format
        path = ROOT / f["file"]
        assert path.match(m.files) and path.parent == _folder(d, firm, src)
        lines = _lines(path, fmt)
        header, cells = _cells(lines[0], fmt), _cells(lines[f["line"] - 1], fmt)
        assert cells[header.index(f["column"])] == f["value"], f
        if f["fault"] == "repeated_header":
            assert lines[f["line"] - 1] == lines[0].removeprefix("\ufeff")
        if f["fault"] == "totals_row":
            assert f["line"] == len(lines)


def test_the_seeded_faults_are_the_only_rows_to_reject() -> None:
    bad, _ = _violations(ROOT / "district.yaml")
    assert bad == _expected(ROOT)
    counts = Counter(f["expected_rule"] for f in read_faults(ROOT))
    assert counts["orders.unique_line"] == 2  # both lines of the duplicate


def test_committed_sample_is_consistent() -> None:
    _, rows = _violations(ROOT / "district.yaml")

    def keys(entity: str, column: str) -> set[tuple[str, str]]:
        return {(c, r[column]) for (c, e), rs in rows.items() if e == entity for r in rs}

    products, suppliers = keys("products", "sku"), keys("suppliers", "local_code")
    components = keys("bom_lines", "component_code")
    for (company, entity), records in rows.items():
        for r in (r for r in records if not r["_rule"]):
            if entity == "bom_lines":
                assert (company, r["sku"]) in products
                assert r["quantity"] > 0 and 0 <= r["recycled_share"] <= 1
            if entity != "orders":
                continue
            assert date(2026, 1, 1) <= r["order_date"] <= r["delivery_date"] <= date(2026, 12, 31)
            sku, has = (company, r["sku"]), {c for c, _ in products}
            if r["direction"] == "sale" and company in has:
                assert sku in products, r
            if r["direction"] == "work_order" and company in has:
                assert sku in products or sku in components, r
            if r["direction"] == "purchase":
                assert (company, r["counterparty"]) in suppliers, r
                assert sku in components or company not in {c for c, _ in components}, r


def test_encodings_and_line_endings_differ_as_in_the_district() -> None:
    brand = (ROOT / "sample/moda-carpi/ordini_20261120.csv").read_bytes()
    assert b"\r\n" in brand and "Q.tà".encode("cp1252") in brand
    knit = (ROOT / "sample/maglificio-fossoli/articoli.csv").read_bytes()
    assert knit.startswith(b"\xef\xbb\xbf") and b"\r\n" not in knit
    assert b"\t" in (ROOT / "sample/lavanderia-novese/lavorazioni_202611.csv").read_bytes()


# --- other sizes ------------------------------------------------------------------------------


def test_large_district_generates_and_loads(tmp_path: Path) -> None:
    yaml_path = write_sample_district(tmp_path, n_firms=20, orders_per_firm=2000)
    d = load_district(yaml_path)
    ids = [f.company_id for f in d.firms]
    assert len(ids) == len(set(ids)) == 20
    assert ids[6] == "moda-carpi-0007" and ids[19] == "maglificio-fossoli-0020"
    assert len({f.vat_number for f in d.firms}) == 20
    bad, rows = _violations(yaml_path)
    assert bad == _expected(tmp_path)
    # every firm has the order lines asked for, plus the copies of duplicated lines
    dups = Counter(f["company_id"] for f in read_faults(tmp_path) if f["fault"] == "duplicate_line")
    for firm in d.firms:
        lines = rows[(firm.company_id, "orders")]  # data rows: no headers, no totals
        assert len(lines) - dups[firm.company_id] // 2 == 2000, firm.company_id


def test_fewer_firms_and_no_faults(tmp_path: Path) -> None:
    yaml_path = write_sample_district(tmp_path / "three", n_firms=3)
    d = load_district(yaml_path)
    assert [f.company_id for f in d.firms] == [
        "moda-carpi",
        "maglificio-fossoli",
        "confezioni-reno",
    ]
    assert {f["company_id"] for f in read_faults(tmp_path / "three")} == {
        f.company_id for f in d.firms
    }
    assert _violations(yaml_path)[0] == _expected(tmp_path / "three")
    # the same firms, the same bytes, whatever the size of the district
    assert _tree(tmp_path / "three/sample/moda-carpi") == _tree(ROOT / "sample/moda-carpi")

    clean = write_sample_district(tmp_path / "clean", n_firms=1, faults=False)
    assert read_faults(tmp_path / "clean") == []
    assert _violations(clean)[0] == set()


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path), "--firms", "7", "--orders-per-firm", "50", "--seed", "7"]) == 0
    assert "seeded faults" in capsys.readouterr().out
    assert len(load_district(tmp_path / "district.yaml").firms) == 7
