"""Supply chains of a district whose firms have no products, BOMs or work orders yet."""

import pyarrow as pa

from hub.harmonization import supply_chain
from hub.warehouse import Warehouse


def test_a_firm_without_products_yields_an_empty_chain(tmp_path):
    wh = Warehouse(f"duckdb:///{tmp_path}/wh.duckdb")
    wh.create_all()
    firm = {"company_id": "lav", "name": "Lavanderia", "role": "subcontractor", "country": "IT"}
    with wh.transaction() as conn:
        wh.upsert(conn, "companies", pa.Table.from_pylist([firm]))
    steps, indicators = supply_chain.build(wh)
    assert len(steps) == 0 and "company_id" in steps.columns
    assert len(indicators) == 0
    supply_chain.store(wh, steps, indicators)
    assert wh.count("supply_chain_steps") == 0
    wh.dispose()
