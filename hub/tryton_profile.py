"""The mapping profile of Tryton: the Tryton connector's rows → canonical columns.

The default `entities:` of a `kind: tryton` source; a firm overrides an entity by writing its
own mapping (e.g. other category names in `values`).
"""

from __future__ import annotations

# Tryton's unit symbols (product.uom) → canonical units.
TRYTON_UNITS = {"u": "pcs", "m": "m", "cm": "cm", "kg": "kg", "g": "g", "m²": "m2", "l": "l"}

TRYTON_PROFILE: dict[str, dict] = {
    "orders": {
        "columns": {
            "order_id": "order_key", "line_no": "line", "direction": "direction",
            "order_date": "date", "sku": "product", "quantity": "quantity", "unit": "unit",
            "counterparty": "party", "delivery_date": "delivery_date",
            "unit_price": "unit_price",
        },
        "units": TRYTON_UNITS,
    },
    "bom_lines": {
        "columns": {
            "sku": "product", "line_no": "line", "component_code": "component",
            "component_name": "component_name", "component_kind": "category",
            "quantity": "quantity", "unit": "unit", "supplier_code": "supplier",
            "composition": "description",
        },
        # Product categories as the sample firm names them; others pass through unchanged.
        "values": {
            "component_kind": {
                "Fabrics": "fabric", "Tessuti": "fabric", "Yarns": "yarn", "Filati": "yarn",
                "Trims": "trim", "Accessori": "trim", "Labels": "label", "Etichette": "label",
                "Packaging": "packaging", "Imballi": "packaging",
            }
        },
        "units": TRYTON_UNITS,
    },
    "suppliers": {
        "columns": {
            "local_code": "code", "name": "name", "vat_number": "vat", "country": "country",
            "municipality": "city", "province": "province",
        },
    },
    "products": {
        "columns": {"sku": "code", "gtin": "ean", "name": "name", "category": "category"},
    },
}  # fmt: skip
