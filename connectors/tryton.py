"""The Tryton connector: a Tryton ERP read through its JSON-RPC API.

Logs in as a configured user (a user with read access is enough), then reads parties
(suppliers), products, bills of materials (production module), and sales and purchase order
lines, as flat rows whose headers the Tryton mapping profile (`hub.tryton_profile`) maps onto
canonical columns. Values are typed by Tryton and written as unambiguous text (ISO dates, '.'
decimals).

Incremental by write date: Tryton stamps `create_date` on insert and `write_date` on update, so
a record (or its order or template) changed after the last committed cursor is read again.
Records are paged by id (keyset), so that a page boundary never skips a record. Transient
errors (connection refused, timeouts, HTTP 429/502/503/504) are retried with exponential
backoff; a wrong password or an unknown database fails at once with a clear message.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa
import requests
import tenacity

from connectors.base import (
    CheckResult,
    Extract,
    FileCursor,
    Fingerprint,
    SourceError,
    Stream,
    ValueCursor,
)
from connectors.sql import _text

TRANSIENT_STATUS = {429, 502, 503, 504}
SAMPLE_VALUES = 3


class TrytonError(SourceError):
    """Tryton refused a call or cannot be reached. Never carries the password."""


class _Transient(TrytonError):
    """An error worth retrying."""


# --- JSON-RPC values ----------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"__class__": "datetime", "year": value.year, "month": value.month,
                "day": value.day, "hour": value.hour, "minute": value.minute,
                "second": value.second, "microsecond": value.microsecond}  # fmt: skip
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    raise TypeError(f"cannot send {type(value).__name__} to Tryton")


def _decode(obj: dict) -> Any:
    kind = obj.get("__class__")
    if kind == "datetime":
        return dt.datetime(obj["year"], obj["month"], obj["day"], obj["hour"], obj["minute"],
                           obj["second"], obj["microsecond"])  # fmt: skip
    if kind == "date":
        return dt.date(obj["year"], obj["month"], obj["day"])
    if kind == "time":
        return dt.time(obj["hour"], obj["minute"], obj["second"], obj["microsecond"])
    if kind == "timedelta":
        return dt.timedelta(seconds=obj["seconds"])
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


class TrytonClient:
    """A minimal Tryton JSON-RPC client: login, calls with retries, logout.

    Args:
        url: server URL, e.g. 'http://127.0.0.1:8000'.
        database: the Tryton database.
        user: login.
        password: the password (kept in memory only; never in messages or `repr`).
        timeout: seconds per HTTP request.
        retries: retries of a transient error.
        backoff: first wait between retries in seconds, doubled each time (capped at 30 s).
    """

    def __init__(
        self,
        url: str,
        database: str,
        user: str,
        password: str,
        *,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 1.0,
    ) -> None:
        self.url, self.database, self.user = url.rstrip("/"), database, user
        self._password = password
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self._session: str | None = None
        self._http = requests.Session()
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"Tryton({self.url}/{self.database} as {self.user})"

    def login(self) -> None:
        result = self._call("common.db.login", [self.user, {"password": self._password}, "en"],
                            auth=False)  # fmt: skip
        user_id, key = result
        token = f"{self.user}:{user_id}:{key}".encode()
        self._session = "Session " + base64.b64encode(token).decode()

    def logout(self) -> None:
        if self._session:
            with contextlib.suppress(TrytonError):  # the session expires on its own
                self._call("common.db.logout", [], retry=False)
            self._session = None
        self._http.close()

    def call(self, method: str, *params: Any) -> Any:
        if self._session is None:
            self.login()
        return self._call(method, list(params))

    def search_read(self, model: str, domain: list, fields: list[str], *, limit: int,
                    offset: int = 0) -> list[dict]:  # fmt: skip
        return self.call(f"model.{model}.search_read", domain, offset, limit,
                         [["id", "ASC"]], fields, {})  # fmt: skip

    def _call(self, method: str, params: list, *, auth: bool = True, retry: bool = True) -> Any:
        attempt = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Transient),
            stop=tenacity.stop_after_attempt(1 + (self.retries if retry else 0)),
            wait=tenacity.wait_exponential(multiplier=self.backoff, max=30),
            reraise=True,
        )
        return attempt(self._post, method, params, auth)

    def _post(self, method: str, params: list, auth: bool) -> Any:
        body = json.dumps({"id": next(self._ids), "method": method, "params": params},
                          default=_encode)  # fmt: skip
        headers = {"Content-Type": "application/json"}
        if auth and self._session:
            headers["Authorization"] = self._session
        where = f"{self.url}/{self.database}/"
        try:
            resp = self._http.post(where, data=body, headers=headers, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Transient(f"{self!r}: cannot reach the server ({type(exc).__name__})") from None
        if resp.status_code == 401:
            what = "wrong user or password" if method == "common.db.login" else "session refused"
            raise TrytonError(f"{self!r}: {what} (HTTP 401)")
        if resp.status_code == 403:
            raise TrytonError(f"{self!r}: access forbidden (HTTP 403)")
        if resp.status_code == 404:
            raise TrytonError(f"{self!r}: no database '{self.database}' on the server (HTTP 404)")
        if resp.status_code in TRANSIENT_STATUS:
            raise _Transient(f"{self!r}: server busy (HTTP {resp.status_code})")
        if resp.status_code != 200:
            raise TrytonError(f"{self!r}: HTTP {resp.status_code} on {method}")
        try:
            payload = json.loads(resp.content, object_hook=_decode)
        except ValueError:
            raise TrytonError(f"{self!r}: the answer to {method} is not JSON") from None
        if payload.get("error"):
            err = payload["error"]
            name = err[0] if isinstance(err, list) and err else str(err)
            detail = err[1] if isinstance(err, list) and len(err) > 1 else ""
            raise TrytonError(f"{self!r}: {method} failed: {name} {str(detail)[:300]}".strip())
        return payload.get("result")


# --- what is read -------------------------------------------------------------------------------


def _get(row: dict, path: str) -> Any:
    """'sale.party.code' of a search_read row (related records come as 'sale.': {...})."""
    node: Any = row
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.get(part + ".") if isinstance(node, dict) else None
        if isinstance(node, list):  # x2many: the first record
            node = node[0] if node else None
    return node.get(parts[-1]) if isinstance(node, dict) else None


@dataclass(frozen=True)
class _Read:
    """One Tryton model read for an entity: fields, filter, and the timestamps that say a row
    changed (its own and its parent's)."""

    model: str
    fields: tuple[str, ...]
    domain: tuple = ()
    stamps: tuple[str, ...] = ("create_date", "write_date")
    row: Callable[[dict], dict] = field(default=lambda r: r)


def _changed(stamps: tuple[str, ...], since: dt.datetime | None) -> list:
    if since is None:
        return []
    return [["OR", *[[s, ">", since] for s in stamps]]]


def _order_row(kind: str) -> Callable[[dict], dict]:
    date, delivery = ("sale_date", "shipping_date") if kind == "sale" else (
        "purchase_date", "delivery_date")  # fmt: skip

    def row(r: dict) -> dict:
        return {
            "order": _get(r, f"{kind}.number"), "line": r["id"], "direction": kind,
            # Sales and purchases are numbered apart: the key tells them apart.
            "order_key": f"{kind}/{_get(r, f'{kind}.number')}" if _get(r, f"{kind}.number")
            else None,
            "date": _get(r, f"{kind}.{date}"), "product": _get(r, "product.code"),
            "quantity": r.get("quantity"), "unit": _get(r, "unit.symbol"),
            "party": _get(r, f"{kind}.party.code"), "delivery_date": r.get(delivery),
            "unit_price": r.get("unit_price"),
        }  # fmt: skip

    return row


def _order_read(kind: str) -> _Read:
    delivery = "shipping_date" if kind == "sale" else "delivery_date"
    date = "sale_date" if kind == "sale" else "purchase_date"
    return _Read(
        f"{kind}.line",
        (
            f"{kind}.number",
            f"{kind}.{date}",
            f"{kind}.party.code",
            "product.code",
            "quantity",
            "unit.symbol",
            delivery,
            "unit_price",
        ),  # fmt: skip
        (("type", "=", "line"), (f"{kind}.state", "not in", ["draft", "cancelled"])),
        ("create_date", "write_date", f"{kind}.create_date", f"{kind}.write_date"),
        _order_row(kind),
    )


ORDER_COLUMNS = ["order_key", "order", "line", "direction", "date", "product", "quantity",
                 "unit", "party", "delivery_date", "unit_price"]  # fmt: skip
BOM_COLUMNS = ["product", "line", "component", "component_name", "category", "quantity",
               "unit", "supplier", "description"]  # fmt: skip
SUPPLIER_COLUMNS = ["code", "name", "vat", "country", "city", "province", "category"]
PRODUCT_COLUMNS = ["code", "ean", "name", "category", "description"]


# Key scans that read ids and codes only: entity → (the headers they give, the scan).
_KEY_READS: dict[str, tuple[set[str], Callable[[Any], list[dict]]]] = {
    "orders": ({"order_key", "order", "line", "direction"}, lambda c: c._order_keys()),
    "bom_lines": ({"product", "line"}, lambda c: c._bom_keys()),
    "suppliers": ({"code"}, lambda c: c._code_keys(
        "party.party", (("categories.name", "=", c.supplier_category),))),
    "products": ({"code"}, lambda c: c._code_keys("product.product", (("salable", "=", True),))),
}  # fmt: skip


class TrytonConnector:
    """Reads a firm's Tryton through JSON-RPC.

    Args:
        client: the logged-out client (it logs in on first use).
        supplier_category: parties in this party category (or named in a purchase's
            supplier list) are the firm's suppliers.
        page_size: records per call.
    """

    cursor_kind = "value"
    ENTITIES = ("orders", "bom_lines", "suppliers", "products")

    def __init__(self, client: TrytonClient, *, page_size: int = 500,
                 supplier_category: str = "Suppliers") -> None:  # fmt: skip
        self.client, self.page_size, self.supplier_category = client, page_size, supplier_category

    def __repr__(self) -> str:
        return f"TrytonConnector({self.client!r})"

    def close(self) -> None:
        self.client.logout()

    def check(self) -> CheckResult:
        """Log in and read the server's version."""
        try:
            self.client.login()
            for model in ("party.party", "product.product", "sale.line", "purchase.line",
                          "production.bom.input"):  # fmt: skip
                self.client.search_read(model, [], ["id"], limit=1)
        except TrytonError as exc:
            return CheckResult(False, str(exc))
        finally:
            self.client.logout()
        return CheckResult(True, f"{self.client!r}: logged in, every entity readable")

    def discover(self) -> list[Stream]:
        """The entities the connector reads, their headers and a few sample rows."""
        streams = []
        try:
            for entity in self.ENTITIES:
                header, rows, _ = self._rows(entity, None, limit=SAMPLE_VALUES)
                samples = {h: [_text(r.get(h)) for r in rows[:SAMPLE_VALUES]] for h in header}
                streams.append(Stream(entity, entity, header, samples))
        finally:
            self.client.logout()
        return streams

    def read(self, entity: str, cursor: FileCursor | ValueCursor) -> Iterator[Extract]:
        """Records of the entity created or changed after the cursor, as one extract.

        Yields:
            At most one extract; its `cursor` is the latest write date read, as ISO text.
        """
        since = None
        if isinstance(cursor, ValueCursor) and cursor.value:
            since = dt.datetime.fromisoformat(cursor.value)
        try:
            header, rows, high = self._rows(entity, since)
        finally:
            self.client.logout()
        if not rows:
            return
        columns = [pa.array([_text(r.get(h)) for r in rows], pa.string()) for h in header]
        lines = pa.array(range(2, 2 + len(rows)), pa.int64())
        table = pa.Table.from_arrays([*columns, lines], names=[*header, "_line"])
        digest = hashlib.sha256(json.dumps(rows, default=str, sort_keys=True).encode())
        name = f"{entity}-tryton"
        since_text = f"since {since.isoformat()}" if since else "all"
        fp = Fingerprint(f"{name} {since_text}", len(rows), time.time(), digest.hexdigest())
        yield Extract(name, fp, lambda: (table, header), cursor=high.isoformat() if high else None)

    def keys(self, entity: str, columns: list[str]) -> pa.Table:
        """The `columns` (a record's key) of every record the entity holds now, for the hub
        to find records deleted in Tryton. Reads ids and codes only when the key is among
        them (the built-in profile's keys), else whole records."""
        try:
            light = _KEY_READS.get(entity)
            if light and set(columns) <= light[0]:
                rows = light[1](self)
            else:
                rows = self._rows(entity, None)[1]
        finally:
            self.client.logout()
        return pa.table({c: pa.array([_text(r.get(c)) for r in rows], pa.string())
                         for c in columns})  # fmt: skip

    def _order_keys(self) -> list[dict]:
        rows: list[dict] = []
        for kind in ("sale", "purchase"):
            full = _order_read(kind)
            read = _Read(full.model, (f"{kind}.number",), full.domain, (), full.row)
            rows += self._fetch(read, None)[0]
        return rows

    def _code_keys(self, model: str, domain: tuple) -> list[dict]:
        read = _Read(model, ("code",), domain, (), lambda r: {"code": r.get("code")})
        return self._fetch(read, None)[0]

    def _bom_keys(self) -> list[dict]:
        inputs = self._fetch(_Read("production.bom.input", ("bom",), (), ()), None)[0]
        boms = sorted({r["bom"] for r in inputs})
        links = self._lookup("product.product-production.bom", "bom", boms,
                             ["bom", "product.code"])  # fmt: skip
        lines: dict[int, list[int]] = {}
        for r in inputs:
            lines.setdefault(r["bom"], []).append(r["id"])
        return [{"product": _get(link, "product.code"), "line": line}
                for link in links for line in lines.get(link["bom"], [])]  # fmt: skip

    # --- internals ----------------------------------------------------------------------------

    def _rows(self, entity: str, since: dt.datetime | None, limit: int | None = None
              ) -> tuple[list[str], list[dict], dt.datetime | None]:  # fmt: skip
        if entity == "orders":
            rows, high = [], since
            for kind in ("sale", "purchase"):
                got, h = self._fetch(_order_read(kind), since, limit)
                rows += got
                high = max((x for x in (high, h) if x), default=None)
            return ORDER_COLUMNS, rows, high
        if entity == "bom_lines":
            return (BOM_COLUMNS, *self._bom_lines(since, limit))
        if entity == "suppliers":
            return (SUPPLIER_COLUMNS, *self._suppliers(since, limit))
        if entity == "products":
            read = _Read(
                "product.product",
                ("code", "name", "description", "identifiers.type", "identifiers.code",
                 "categories.name"),  # fmt: skip
                (("salable", "=", True),),
                ("create_date", "write_date", "template.create_date", "template.write_date"),
                lambda r: {
                    "code": r.get("code"), "name": r.get("name"),
                    "ean": next((i.get("code") for i in r.get("identifiers.") or []
                                 if i.get("type") in ("ean", "gtin")), None),
                    "category": _get(r, "categories.name"), "description": r.get("description"),
                },
            )  # fmt: skip
            rows, high = self._fetch(read, since, limit)
            return PRODUCT_COLUMNS, rows, high
        raise SourceError(f"{self!r}: no entity '{entity}' (known: {', '.join(self.ENTITIES)})")

    def _fetch(self, read: _Read, since: dt.datetime | None, limit: int | None = None
               ) -> tuple[list[dict], dt.datetime | None]:  # fmt: skip
        """All records of a read changed after `since`, paged by id; and their latest stamp."""
        domain = [list(d) for d in read.domain] + _changed(read.stamps, since)
        fields = list(dict.fromkeys([*read.fields, *read.stamps]))
        out, high, last_id = [], since, 0
        while True:
            page_size = min(self.page_size, limit - len(out)) if limit else self.page_size
            page = self.client.search_read(read.model, [*domain, ["id", ">", last_id]], fields,
                                           limit=page_size)  # fmt: skip
            for r in page:
                stamps = [_get(r, s) for s in read.stamps]
                high = max([s for s in [high, *stamps] if s], default=None)
                out.append(read.row(r))
            if len(page) < page_size or (limit and len(out) >= limit):
                return out, high
            last_id = page[-1]["id"]

    def _lookup(self, model: str, field: str, values: list, fields: list[str]) -> list[dict]:
        """Records of `model` whose `field` is one of `values`: the values sent a page at a
        time, each answer paged by id, as the main reads are."""
        out: list[dict] = []
        for start in range(0, len(values), self.page_size):
            chunk = (field, "in", values[start : start + self.page_size])
            out += self._fetch(_Read(model, tuple(fields), (chunk,), stamps=()), None)[0]
        return out

    def _bom_lines(self, since, limit):  # noqa: ANN001, ANN202
        read = _Read(
            "production.bom.input",
            ("bom", "product.code", "product.name", "product.description", "product.template",
             "product.categories.name", "quantity", "unit.symbol"),
            (),
            ("create_date", "write_date", "bom.create_date", "bom.write_date"),
        )  # fmt: skip
        inputs, high = self._fetch(read, since, limit)
        if not inputs:
            return [], high
        boms = sorted({r["bom"] for r in inputs})
        links = self._lookup("product.product-production.bom", "bom", boms,
                             ["bom", "product.code"])  # fmt: skip
        templates = sorted({_get(r, "product.template") for r in inputs} - {None})
        suppliers = self._lookup("purchase.product_supplier", "template", templates,
                                 ["template", "party.code", "sequence"])  # fmt: skip
        supplier_of: dict[int, str] = {}
        for s in sorted(suppliers, key=lambda s: (s.get("sequence") or 0, s["id"])):
            supplier_of.setdefault(s["template"], _get(s, "party.code"))
        out = []
        for link in links:
            for r in (i for i in inputs if i["bom"] == link["bom"]):
                out.append({
                    "product": _get(link, "product.code"), "line": r["id"],
                    "component": _get(r, "product.code"),
                    "component_name": _get(r, "product.name"),
                    "category": _get(r, "product.categories.name"),
                    "quantity": r.get("quantity"), "unit": _get(r, "unit.symbol"),
                    "supplier": supplier_of.get(_get(r, "product.template")),
                    "description": _get(r, "product.description"),
                })  # fmt: skip
        return out, high

    def _suppliers(self, since, limit):  # noqa: ANN001, ANN202
        read = _Read(
            "party.party",
            ("code", "name", "tax_identifier.code", "categories.name"),
            (("categories.name", "=", self.supplier_category),),
        )  # fmt: skip
        parties, high = self._fetch(read, since, limit)
        ids = [p["id"] for p in parties]
        addresses = self._lookup("party.address", "party", ids,
                                 ["party", "city", "country.code", "subdivision.code",
                                  "sequence"])  # fmt: skip
        address_of: dict[int, dict] = {}
        for a in sorted(addresses, key=lambda a: (a.get("sequence") or 0, a["id"])):
            address_of.setdefault(a["party"], a)
        out = []
        for p in parties:
            a = address_of.get(p["id"], {})
            province = _get(a, "subdivision.code")
            out.append({
                "code": p.get("code"), "name": p.get("name"),
                "vat": _get(p, "tax_identifier.code"), "country": _get(a, "country.code"),
                "city": a.get("city"),
                "province": province.split("-")[-1] if province else None,
                "category": ", ".join(c["name"] for c in p.get("categories.") or []),
            })  # fmt: skip
        return out, high
