"""Supplier resolution across firms: the same supplier in many lists becomes one `suppliers` row.

Each firm's list is loaded on its own with a provisional id per record (its valid VAT number,
else normalized name @ municipality: `provisional_id`). The district step `resolve` then looks
at every firm's records together and merges them by rules, strongest first:

1. `manual`            — `same:` pairs of the overrides file (supplier_overrides.yaml);
2. `vat`               — the same valid VAT number;
3. `name+municipality` — the same normalized name ("S.r.l." = "SRL", accents and punctuation
                          ignored) in the same municipality;
4. `fuzzy_name+municipality` — names at least FUZZY_MIN similar (rapidfuzz token-sort ratio) in
                          the same municipality: typos.

Two records with different valid VAT numbers are never merged by rules 3–4 (same name,
different firms), nor are records in different municipalities (similar names in other towns);
`different:` pairs of the overrides file forbid any other merge. The result depends only on the
set of records, never on the order firms were loaded: inputs are sorted, clusters are built by
union-find, and a cluster's id is its only VAT number, else its smallest provisional id (or the
id the overrides file gives). Each link says which rule put it in its cluster and why.

Overrides file (path in district.yaml as `supplier_overrides:`, relative to it):

    same:        # each entry: records that are one supplier ("company_id/local_code")
      - members: [moda-carpi/F00128, confezioni-reno/V1001]
        supplier_id: IT16950570362   # optional: the id to give the merged supplier
        note: same weaver, the VAT number is missing in one list
    different:   # pairs that must never be merged
      - [moda-carpi/F00150, maglificio-fossoli/FOR0020]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rapidfuzz import fuzz

from hub.harmonization.identifiers import normalize_vat

FUZZY_MIN = 90.0
RULES = ("manual", "vat", "name+municipality", "fuzzy_name+municipality")
_LEGAL = re.compile(
    r"\b(s\s?r\s?l\s?s?|s\s?p\s?a|s\s?n\s?c|s\s?a\s?s|s\s?a\s?p\s?a|soc(?:ieta)?\s?coop(?:erativa)?"
    r"(?:\s?a\s?r\s?l)?|societa\s+(?:a\s+responsabilita\s+limitata|per\s+azioni|in\s+nome\s+"
    r"collettivo)|ltd|gmbh|sarl|sas|e\s?c|di|&\s?c)\b"
)


def normalize_name(name: str | None) -> str:
    """'Tessitura Serica Modenese S.r.l.' → 'tessitura serica modenese' (legal form dropped)."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"(?<=\b[a-z])\.(?=[a-z]\b)", "", text)  # s.r.l. → srl before punctuation
    text = re.sub(r"[^a-z0-9&]+", " ", text)
    text = _LEGAL.sub(" ", text)
    return " ".join(text.split())


def normalize_town(town: str | None) -> str:
    if not town:
        return ""
    text = unicodedata.normalize("NFKD", town).encode("ascii", "ignore").decode().lower()
    text = text.replace("reggio emilia", "reggio nell'emilia")
    return " ".join(re.sub(r"[^a-z0-9']+", " ", text).split())


def provisional_id(name: str | None, vat: str | None, country: str | None,
                   municipality: str | None) -> str:  # fmt: skip
    """A record's id before resolution: its valid VAT number, else name@municipality."""
    vat_id = normalize_vat(vat, country)
    if vat_id:
        return vat_id
    slug = normalize_name(name).replace(" ", "-") or "unnamed"
    town = normalize_town(municipality).replace(" ", "-").replace("'", "") or "unknown"
    return f"{slug}@{town}"


@dataclass(frozen=True)
class Record:
    """One supplier as one firm lists it."""

    company_id: str
    local_code: str
    name: str | None
    vat_number: str | None
    country: str | None
    municipality: str | None

    @property
    def ref(self) -> str:
        return f"{self.company_id}/{self.local_code}"


@dataclass(frozen=True)
class Resolution:
    """Where one record ends: its supplier, and which rule put it there and why."""

    supplier_id: str
    match_rule: str
    match_evidence: str


@dataclass
class Overrides:
    same: list[dict] = field(default_factory=list)
    different: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path | None) -> Overrides:
        """Read the overrides file; a wrong shape names the file and the entry."""
        if path is None:
            return cls()
        if not path.exists():
            raise FileNotFoundError(f"supplier overrides file {path} (district.yaml: "
                                    "supplier_overrides) does not exist")  # fmt: skip
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or set(data) - {"same", "different"}:
            raise ValueError(f"{path}: expected a mapping with `same:` and/or `different:`")
        same = []
        for i, entry in enumerate(data.get("same") or []):
            if not isinstance(entry, dict) or len(entry.get("members") or []) < 2:
                raise ValueError(f"{path}: same[{i}] needs `members:` with two or more records")
            same.append(entry)
        different = []
        for i, pair in enumerate(data.get("different") or []):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"{path}: different[{i}] must be a pair of records")
            different.append((str(pair[0]), str(pair[1])))
        return cls(same, different)


class _Clusters:
    """Union-find over records, keeping each cluster's set of valid VAT numbers."""

    def __init__(self, records: list[Record]) -> None:
        self.parent = {r.ref: r.ref for r in records}
        self.vats = {r.ref: {v} if (v := normalize_vat(r.vat_number, r.country)) else set()
                     for r in records}  # fmt: skip
        self.forbidden: set[frozenset[str]] = set()

    def find(self, ref: str) -> str:
        while self.parent[ref] != ref:
            self.parent[ref] = self.parent[self.parent[ref]]
            ref = self.parent[ref]
        return ref

    def members(self, root: str) -> list[str]:
        return [r for r in self.parent if self.find(r) == root]

    def can_join(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if len(self.vats[ra] | self.vats[rb]) > 1:
            return False
        if not self.forbidden:
            return True
        ma, mb = self.members(ra), self.members(rb)
        return not any(frozenset((x, y)) in self.forbidden for x in ma for y in mb)

    def join(self, a: str, b: str) -> None:
        ra, rb = sorted((self.find(a), self.find(b)))
        self.parent[rb] = ra
        self.vats[ra] |= self.vats.pop(rb)


def resolve(records: Iterable[Record], overrides: Overrides | None = None
            ) -> dict[str, Resolution]:  # fmt: skip
    """Record ref ('company_id/local_code') → its resolved supplier, with rule and evidence."""
    recs = sorted(records, key=lambda r: r.ref)
    by_ref = {r.ref: r for r in recs}
    ov = overrides or Overrides()
    cl = _Clusters(recs)
    cl.forbidden = {frozenset(p) for p in ov.different}
    why: dict[str, tuple[str, str]] = {}  # ref → (rule, evidence) of the merge that took it in
    forced_ids: dict[str, str] = {}

    def merge(a: str, b: str, rule: str, evidence: str, force: bool = False) -> None:
        if force or cl.can_join(a, b):
            if cl.find(a) == cl.find(b):
                return
            cl.join(a, b)
            for ref in (a, b):
                if ref not in why or RULES.index(rule) < RULES.index(why[ref][0]):
                    why[ref] = (rule, evidence)

    for entry in ov.same:
        members = [m for m in entry["members"] if m in by_ref]
        note = entry.get("note") or "listed as one supplier in the overrides file"
        for m in members[1:]:
            merge(members[0], m, "manual", f"{', '.join(entry['members'])}: {note}", force=True)
        if members and entry.get("supplier_id"):
            forced_ids[cl.find(members[0])] = str(entry["supplier_id"])
    by_vat: dict[str, list[str]] = {}
    for r in recs:
        if v := normalize_vat(r.vat_number, r.country):
            by_vat.setdefault(v, []).append(r.ref)
    for vat, refs in sorted(by_vat.items()):
        for ref in refs[1:]:
            merge(refs[0], ref, "vat", f"VAT number {vat} in {', '.join(refs)}")
    by_town: dict[str, list[Record]] = {}
    for r in recs:
        by_town.setdefault(normalize_town(r.municipality), []).append(r)
    for town, group in sorted(by_town.items()):
        names = [(r.ref, normalize_name(r.name)) for r in group]
        for i, (a, na) in enumerate(names):
            for b, nb in names[i + 1 :]:
                if not na or not nb or not town:
                    continue
                if na == nb:
                    merge(a, b, "name+municipality", f"name '{na}' in {town}: {a}, {b}")
        for i, (a, na) in enumerate(names):
            for b, nb in names[i + 1 :]:
                if not na or not nb or not town or na == nb:
                    continue
                score = fuzz.token_sort_ratio(na, nb)
                if score >= FUZZY_MIN:
                    why_ = f"names '{na}' ~ '{nb}' ({score:.0f}/100) in {town}: {a}, {b}"
                    merge(a, b, "fuzzy_name+municipality", why_)
    out: dict[str, Resolution] = {}
    roots: dict[str, list[str]] = {}
    for r in recs:
        roots.setdefault(cl.find(r.ref), []).append(r.ref)
    used: set[str] = set()
    for root, refs in sorted(roots.items(), key=lambda kv: min(kv[1])):
        vats = cl.vats.get(root, set())
        prov = sorted(provisional_id(by_ref[x].name, by_ref[x].vat_number, by_ref[x].country,
                                     by_ref[x].municipality) for x in refs)  # fmt: skip
        sid = forced_ids.get(root) or (next(iter(vats)) if len(vats) == 1 else prov[0])
        base, n = sid, 1
        while sid in used:  # kept apart (`different:`) yet named alike: number them
            n += 1
            sid = f"{base}~{n}"
        used.add(sid)
        for ref in refs:
            rule, evidence = why.get(ref, ("single", "no other firm lists this supplier"))
            if len(refs) == 1 and rule != "single":
                rule, evidence = "single", "no other record matched"
            out[ref] = Resolution(sid, rule, evidence)
    return out


def merged_processes(processes: Mapping[str, Iterable[str | None]]) -> dict[str, str | None]:
    """Supplier id → its processes, comma separated and sorted."""
    return {k: ",".join(sorted({p for p in v if p})) or None for k, v in processes.items()}
