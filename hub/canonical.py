"""The canonical model, in one place: staged entities and warehouse tables.

Staged entities are what a firm's source is mapped onto (one per file kind a firm exports);
warehouse tables are the harmonized district tables of the design contract. Both are declared
here once and turned into pyarrow schemas and SQLAlchemy tables, so that parsers, checks,
loaders and docs agree on names and types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import sqlalchemy as sa

TEXT = pa.string()
FLOAT = pa.float64()
INT = pa.int64()
DATE = pa.date32()
BOOL = pa.bool_()
TIMESTAMP = pa.timestamp("us", tz="UTC")

# Lineage columns every staged row carries: where it came from, so that a rejected row can be
# traced back to the firm's file and line.
LINEAGE = ("_file", "_line")

CANONICAL_UNITS = ("pcs", "kg", "g", "m", "cm", "m2", "l", "pair", "set")
DIRECTIONS = ("sale", "purchase", "work_order")
ROLES = ("brand", "manufacturer", "subcontractor", "supplier")
COMPONENT_KINDS = (
    "fabric", "yarn", "fibre", "trim", "label", "packaging", "accessory", "other",
)  # fmt: skip


@dataclass(frozen=True)
class Column:
    """One canonical column.

    Attributes:
        name: canonical name, stable (users, scripts and checks depend on it).
        type: Arrow type of the staged/harmonized value.
        key: part of the upsert key.
        required: a source mapping must provide it (or a constant).
        confidential: masked in samples shown outside the firm (UI metadata, public outputs).
        doc: one line for docs and `hub discover`.
    """

    name: str
    type: pa.DataType = TEXT
    key: bool = False
    required: bool = False
    confidential: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Entity:
    """A kind of record a firm's source delivers, mapped onto canonical columns."""

    name: str
    columns: tuple[Column, ...]
    doc: str = ""
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return [c.name for c in self.columns if c.key]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def schema(self, lineage: bool = True) -> pa.Schema:
        """Arrow schema of a staged batch: company_id, the canonical columns, then lineage."""
        fields = [pa.field("company_id", TEXT, nullable=False)]
        fields += [pa.field(c.name, c.type) for c in self.columns]
        if lineage:
            fields += [pa.field("_file", TEXT), pa.field("_line", INT)]
        return pa.schema(fields)


def _c(name: str, type_: pa.DataType = TEXT, **kw: object) -> Column:
    return Column(name, type_, **kw)  # type: ignore[arg-type]


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "orders",
            (
                _c("order_id", key=True, required=True, doc="order number in the firm's ERP"),
                _c("line_no", INT, key=True, required=True, doc="line number within the order"),
                _c("direction", required=True, doc="sale, purchase or work_order"),
                _c("order_date", DATE, required=True, doc="date of the order"),
                _c("sku", required=True, doc="article code (style/SKU) or component code"),
                _c("quantity", FLOAT, required=True, doc="ordered quantity, in `unit`"),
                _c("unit", required=True, doc="unit of measure (canonical after mapping)"),
                _c("counterparty", confidential=True, doc="customer or supplier code"),
                _c("delivery_date", DATE, doc="requested or actual delivery date"),
                _c("unit_price", FLOAT, confidential=True, doc="price per unit"),
            ),
            doc="order lines: sales, purchases and work orders to subcontractors",
        ),
        Entity(
            "bom_lines",
            (
                _c("sku", key=True, required=True, doc="article the component belongs to"),
                _c("line_no", INT, key=True, required=True, doc="line number within the BOM"),
                _c("component_code", required=True, doc="component code in the firm's ERP"),
                _c("component_name", doc="component description"),
                _c("component_kind", doc="fabric, yarn, fibre, trim, label, packaging…"),
                _c("quantity", FLOAT, required=True, confidential=True, doc="quantity per piece"),
                _c("unit", required=True, doc="unit of measure (canonical after mapping)"),
                _c("supplier_code", confidential=True, doc="the firm's code of the supplier"),
                _c("composition", doc="fibre composition as written, e.g. '95% CO 5% EA'"),
                _c("recycled_share", FLOAT, doc="recycled share of the component, 0–1"),
                _c("certifications", doc="certifications of the component, comma separated"),
                _c("origin_country", doc="country of origin of the component"),
                _c("fabric_weight_gsm", FLOAT, doc="fabric weight in g/m² (for fabrics in m)"),
                _c("fabric_width_cm", FLOAT, doc="fabric width in cm (for fabrics in m)"),
                _c("substances", doc="declared substances, 'CAS:concentration%; …' (SVHC check)"),
            ),
            doc="bills of materials: components of each article",
        ),
        Entity(
            "suppliers",
            (
                _c("local_code", key=True, required=True, doc="the firm's code of the supplier"),
                _c("name", required=True, doc="supplier's legal name"),
                _c("vat_number", doc="VAT number (partita IVA)"),
                _c("country", doc="country"),
                _c("municipality", doc="municipality"),
                _c("province", doc="province (sigla)"),
                _c("process", doc="process done for the firm: spinning, dyeing, sewing…"),
                _c("subcontractor", BOOL, doc="a terzista working on the firm's goods"),
            ),
            doc="the firm's supplier list",
        ),
        Entity(
            "products",
            (
                _c("sku", key=True, required=True, doc="article code (style/SKU)"),
                _c("gtin", doc="GTIN/EAN barcode, kept as text"),
                _c("name", required=True, doc="article description"),
                _c("category", doc="garment category"),
                _c("season", doc="season, e.g. FW26"),
                _c("mass_g", FLOAT, doc="mass of one piece in grams"),
                _c("country_of_making", doc="country where the garment is made"),
                _c("composition", doc="fibre composition of the article (yarns, fabrics)"),
            ),
            doc="the firm's articles",
        ),
        Entity(
            "waste_streams",
            (
                _c("material", key=True, required=True, doc="the waste as the firm names it"),
                _c("ewc_code", key=True, required=True, doc="EWC/CER code, e.g. 04 02 22"),
                _c("quantity_kg_year", FLOAT, required=True, doc="kg produced in a year"),
                _c("destination", required=True, doc="recovery or landfill (after mapping)"),
            ),
            doc="waste the firm produces (from its waste register, the MUD declaration)",
        ),
        Entity(
            "certifications",
            (
                _c("scheme", key=True, required=True, doc="GOTS, GRS, SA8000, ISO 45001…"),
                _c("number", key=True, required=True, doc="certificate or audit number"),
                _c("valid_from", DATE, required=True, doc="first day of validity"),
                _c("valid_to", DATE, required=True, doc="last day of validity"),
                _c("grade", doc="the grade an audit gave (amfori BSCI: A–E), if any"),
            ),
            doc="certificates and social audits the firm holds",
        ),
    )
}

CERTIFICATION_SCHEMES = (
    "GOTS", "GRS", "RCS", "OCS", "OEKO-TEX", "RWS", "bluesign", "ZDHC", "FSC", "SA8000",
    "amfori BSCI", "ISO 45001", "ISO 14001", "ISO 9001", "EMAS",
)  # fmt: skip
WASTE_DESTINATIONS = ("recovery", "landfill")


# --- warehouse tables -------------------------------------------------------------------------

metadata = sa.MetaData()


def _t(name: str, *cols: sa.Column) -> sa.Table:
    return sa.Table(name, metadata, *cols)


def _k(name: str, type_: sa.types.TypeEngine = sa.String()) -> sa.Column:
    return sa.Column(name, type_, primary_key=True)


def _v(name: str, type_: sa.types.TypeEngine = sa.String()) -> sa.Column:
    return sa.Column(name, type_)


_F, _I, _D, _B, _TS = sa.Double(), sa.BigInteger(), sa.Date(), sa.Boolean(), sa.DateTime(True)

TABLES: dict[str, sa.Table] = {
    t.name: t
    for t in (
        _t(
            "companies",
            _k("company_id"),
            _v("name"),
            _v("vat_number"),
            _v("role"),
            _v("municipality"),
            _v("province"),
            _v("country"),
            _v("lat", _F),
            _v("lon", _F),
            _v("updated_at", _TS),
        ),
        _t(
            "suppliers",
            _k("supplier_id"),
            _v("name"),
            _v("vat_number"),
            _v("country"),
            _v("municipality"),
            _v("lat", _F),
            _v("lon", _F),
            _v("processes"),
            _v("updated_at", _TS),
            # Harmonization (hub/harmonization): where it is, how many firms' records it merges.
            _v("province"),
            _v("firms", _I),
            _v("match_rules"),
        ),
        _t(
            "supplier_links",
            _k("company_id"),
            _k("supplier_id"),
            _v("local_code"),
            _v("process"),
            _v("subcontractor", _B),
            _v("sync_id"),
            _v("updated_at", _TS),
            # The supplier as this firm lists it, and why it was resolved to `supplier_id`.
            _v("name"),
            _v("vat_number"),
            _v("country"),
            _v("municipality"),
            _v("province"),
            _v("local_codes"),
            _v("source_supplier_id"),
            _v("match_rule"),
            _v("match_evidence"),
        ),
        _t(
            "products",
            _k("company_id"),
            _k("sku"),
            _v("gtin"),
            _v("name"),
            _v("category"),
            _v("season"),
            _v("mass_g", _F),
            _v("country_of_making"),
            _v("sync_id"),
            _v("updated_at", _TS),
            # Harmonization: the article's composition (yarns, fabrics), as for BOM lines.
            _v("composition"),
            _v("composition_text"),
            _v("composition_detail"),
        ),
        _t(
            "bom_lines",
            _k("company_id"),
            _k("sku"),
            _k("line_no", _I),
            _v("component_code"),
            _v("component_name"),
            _v("component_kind"),
            _v("quantity", _F),
            _v("unit"),
            _v("quantity_kg", _F),
            _v("supplier_id"),
            _v("composition"),
            _v("recycled_share", _F),
            _v("certifications"),
            _v("origin_country"),
            _v("sync_id"),
            _v("updated_at", _TS),
            # Harmonization: composition as written and per fibre, base units, how kg was found.
            _v("composition_text"),
            _v("composition_detail"),
            _v("fabric_weight_gsm", _F),
            _v("fabric_width_cm", _F),
            _v("base_quantity", _F),
            _v("base_unit"),
            _v("quantity_kg_basis"),
            _v("substances"),  # declared substances (CAS, w/w), checked by the passports
        ),
        _t(
            "order_lines",
            _k("company_id"),
            _k("order_id"),
            _k("line_no", _I),
            _v("direction"),
            _v("order_date", _D),
            _v("sku"),
            _v("quantity", _F),
            _v("unit"),
            _v("counterparty"),
            _v("delivery_date", _D),
            _v("unit_price", _F),
            _v("sync_id"),
            _v("updated_at", _TS),
            # Harmonization: the quantity in base units (kg, m, m2, l, pcs, pair, set), as for
            # BOM lines.
            _v("base_quantity", _F),
            _v("base_unit"),
        ),
        _t(
            "certifications",
            _k("holder_id"),
            _k("scheme"),
            _k("number"),
            _v("valid_from", _D),
            _v("valid_to", _D),
            _v("updated_at", _TS),
            _v("grade"),  # an audit's grade (amfori BSCI: A–E)
            _v("sync_id"),
        ),
        _t(
            "waste_streams",
            _k("company_id"),
            _k("material"),
            _k("ewc_code"),
            _v("quantity_kg_year", _F),
            _v("destination"),
            _v("updated_at", _TS),
            _v("sync_id"),
        ),
        _t(
            "quarantine",
            _k("sync_id"),
            _k("company_id"),
            _k("entity"),
            _k("source"),
            _k("line", _I),
            _v("file"),
            _v("rule"),
            _v("reason"),
            _v("row"),
            _v("created_at", _TS),
            _v("resolved_at", _TS),
        ),
        _t(
            "syncs",
            _k("sync_id"),
            _v("run_id"),
            _v("company_id"),
            _v("source"),
            _v("entity"),
            _v("started_at", _TS),
            _v("finished_at", _TS),
            _v("status"),
            _v("rows_read", _I),
            _v("rows_loaded", _I),
            _v("rows_quarantined", _I),
            _v("cursor"),
            _v("message"),
            _v("rows_deleted", _I),  # database and API sources: records deleted in the source
        ),
        # The file ledger: a file is loaded once. Written in the same transaction as its rows.
        _t(
            "file_ledger",
            _k("company_id"),
            _k("source"),
            _k("path"),
            _k("sha256"),
            _v("size", _I),
            _v("mtime", _F),
            _v("entity"),
            _v("status"),
            _v("sync_id"),
            _v("loaded_at", _TS),
        ),
        # Database and API sources: the cursor (e.g. a write date) committed with its rows.
        _t(
            "source_cursors",
            _k("company_id"),
            _k("source"),
            _k("entity"),
            _v("cursor"),
            _v("sync_id"),
            _v("updated_at", _TS),
        ),
        # Database and API sources: records deleted in the source, removed from `table_name` by
        # the sync `sync_id`; `record_key` is the table's key as JSON, `row` the row as it was.
        _t(
            "source_deletions",
            _k("sync_id"),
            _k("table_name"),
            _k("record_key"),
            _v("company_id"),
            _v("source"),
            _v("entity"),
            _v("row"),
            _v("deleted_at", _TS),
        ),
        _t(
            "passports",
            _k("company_id"),
            _k("sku"),
            _k("version", _I),
            _v("passport_id"),
            _v("issued_at", _TS),
            _v("public_json"),
            _v("restricted_json"),
            _v("content_sha256"),  # digest of the content: a new version only when it changes
        ),
        _t(
            "company_ratings",
            _k("company_id"),
            _k("criterion"),
            _k("as_of", _D),
            _v("score", _F),
            _v("grade"),
            _v("coverage", _F),
            _v("evidence"),
            # Ratings (hub/ratings): scored or insufficient_data, weight in the overall grade,
            # the change since the previous rating, the improvement path, the methodology used.
            _v("status"),
            _v("weight", _F),
            _v("previous_as_of", _D),
            _v("previous_score", _F),
            _v("change", _F),
            _v("improvement"),
            _v("methodology_version"),
            _v("computed_at", _TS),
        ),
        # A firm's position per criterion against anonymized peers (hub/ratings/benchmark.py):
        # percentiles and aggregates only, never another firm's id or value.
        _t(
            "company_benchmarks",
            _k("company_id"),
            _k("criterion"),
            _k("as_of", _D),
            _v("role"),
            _v("score", _F),
            _v("district_peers", _I),
            _v("district_percentile", _F),
            _v("district_median", _F),
            _v("role_peers", _I),
            _v("role_percentile", _F),
            _v("role_median", _F),
            _v("note"),
        ),
        _t(
            "symbiosis_matches",
            _k("offer_company_id"),
            _k("demand_company_id"),
            _k("material"),
            _v("distance_km", _F),
            _v("quantity_kg_year", _F),
            _v("score", _F),
            # Matchmaking (hub/symbiosis.py): the waste, the use it finds, why and how far.
            _v("ewc_code"),
            _v("use"),
            _v("demand_kg_year", _F),
            _v("compatibility", _F),
            _v("landfill_kg_avoided", _F),
            _v("distance_basis"),
            _v("evidence"),
            _v("as_of", _D),
        ),
        # Supply chain per product (hub/harmonization/supply_chain.py): one row per step of the
        # chain — a process at a facility, with its tier (1 making, 2 materials, 3 yarn, 4 fibre).
        _t(
            "supply_chain_steps",
            _k("company_id"),
            _k("sku"),
            _k("step_no", _I),
            _v("stage"),
            _v("process"),
            _v("tier", _I),
            _v("facility_kind"),
            _v("facility_id"),
            _v("facility_name"),
            _v("facility_country"),
            _v("facility_municipality"),
            _v("lat", _F),
            _v("lon", _F),
            _v("distance_km", _F),
            _v("component_code"),
            _v("material"),
            _v("mass_kg", _F),
            _v("source"),
            _v("evidence"),
            _v("computed_at", _TS),
        ),
        # "Filiera corta": shares of a product's chain steps and material mass within 50/100/300 km.
        _t(
            "product_chain_indicators",
            _k("company_id"),
            _k("sku"),
            _v("steps", _I),
            _v("steps_located", _I),
            _v("max_tier", _I),
            _v("share_steps_50km", _F),
            _v("share_steps_100km", _F),
            _v("share_steps_300km", _F),
            _v("mass_kg", _F),
            _v("mass_kg_located", _F),
            _v("share_mass_50km", _F),
            _v("share_mass_100km", _F),
            _v("share_mass_300km", _F),
            _v("countries"),
            _v("computed_at", _TS),
        ),
    )
}

# Tables whose past versions are kept (hub/harmonization/history.py): `<table>_history` has the
# table's key plus `valid_from`, its columns, `valid_to` (empty while current) and `row_hash`.
HISTORY_OF = ("products", "bom_lines", "supplier_links")


def _history_table(base: sa.Table) -> sa.Table:
    cols = [_k(c.name, c.type) for c in base.primary_key.columns]
    cols.append(_k("valid_from", _TS))
    cols += [_v(c.name, c.type) for c in base.columns if not c.primary_key]
    cols += [_v("valid_to", _TS), _v("row_hash")]
    return _t(f"{base.name}_history", *cols)


TABLES.update({f"{n}_history": _history_table(TABLES[n]) for n in HISTORY_OF})

# Which harmonized table each staged entity lands in.
TABLE_OF_ENTITY = {
    "orders": "order_lines",
    "bom_lines": "bom_lines",
    "suppliers": "supplier_links",
    "products": "products",
    "waste_streams": "waste_streams",
    "certifications": "certifications",
}


def key_columns(table: str) -> list[str]:
    return [c.name for c in TABLES[table].primary_key.columns]


_SA_TO_ARROW: dict[type, pa.DataType] = {
    sa.String: TEXT,
    sa.Float: FLOAT,
    sa.Double: FLOAT,
    sa.BigInteger: INT,
    sa.Date: DATE,
    sa.Boolean: BOOL,
    sa.DateTime: TIMESTAMP,
}


def arrow_schema(table: str) -> pa.Schema:
    """Arrow schema of a warehouse table, derived from its SQLAlchemy declaration."""
    return pa.schema(
        pa.field(c.name, _SA_TO_ARROW[type(c.type)], nullable=not c.primary_key)
        for c in TABLES[table].columns
    )
