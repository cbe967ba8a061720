"""Fixed data resolves its quarantine rows (`resolved_at`); rows still failing stay open.

The rule (hub/resolve.py): when a file loads, earlier open quarantine rows of the same firm,
entity and source are resolved if they come from a file of the same name whose line is not
quarantined again, or if their key now has a valid row.
"""

import pytest

pytestmark = pytest.mark.integration

FIRM = "moda-carpi"
FILE = "ordini_20261120.csv"


def _open(district) -> dict[int, str]:
    rows = district.sql(
        f"select line, rule from quarantine where company_id = '{FIRM}' and file = '{FILE}' "
        "and resolved_at is null"
    )
    return {r["line"]: r["rule"] for r in rows}


def _edit(path, line: int, old: str, new: str) -> None:
    lines = path.read_bytes().decode("cp1252").split("\r\n")
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new)
    path.write_bytes("\r\n".join(lines).encode("cp1252"))


def test_a_fixed_line_is_resolved_and_a_still_failing_one_stays_open(make_district):
    district = make_district()
    district.sync([FIRM])
    assert set(_open(district)) == {50, 90, 130}
    path = district.file(FIRM, FILE)
    _edit(path, 50, ";-391,54;", ";391,54;")  # the firm fixes the negative quantity only
    result = district.sync([FIRM])
    assert result.success
    # Line 50 now loads: resolved. 90 and 130 fail again: the old rows stay open, and the
    # new sync quarantines them again.
    resolved = district.sql(
        f"select line, resolved_at from quarantine where company_id = '{FIRM}' "
        f"and file = '{FILE}' and resolved_at is not null"
    )
    assert [r["line"] for r in resolved] == [50]
    still = district.sql(
        f"select line, count(*) n from quarantine where company_id = '{FIRM}' "
        f"and file = '{FILE}' and resolved_at is null group by line order by line"
    )
    assert still == [{"line": 90, "n": 2}, {"line": 130, "n": 2}]
    loaded = district.sql(
        "select quantity from order_lines where company_id = 'moda-carpi' "
        "and order_id = '26/01032' and line_no = 2"
    )
    assert loaded == [{"quantity": 391.54}]


def test_a_key_that_arrives_valid_in_another_file_resolves_its_row(make_district):
    district = make_district()
    district.sync([FIRM])
    src = district.file(FIRM, FILE).read_bytes().decode("cp1252").split("\r\n")
    header, bad = src[0], src[89]
    assert ";PZZ;" in bad
    # The next day's export carries order 26/01043 line 2 again, with a known unit.
    fixed = district.file(FIRM, "ordini_20261122.csv")
    fixed.write_bytes("\r\n".join([header, bad.replace(";PZZ;", ";PZ;"), ""]).encode("cp1252"))
    assert district.sync([FIRM]).success
    assert set(_open(district)) == {50, 130}
    row = district.sql(
        f"select resolved_at from quarantine where company_id = '{FIRM}' and file = '{FILE}' "
        "and line = 90"
    )
    assert row[0]["resolved_at"] is not None
