"""Substances of concern: components' declared substances checked against the SVHC list.

A BOM line may declare substances in `bom_lines.substances`, as JSON
(`[{"cas": "117-81-7", "concentration": 0.0015}]`, concentration as a w/w fraction) or as text
(`117-81-7:0.15%; 80-05-7:0.02%`). A Candidate-List substance above 0.1 % w/w of the component
is flagged (REACH Article 33). The list shipped (`data/svhc.csv`, 245 of the ~251 entries)
is not complete: see its SOURCE.md.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from stdnum import casrn
from stdnum.eu import ecnumber

SVHC_FILE = Path(__file__).resolve().parent / "data" / "svhc.csv"
THRESHOLD = 0.001  # 0.1 % w/w
CAS = re.compile(r"^\d{2,7}-\d{2}-\d$")
EC = re.compile(r"^\d{3}-\d{3}-\d$")


class SubstanceError(ValueError):
    """A substance declaration that cannot be read."""


@dataclass(frozen=True)
class Svhc:
    substance: str
    cas: tuple[str, ...]
    ec: tuple[str, ...]
    reason: str
    date_added: str
    source: str


@lru_cache(maxsize=1)
def svhc_list() -> dict[str, Svhc]:
    """The Candidate List shipped with the hub, by CAS number."""
    out: dict[str, Svhc] = {}
    with SVHC_FILE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            entry = Svhc(
                row["substance"], tuple(filter(None, row["cas"].split("|"))),
                tuple(filter(None, row["ec"].split("|"))), row["reason"], row["date_added"],
                row["source"],
            )  # fmt: skip
            for cas in entry.cas:
                out[cas] = entry
    return out


def cas_valid(cas: str) -> bool:
    """CAS number as written (digits and hyphens) with a correct check digit (python-stdnum)."""
    return bool(CAS.match(cas)) and casrn.is_valid(cas)


def ec_valid(ec: str) -> bool:
    """EC (EINECS/ELINCS/list) number as written (nnn-nnn-n) with a correct check digit."""
    return bool(EC.match(ec)) and ecnumber.is_valid(ec)


def parse_substances(raw: str | None) -> list[dict]:
    """Declared substances as [{cas, concentration (w/w fraction or None)}]."""
    if raw is None or not str(raw).strip():
        return []
    text = str(raw).strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SubstanceError(f"substances {text!r} is not valid JSON: {exc}") from exc
        pairs = [(str(i.get("cas", "")), i.get("concentration")) for i in items]
    else:
        pairs = []
        for part in re.split(r"[;\n]", text):
            if not part.strip():
                continue
            cas, _, conc = part.partition(":")
            conc = conc.strip()
            value: float | None = None
            if conc:
                try:
                    value = float(conc.rstrip("%").replace(",", "."))
                except ValueError as exc:
                    raise SubstanceError(f"concentration {conc!r} is not a number") from exc
                if not math.isfinite(value):
                    raise SubstanceError(f"concentration {conc!r} of {cas.strip()} is not a number")
                value = value / 100 if conc.endswith("%") else value
            pairs.append((cas.strip(), value))
    out = []
    for cas, conc in pairs:
        if not cas_valid(cas):
            raise SubstanceError(f"{cas!r} is not a valid CAS number")
        out.append({"cas": cas, "concentration": _concentration(cas, conc)})
    return out


def _concentration(cas: str, value: object) -> float | None:
    """A declared concentration as a w/w fraction: a finite number, or None when not given.

    JSON `true` would otherwise read as 1 (100 %), and `"0.5"` as a number the firm did not
    write as one: a bool, a text, NaN or infinity is refused, naming the substance.
    """
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float
            number = math.inf
        if math.isfinite(number):
            return number
    raise SubstanceError(f"the concentration of {cas} is {json.dumps(value)}, not a number "
                         "(a w/w fraction, e.g. 0.0015)")  # fmt: skip


def check(component: str, declared: list[dict]) -> list[dict]:
    """Each declared substance with its SVHC status; `above_threshold` when > 0.1 % w/w."""
    svhc = svhc_list()
    out = []
    for d in declared:
        entry = svhc.get(d["cas"])
        conc = d["concentration"]
        out.append({
            "component": component, "cas": d["cas"], "concentration": conc,
            "svhc": entry is not None,
            "substance": entry.substance if entry else None,
            "reason": entry.reason if entry else None,
            "above_threshold": bool(entry and (conc is None or conc > THRESHOLD)),
        })  # fmt: skip
    return out
