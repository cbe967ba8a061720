"""A small fashion firm in a real Tryton, populated through Tryton's own JSON-RPC API.

Used by the ERP tests and by `make demo` (`hub.demo`): a running `trytond` on a copy of the template
database (`scripts/tryton-env.sh`) gets a company, suppliers with VAT numbers, fabrics, trims
and labels bought from them, garments with bills of materials, purchase and sales orders, and
a read-only user for the hub.

Also starts and stops such a server (`TrytonServer`), for tests and the demo.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from connectors.tryton import TrytonClient, TrytonError

ROOT = Path(__file__).resolve().parent.parent
TRYTON_VENV = Path(os.environ.get("TRYTON_VENV", ROOT / ".venv-tryton"))
TEMPLATE = TRYTON_VENV / "template" / "template.sqlite"
ADMIN_PASSWORD = "admin"  # the template's admin, on loopback only
HUB_USER = "hub"
HUB_PASSWORD = "hub-Reader-2026-carpi"  # the demo's; a real firm's comes from ${ENV}

SUPPLIERS = [  # code, name, VAT, city, province, what they sell
    ("F001", "Tessitura Biellese S.p.A.", "IT00743110157", "Biella", "BI", "fabric"),
    ("F002", "Bottonificio Carpigiano S.r.l.", "IT01234560363", "Carpi", "MO", "trim"),
    ("F003", "Etichettificio Emiliano S.n.c.", "IT02005390360", "Modena", "MO", "label"),
]
COMPONENTS = [  # code, name, category, unit symbol, supplier, composition
    ("TES-JER-01", "Jersey cotone bio 180 g", "Fabrics", "m", "F001", "100% CO organic"),
    ("TES-FLC-02", "Felpa garzata", "Fabrics", "m", "F001", "80% CO 20% PES"),
    ("BOT-COR-11", "Bottone corozo 15 mm", "Trims", "u", "F002", None),
    ("ETI-RAS-01", "Etichetta raso composizione", "Labels", "u", "F003", None),
]
GARMENTS = [  # code, name, EAN, bom: (component, quantity)
    ("MAG-001", "T-shirt girocollo", "8001234567897",
     [("TES-JER-01", "1.20"), ("ETI-RAS-01", "1")]),
    ("FEL-002", "Felpa con bottoni", "8001234567804",
     [("TES-FLC-02", "1.65"), ("BOT-COR-11", "4"), ("ETI-RAS-01", "1")]),
]  # fmt: skip
CUSTOMERS = [("C001", "Boutique Modena S.r.l.", "IT03360950368")]


# The same entities read straight from Tryton's database (here its SQLite file) by the SQL
# connector. Tryton keeps Numeric values as bytes on SQLite: cast them to text.
_CHANGED = (
    "MAX(COALESCE({a}.write_date, {a}.create_date), COALESCE({b}.write_date, {b}.create_date))"
)
_ORDERS = """
SELECT '{kind}/' || h.number AS order_key, l.id AS line, '{kind}' AS direction,
       h.{kind}_date AS date, p.code AS product, l.quantity AS quantity, u.symbol AS unit,
       pa.code AS party, NULL AS delivery_date, CAST(l.unit_price AS TEXT) AS unit_price,
       {changed} AS changed_at
FROM {kind}_line l JOIN {kind}_{kind} h ON h.id = l.{kind}
JOIN product_product p ON p.id = l.product JOIN product_uom u ON u.id = l.unit
JOIN party_party pa ON pa.id = h.party
WHERE l.type = 'line' AND h.state NOT IN ('draft', 'cancelled')"""
SQL_ENTITIES: dict[str, dict] = {
    "orders": {
        "query": " UNION ALL ".join(
            _ORDERS.format(kind=k, changed=_CHANGED.format(a="l", b="h"))
            for k in ("sale", "purchase")
        ),
        "cursor_column": "changed_at",
    },
    "bom_lines": {
        "query": f"""
SELECT pp.code AS product, i.id AS line, c.code AS component, t.name AS component_name,
       (SELECT cat.name FROM "product_template-product_category" tc
        JOIN product_category cat ON cat.id = tc.category
        WHERE tc.template = t.id ORDER BY tc.id LIMIT 1) AS category,
       i.quantity AS quantity, u.symbol AS unit,
       (SELECT sp.code FROM purchase_product_supplier ps JOIN party_party sp ON sp.id = ps.party
        WHERE ps.template = t.id ORDER BY ps.sequence, ps.id LIMIT 1) AS supplier,
       c.description AS description, {_CHANGED.format(a="i", b="b")} AS changed_at
FROM production_bom_input i JOIN production_bom b ON b.id = i.bom
JOIN "product_product-production_bom" pb ON pb.bom = b.id
JOIN product_product pp ON pp.id = pb.product
JOIN product_product c ON c.id = i.product JOIN product_template t ON t.id = c.template
JOIN product_uom u ON u.id = i.unit""",
        "cursor_column": "changed_at",
    },
    "suppliers": {
        "query": """
SELECT pa.code AS code, pa.name AS name,
       (SELECT i.code FROM party_identifier i WHERE i.party = pa.id AND i.type = 'eu_vat'
        ORDER BY i.sequence, i.id LIMIT 1) AS vat,
       co.code AS country, a.city AS city, substr(sd.code, 4) AS province,
       COALESCE(pa.write_date, pa.create_date) AS changed_at
FROM party_party pa
LEFT JOIN party_address a ON a.id = (SELECT MIN(id) FROM party_address WHERE party = pa.id)
LEFT JOIN country_country co ON co.id = a.country
LEFT JOIN country_subdivision sd ON sd.id = a.subdivision
WHERE EXISTS (SELECT 1 FROM party_category_rel r JOIN party_category cat ON cat.id = r.category
              WHERE r.party = pa.id AND cat.name = 'Suppliers')""",
        "cursor_column": "changed_at",
    },
    "products": {
        "query": f"""
SELECT p.code AS code,
       (SELECT i.code FROM product_identifier i WHERE i.product = p.id
        AND i.type IN ('ean', 'gtin') ORDER BY i.sequence, i.id LIMIT 1) AS ean,
       t.name AS name,
       (SELECT cat.name FROM "product_template-product_category" tc
        JOIN product_category cat ON cat.id = tc.category
        WHERE tc.template = t.id ORDER BY tc.id LIMIT 1) AS category,
       {_CHANGED.format(a="p", b="t")} AS changed_at
FROM product_product p JOIN product_template t ON t.id = p.template
WHERE t.salable""",
        "cursor_column": "changed_at",
    },
}


def firm_yaml(company_id: str, source: dict, name: str = "Maglificio Tryton S.r.l.") -> dict:
    """A district.yaml firm block whose data comes from Tryton (API or database source)."""
    return {
        "company_id": company_id, "name": name, "vat_number": "IT04123450365",
        "role": "manufacturer", "municipality": "Carpi", "province": "MO",
        "sources": [source],
    }  # fmt: skip


# The sample district's Tryton firm (district.yaml, written by `hub.sample`): off unless the
# demo's Tryton runs (`make demo` and `make ui` start it and set these variables).
COMPANY_ID = "maglificio-tryton"
ENABLED_ENV, URL_ENV, DATABASE_ENV, PASSWORD_ENV = (
    "HUB_TRYTON_DEMO", "HUB_TRYTON_URL", "HUB_TRYTON_DATABASE", "HUB_TRYTON_PASSWORD")  # fmt: skip
SAMPLE_FIRM_ABOUT = (
    "Maglificio Tryton S.r.l. (manufacturer): its own Tryton ERP, read through Tryton's API; "
    f"enabled only while the demo's Tryton runs (make demo, make ui set {ENABLED_ENV})."
)


def sample_firm() -> dict:
    """The block of the Tryton firm in the sample's district.yaml."""
    source = api_source(f"${{{URL_ENV}:-http://127.0.0.1:8000}}", f"${{{DATABASE_ENV}:-firm}}",
                        PASSWORD_ENV)  # fmt: skip
    firm = firm_yaml(COMPANY_ID, source)
    return {"company_id": COMPANY_ID, "enabled": f"${{{ENABLED_ENV}:-false}}", **firm}


def api_source(url: str, database: str, password_env: str) -> dict:
    return {"name": "tryton", "kind": "tryton", "url": url, "database": database,
            "user": HUB_USER, "password": "${" + password_env + "}", "retries": 1}  # fmt: skip


def sql_source(db_file: Path) -> dict:
    """Tryton's own database: the profile's columns, read by the queries above."""
    from hub.tryton_profile import TRYTON_PROFILE

    entities = {}
    for entity, spec in SQL_ENTITIES.items():
        entities[entity] = {**TRYTON_PROFILE[entity], **spec}
    return {"name": "tryton-db", "kind": "sql", "url": f"sqlite:///{db_file}",
            "entities": entities}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class TrytonServer:
    """A `trytond` on loopback, on a copy of the template database in `folder`."""

    folder: Path
    database: str = "firm"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_file(self) -> Path:
        return self.folder / f"{self.database}.sqlite"

    def create_database(self) -> None:
        if not TEMPLATE.exists():
            raise RuntimeError(f"no Tryton template database {TEMPLATE}: run scripts/tryton-env.sh")
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(TEMPLATE, self.db_file)

    def start(self, timeout: float = 60.0) -> None:
        conf = self.folder / "trytond.conf"
        conf.write_text(
            f"[database]\nuri = sqlite://\npath = {self.folder}\n"
            f"[web]\nlisten = 127.0.0.1:{self.port}\n"
            "[session]\nmax_attempt = 1000\n",
            encoding="utf-8",
        )
        log = open(self.folder / "trytond.log", "ab")  # noqa: SIM115 - lives with the server
        self.process = subprocess.Popen(
            [str(TRYTON_VENV / "bin" / "trytond"), "-c", str(conf)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"trytond exited; see {self.folder / 'trytond.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"trytond did not listen on port {self.port} within {timeout} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def admin(self) -> Admin:
        client = TrytonClient(self.url, self.database, "admin", ADMIN_PASSWORD, retries=2,
                              backoff=0.2)  # fmt: skip
        return Admin(client)


class Admin:
    """Tryton's API as the administrator: create records and run workflow buttons."""

    def __init__(self, client: TrytonClient) -> None:
        self.client = client
        self.context: dict = {}

    def call(self, model: str, method: str, *args: object) -> object:
        return self.client.call(f"model.{model}.{method}", *args, self.context)

    def create(self, model: str, values: list[dict]) -> list[int]:
        return self.call(model, "create", values)  # type: ignore[return-value]

    def write(self, model: str, ids: list[int], values: dict) -> None:
        self.call(model, "write", ids, values)

    def search(self, model: str, domain: list) -> list[int]:
        return self.call(model, "search", domain, 0, None, None)  # type: ignore[return-value]

    def one(self, model: str, domain: list) -> int:
        ids = self.search(model, domain)
        if len(ids) != 1:
            raise TrytonError(f"{model} {domain}: {len(ids)} records, expected one")
        return ids[0]


@dataclass
class Firm:
    """Ids of what `populate` created, for tests that change records afterwards."""

    company: int
    parties: dict[str, int]
    products: dict[str, int]
    templates: dict[str, int]
    sales: list[int]
    purchases: list[int]


def populate(admin: Admin) -> Firm:
    """A small knitwear firm of Carpi, entered through the API as a user would."""
    eur = admin.create("currency.currency", [{
        "name": "Euro", "code": "EUR", "symbol": "€", "rounding": Decimal("0.01"), "digits": 2,
    }])[0]  # fmt: skip
    italy = admin.create("country.country", [{"name": "Italy", "code": "IT"}])[0]
    mo, bi = admin.create("country.subdivision", [
        {"name": "Modena", "code": "IT-MO", "type": "province", "country": italy},
        {"name": "Biella", "code": "IT-BI", "type": "province", "country": italy},
    ])  # fmt: skip
    provinces = {"MO": mo, "BI": bi}
    own = admin.create("party.party", [{"name": "Maglificio Tryton S.r.l.", "code": "OWN",
        "addresses": [["create", [{"city": "Carpi", "country": italy}]]]}])[0]  # fmt: skip
    company = admin.create("company.company", [{"party": own, "currency": eur}])[0]
    admin.write("res.user", [admin.one("res.user", [["login", "=", "admin"]])],
                {"companies": [["add", [company]]], "company": company})  # fmt: skip
    admin.context = {"company": company, "companies": [company]}
    suppliers_cat = admin.create("party.category", [{"name": "Suppliers"}])[0]
    parties = {}
    for code, name, vat, city, prov, _ in SUPPLIERS:
        parties[code] = admin.create("party.party", [{
            "name": name, "code": code, "categories": [["add", [suppliers_cat]]],
            "identifiers": [["create", [{"type": "eu_vat", "code": vat}]]],
            "addresses": [["create", [{"city": city, "country": italy,
                                       "subdivision": provinces.get(prov)}]]],
        }])[0]  # fmt: skip
    for code, name, vat in CUSTOMERS:
        parties[code] = admin.create("party.party", [{
            "name": name, "code": code,
            "identifiers": [["create", [{"type": "eu_vat", "code": vat}]]],
            "addresses": [["create", [{"city": "Modena", "country": italy}]]],
        }])[0]  # fmt: skip
    uom = {s: admin.one("product.uom", [["symbol", "=", s]]) for s in ("u", "m")}
    categories = {
        n: admin.create("product.category", [{"name": n}])[0]
        for n in ("Fabrics", "Trims", "Labels", "Garments")
    }
    products, templates = {}, {}
    for code, name, cat, unit, supplier, composition in COMPONENTS:
        tid = admin.create("product.template", [{
            "name": name, "code": code, "type": "goods", "default_uom": uom[unit],
            "list_price": Decimal(0),
            "purchasable": True, "purchase_uom": uom[unit],
            "categories": [["add", [categories[cat]]]],
            "products": [["create", [{"description": composition}]]],
        }])[0]  # fmt: skip
        templates[code] = tid
        products[code] = admin.one("product.product", [["code", "=", code]])
        admin.create("purchase.product_supplier", [{"template": tid, "party": parties[supplier]}])
    for code, name, ean, bom in GARMENTS:
        tid = admin.create("product.template", [{
            "name": name, "code": code, "type": "goods", "default_uom": uom["u"],
            "list_price": Decimal(25),
            "salable": True, "sale_uom": uom["u"], "producible": True,
            "categories": [["add", [categories["Garments"]]]],
            "products": [["create", [{
                "identifiers": [["create", [{"type": "ean", "code": ean}]]]}]]],
        }])[0]  # fmt: skip
        templates[code] = tid
        products[code] = pid = admin.one("product.product", [["code", "=", code]])
        bom_id = admin.create("production.bom", [{
            "name": f"Distinta {code}",
            "inputs": [["create", [{"product": products[c], "quantity": float(q),
                                    "unit": uom[_unit_of(c)]} for c, q in bom]]],
            "outputs": [["create", [{"product": pid, "quantity": 1.0, "unit": uom["u"]}]]],
        }])[0]  # fmt: skip
        admin.create("product.product-production.bom", [{"product": pid, "bom": bom_id}])
    purchases = [_purchase(admin, parties["F001"], products["TES-JER-01"], uom["m"], "350")]
    sales = [
        _sale(admin, parties["C001"], [(products["MAG-001"], uom["u"], 120, "12.50"),
                                       (products["FEL-002"], uom["u"], 40, "31.00")]),
    ]  # fmt: skip
    _hub_user(admin)
    return Firm(company, parties, products, templates, sales, purchases)


def _unit_of(code: str) -> str:
    return next(c[3] for c in COMPONENTS if c[0] == code)


def _address(admin: Admin, party: int) -> int:
    return admin.search("party.address", [["party", "=", party]])[0]


def _sale(admin: Admin, party: int, lines: list[tuple], day: date = date(2026, 3, 2)) -> int:
    address = _address(admin, party)
    sid = admin.create("sale.sale", [{
        "party": party, "invoice_address": address, "shipment_address": address,
        "sale_date": day,
        "lines": [["create", [{"product": p, "unit": u, "quantity": float(q),
                               "unit_price": Decimal(price)} for p, u, q, price in lines]]],
    }])[0]  # fmt: skip
    admin.call("sale.sale", "quote", [sid])
    return sid


def _purchase(admin: Admin, party: int, product: int, unit: int, quantity: str) -> int:
    pid = admin.create("purchase.purchase", [{
        "party": party, "invoice_address": _address(admin, party),
        "purchase_date": date(2026, 2, 10),
        "lines": [["create", [{"product": product, "unit": unit, "quantity": float(quantity),
                               "unit_price": Decimal("6.40")}]]],
    }])[0]  # fmt: skip
    admin.call("purchase.purchase", "quote", [pid])
    return pid


def _hub_user(admin: Admin) -> None:
    """The hub's user: the groups that read sales, purchases and production, nothing else."""
    wanted = ("Sales", "Purchase", "Production", "Stock", "Product Administration")
    groups = admin.search("res.group", [["name", "in", list(wanted)]])
    admin.create("res.user", [{"name": "District hub (read only)", "login": HUB_USER,
                               "password": HUB_PASSWORD,
                               "groups": [["add", groups]]}])  # fmt: skip


def start_demo(folder: Path) -> TrytonServer:
    """The demo's Tryton: started on a free loopback port, its database made from the template
    and populated on the first start only (a half-populated one is made again)."""
    server = TrytonServer(folder)
    populated = folder / "populated"
    if not populated.exists():
        server.create_database()  # a fresh copy of the template, over any half-made one
    server.start()
    try:
        if not populated.exists():
            populate(server.admin())
            populated.write_text(f"{date.today().isoformat()}\n", encoding="utf-8")
    except BaseException:
        server.stop()
        raise
    return server
