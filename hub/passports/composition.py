"""Fibre composition of a component, read from whatever `bom_lines.composition` holds.

Issue 5 normalizes the column to JSON (fibre → share); until every firm's rows are normalized,
raw text as the ERPs write it is read too: "95% CO 5% EA", "cotone 80% poliestere 20%",
"CO98 EA2", "100% Lana Merino". What cannot be read is reported, never guessed.
"""

from __future__ import annotations

import json
import re

# Canonical fibre names, with the ways Italian and English ERPs and the EU labelling codes
# (Regulation (EU) 1007/2011 abbreviations) write them.
FIBRES: dict[str, tuple[str, ...]] = {
    "cotton": ("cotton", "cotone", "co", "cot", "coton"),
    "polyester": ("polyester", "poliestere", "pl", "pes", "pet", "polyesters"),
    "elastane": ("elastane", "elastan", "elastam", "elastomer", "ea", "el", "spandex", "lycra"),
    "viscose": ("viscose", "viscosa", "vi", "cv", "rayon"),
    "polyamide": ("polyamide", "poliammide", "pa", "nylon"),
    "wool": ("wool", "lana", "wo", "lana merino", "merino", "merino wool", "laine"),
    "linen": ("linen", "lino", "li", "flax"),
    "cashmere": ("cashmere", "ws", "cachemire"),
    "silk": ("silk", "seta", "se"),
    "acrylic": ("acrylic", "acrilico", "pc", "pan"),
    "hemp": ("hemp", "canapa", "ha"),
    "polypropylene": ("polypropylene", "polipropilene", "pp"),
    "jute": ("jute", "juta", "ju"),
    "lyocell": ("lyocell", "cly", "tencel"),
    "modal": ("modal", "cmd"),
}
_ALIASES = {alias: fibre for fibre, names in FIBRES.items() for alias in names}
_NAME = r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ ]*?"
_PATTERNS = (
    re.compile(rf"(\d+(?:[.,]\d+)?)\s*%\s*({_NAME})(?=\s*(?:\d|$|[,;/+-]))"),  # 95% CO
    re.compile(rf"({_NAME})\s*(\d+(?:[.,]\d+)?)\s*%"),  # cotone 95%
    re.compile(r"\b([A-Za-z]{2,3})\s*(\d+(?:[.,]\d+)?)(?=\s|$|[,;/+-])"),  # CO98 EA2
)


class CompositionError(ValueError):
    """A composition that cannot be read; the message says what was not understood."""


def fibre_name(text: str) -> str | None:
    """Canonical fibre of a name or code as written, None when unknown."""
    return _ALIASES.get(" ".join(text.lower().split()))


def _from_json(value: object) -> dict[str, float]:
    items = value.items() if isinstance(value, dict) else None
    if isinstance(value, list):  # [{"fibre": "cotton", "share": 0.95}, …]
        items = [(d.get("fibre") or d.get("name"), d.get("share")) for d in value]
    if items is None:
        raise CompositionError(f"JSON composition must be an object fibre → share: {value!r}")
    out: dict[str, float] = {}
    for name, share in items:
        fibre = fibre_name(str(name)) or str(name).lower()
        out[fibre] = out.get(fibre, 0.0) + float(share)
    return out


def parse_composition(raw: str | None) -> dict[str, float]:
    """Fibre → mass share (summing to 1) from JSON or raw text.

    Raises:
        CompositionError: empty, unknown fibres, or shares not summing to 100 %.
    """
    if raw is None or not str(raw).strip():
        raise CompositionError("no composition")
    text = str(raw).strip()
    if text[0] in "{[":
        try:
            shares = _from_json(json.loads(text))
        except json.JSONDecodeError as exc:
            raise CompositionError(f"composition {text!r} is not valid JSON: {exc}") from exc
        total = sum(shares.values())
        if total > 1.5:  # written in percent
            shares = {k: v / 100 for k, v in shares.items()}
    else:
        shares = _from_text(text)
    total = sum(shares.values())
    if abs(total - 1) > 0.011:
        raise CompositionError(f"composition {text!r} sums to {total:.0%}, not 100%")
    return {k: v / total for k, v in shares.items()}


def _from_text(text: str) -> dict[str, float]:
    # "CO98 EA2", "95% CO 5% EA" or "cotone 95% elastan 5%"
    i = 2 if "%" not in text else 0 if text[0].isdigit() else 1
    found = _PATTERNS[i].findall(text)
    if not found:
        raise CompositionError(
            f"composition {text!r} not understood (expected e.g. '95% CO 5% EA')"
        )
    shares: dict[str, float] = {}
    for a, b in found:
        pct, name = (a, b) if i == 0 else (b, a)
        fibre = fibre_name(name)
        if fibre is None:
            raise CompositionError(f"unknown fibre {name.strip()!r} in {text!r}")
        shares[fibre] = shares.get(fibre, 0.0) + float(pct.replace(",", ".")) / 100
    return shares


def _detail_items(raw: str | None) -> list[dict] | None:
    """The items of a normalized composition `[{fibre, share, recycled}]`, or None."""
    try:
        items = json.loads(str(raw))
    except (json.JSONDecodeError, TypeError):
        return None
    if not isinstance(items, list) or not all(isinstance(i, dict) and "recycled" in i
                                              for i in items):  # fmt: skip
        return None
    return items


def recycled_share(raw: str | None) -> float | None:
    """Recycled share (0–1) of a normalized composition `[{fibre, share, recycled}]` (issue 5's
    `composition_detail`); None when the text does not say."""
    items = _detail_items(raw)
    if items is None:
        return None
    total = sum(float(i.get("share") or 0) for i in items)
    recycled = sum(float(i.get("share") or 0) for i in items if i["recycled"])
    return round(recycled / total, 4) if total else None


def recycled_by_fibre(raw: str | None) -> dict[str, float] | None:
    """Fibre → recycled fraction of that fibre, from `[{fibre, share, recycled}]`; else None."""
    items = _detail_items(raw)
    if items is None:
        return None
    total: dict[str, float] = {}
    recycled: dict[str, float] = {}
    for i in items:
        fibre = fibre_name(str(i.get("fibre"))) or str(i.get("fibre")).lower()
        share = float(i.get("share") or 0)
        total[fibre] = total.get(fibre, 0.0) + share
        recycled[fibre] = recycled.get(fibre, 0.0) + (share if i["recycled"] else 0.0)
    return {f: recycled[f] / total[f] for f in total if total[f]}
