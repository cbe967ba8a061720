"""Fibre compositions as ERPs write them → a normalized list of (fibre, share, recycled).

Names follow Regulation (EU) 1007/2011, Annex I, in Italian, English, French and German
(`data/fibres.csv`); the abbreviations ERPs use are in `data/fibre_codes.csv`, where codes that
public code tables read differently (EA, CA, PE, PL) have no fibre but candidates: they are
resolved only by the source's `fibres:` map in district.yaml. Qualifying words ("riciclato",
"puro", "organic"…) are in `data/fibre_words.csv`. Nothing here guesses: a composition that
does not parse, names an unknown or ambiguous fibre, or whose shares do not add up to 100
(± 0.5) gets a reason and no parts.

Written forms understood: "95% CO 5% EA", "cotone 95% elastan 5%", "95/5 CO/EL",
"100% Lana Merino", "Poliestere riciclato 60% Cotone 40%", "CO95 PA5", "Cotone" (one fibre).
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from hub.harmonization.checks import distinct_errors

DATA = Path(__file__).resolve().parent / "data"
TOLERANCE = 0.5  # shares must add up to 100 ± this
RULE = "bom_lines.composition_valid"

_NUMBER = r"\d+(?:[.,]\d+)?"
_WORD = r"[^\W\d_]+(?:['’-][^\W\d_]+)*"
_TOKEN = re.compile(rf"(?P<n>{_NUMBER})\s*(?P<pct>%)?|(?P<w>{_WORD})|(?P<p>\S)")
_SLASH_NUMBERS = re.compile(rf"^\s*({_NUMBER}(?:\s*/\s*{_NUMBER})+)\s*%?\s*$")


@dataclass(frozen=True)
class FibreShare:
    """One fibre of a composition: Annex I name (English), share in percent, recycled or not."""

    fibre: str
    share: float
    recycled: bool = False


@dataclass(frozen=True)
class Composition:
    """A parsed composition: its parts, or the reason it could not be read."""

    parts: tuple[FibreShare, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def shares(self) -> dict[str, float]:
        """Fibre → share (percent), recycled and virgin parts of a fibre added up."""
        out: dict[str, float] = {}
        for p in self.parts:
            out[p.fibre] = round(out.get(p.fibre, 0.0) + p.share, 3)
        return out

    def recycled_share(self) -> float:
        """Recycled share of the composition, 0–1."""
        return round(sum(p.share for p in self.parts if p.recycled) / 100.0, 4)

    def to_json(self) -> str:
        """The `composition` column: fibre → share, as JSON."""
        return json.dumps(self.shares(), ensure_ascii=False, sort_keys=False)

    def detail_json(self) -> str:
        """The `composition_detail` column: [{fibre, share, recycled}], as JSON."""
        return json.dumps(
            [{"fibre": p.fibre, "share": p.share, "recycled": p.recycled} for p in self.parts],
            ensure_ascii=False,
        )


class _Unreadable(ValueError):
    pass


def key(text: str) -> str:
    """Lower-case, accent-free, single-spaced: how names and codes are compared."""
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(ascii_.replace("’", "'").casefold().split())


@dataclass(frozen=True)
class Tables:
    """The fibre tables, loaded from the data files."""

    names: dict[str, str]  # key(name in any language, alias) → fibre
    codes: dict[str, str]  # key(code) → fibre
    ambiguous: dict[str, tuple[str, ...]]  # key(code) → candidate fibres
    words: dict[str, str]  # key(word) → recycled, pure, quality, joiner
    fibres: tuple[str, ...]  # every fibre name (English, Annex I)
    max_words: int


@cache
def tables() -> Tables:
    names: dict[str, str] = {}
    fibres: list[str] = []
    with (DATA / "fibres.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            fibre = row["fibre"]
            fibres.append(fibre)
            spellings = [row[c] for c in ("fibre", "it", "en", "fr", "de")]
            for n in spellings + row["aliases"].split("|"):
                if n.strip():
                    names[key(n)] = fibre
    codes: dict[str, str] = {}
    ambiguous: dict[str, tuple[str, ...]] = {}
    with (DATA / "fibre_codes.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["fibre"]:
                codes[key(row["code"])] = row["fibre"]
            else:
                ambiguous[key(row["code"])] = tuple(row["candidates"].split("|"))
    with (DATA / "fibre_words.csv").open(encoding="utf-8") as f:
        words = {key(r["word"]): r["meaning"] for r in csv.DictReader(f)}
    return Tables(
        names=names, codes=codes, ambiguous=ambiguous, words=words, fibres=tuple(fibres),
        max_words=max(len(n.split()) for n in names),
    )  # fmt: skip


def known_fibre(name: str) -> str | None:
    """The Annex I fibre a name, alias or unambiguous code stands for."""
    t = tables()
    k = key(name)
    return name if name in t.fibres else t.names.get(k) or t.codes.get(k)


def parse(text: str | None, fibres: Mapping[str, str] | None = None) -> Composition:
    """Parse a composition; `fibres` is the source's map of its own codes/names → fibre."""
    local = tuple(sorted((key(k), v) for k, v in (fibres or {}).items()))
    return _parse(text or "", local)


@lru_cache(maxsize=65536)
def _parse(text: str, local: tuple[tuple[str, str], ...]) -> Composition:
    if not text.strip():
        return Composition(error="the composition is empty")
    try:
        pairs = _slash_form(text) or _pairs(text)
        parts = [_part(chunk, share, dict(local)) for chunk, share in pairs]
    except _Unreadable as exc:
        return Composition(error=f"composition '{text}': {exc}")
    merged: dict[tuple[str, bool], float] = {}
    for fibre, share, recycled in parts:
        merged[(fibre, recycled)] = merged.get((fibre, recycled), 0.0) + share
    total = sum(merged.values())
    if abs(total - 100.0) > TOLERANCE:
        return Composition(
            error=f"composition '{text}': the shares add up to {total:g}%, not 100% "
            f"(± {TOLERANCE:g})"
        )
    out = sorted(
        (FibreShare(f, round(s, 3), r) for (f, r), s in merged.items()),
        key=lambda p: (-p.share, p.fibre, p.recycled),
    )
    return Composition(parts=tuple(out))


def _number(text: str) -> float:
    value = float(text.replace(",", "."))
    if not 0 < value <= 100:
        raise _Unreadable(f"share {text}% is not between 0 and 100")
    return value


def _slash_form(text: str) -> list[tuple[str, float | None]] | None:
    """'95/5 CO/EL' or 'CO/EL 95/5'."""
    m = re.match(rf"^\s*({_NUMBER}(?:\s*/\s*{_NUMBER})+)\s*%?\s+(.+)$", text) or re.match(
        rf"^\s*(.+?)\s+({_NUMBER}(?:\s*/\s*{_NUMBER})+)\s*%?\s*$", text
    )
    if not m:
        return None
    numbers, names = (m.group(1), m.group(2))
    if not _SLASH_NUMBERS.match(numbers):
        numbers, names = names, numbers
    shares = [s.strip() for s in numbers.split("/")]
    chunks = [c.strip() for c in names.split("/")]
    if len(shares) != len(chunks) or not all(chunks):
        raise _Unreadable(f"{len(shares)} shares but {len(chunks)} fibres")
    return [(c, _number(s)) for c, s in zip(chunks, shares, strict=True)]


def _pairs(text: str) -> list[tuple[str, float | None]]:
    """Shares and the words naming each fibre, in the order written."""
    items: list[tuple[str, str]] = []  # ("n", share) or ("w", words)
    for m in _TOKEN.finditer(text):
        if m.group("n") is not None:
            items.append(("n", m.group("n")))
        elif m.group("w") is not None:
            if items and items[-1][0] == "w":
                items[-1] = ("w", f"{items[-1][1]} {m.group('w')}")
            else:
                items.append(("w", m.group("w")))
        elif m.group("p") not in ",;:+-/()&.":
            raise _Unreadable(f"unexpected character '{m.group('p')}'")
    words = [w for kind, w in items if kind == "w"]
    numbers = [n for kind, n in items if kind == "n"]
    if not words:
        raise _Unreadable("no fibre is named")
    if not numbers:
        if len(words) == 1:
            return [(words[0], 100.0)]  # one fibre alone: all of it ('Cotone', 'puro cotone')
        raise _Unreadable("shares are missing")
    kinds = "".join(kind for kind, _ in items)
    if kinds not in ("nw" * len(words), "wn" * len(words)):
        raise _Unreadable("cannot pair each share with one fibre")
    return [(w, _number(n)) for w, n in zip(words, numbers, strict=True)]


def _part(chunk: str, share: float | None, local: dict[str, str]) -> tuple[str, float, bool]:
    """The fibre a chunk of words names, and whether it is said to be recycled."""
    t = tables()
    words = key(chunk).split()
    fibres: list[str] = []
    recycled = False
    i = 0
    while i < len(words):
        for j in range(min(len(words), i + t.max_words), i, -1):
            phrase = " ".join(words[i:j])
            fibre = local.get(phrase) or t.names.get(phrase)
            if fibre:
                break
        else:
            j, phrase, fibre = i + 1, words[i], None
            if phrase in t.codes:
                fibre = t.codes[phrase]
            elif phrase in t.ambiguous:
                cands = " or ".join(t.ambiguous[phrase])
                raise _Unreadable(
                    f"'{phrase.upper()}' is ambiguous ({cands}): say which in the source's "
                    f"fibres: map (e.g. fibres: {{{phrase.upper()}: {t.ambiguous[phrase][0]}}})"
                )
            elif t.words.get(phrase) == "recycled":
                recycled = True
            elif phrase not in t.words:
                raise _Unreadable(
                    f"'{phrase}' is not a known fibre: add it to the source's fibres: map "
                    "or to hub/harmonization/data/fibres.csv"
                )
        if fibre:
            fibres.append(fibre)
        i = j
    if not fibres:
        raise _Unreadable(f"no fibre is named in '{chunk.strip()}'")
    if len(set(fibres)) > 1:
        raise _Unreadable(f"'{chunk.strip()}' names {' and '.join(fibres)} with one share")
    assert share is not None
    return fibres[0], share, recycled


def format_composition(parts: tuple[FibreShare, ...]) -> str:
    """A composition written back in English: '60% recycled polyester 40% cotton'."""
    return " ".join(f"{p.share:g}% {'recycled ' if p.recycled else ''}{p.fibre}" for p in parts)


def check_column(values: pa.Array, fibres: Mapping[str, str] | None = None
                 ) -> tuple[np.ndarray, list[str | None]]:  # fmt: skip
    """Rows whose (non-empty) composition does not parse, and each row's reason (per distinct).

    Used by staging: such rows go to quarantine under `bom_lines.composition_valid`.
    """
    return distinct_errors(values, lambda v: parse(v, fibres).error)
