"""Places: countries (ISO 3166, pycountry), Italian municipalities and provinces, distances.

The gazetteer `data/gazetteer_it.csv` ships with the hub (no network at run time): every
Italian province capital and every municipality of Emilia-Romagna — the region of the Carpi,
Modena, Reggio Emilia and Bologna districts — with ISTAT code, province sigla and the
coordinates of the municipality's seat. Sources: ISTAT "Elenco dei comuni italiani"
(CC BY 3.0 IT) for names and codes, GeoNames (CC BY 4.0) for coordinates; rebuilt by
`scripts/build_gazetteer.py`. A place outside it keeps empty coordinates (and distances from
it stay empty) rather than a guess; a firm's own `lat`/`lon` in district.yaml wins.
"""

from __future__ import annotations

import csv
import gettext
import math
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pycountry

from hub.harmonization.fibres import key

DATA = Path(__file__).resolve().parent / "data"
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Place:
    municipality: str
    province: str
    region: str
    lat: float
    lon: float
    istat_code: str
    capital: bool


@cache
def gazetteer() -> dict[str, list[Place]]:
    """key(municipality name) → places of that name (a name may exist in two provinces)."""
    out: dict[str, list[Place]] = {}
    with (DATA / "gazetteer_it.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            p = Place(r["municipality"], r["province"], r["region"], float(r["lat"]),
                      float(r["lon"]), r["istat_code"], r["capital"] == "1")  # fmt: skip
            out.setdefault(key(p.municipality), []).append(p)
    # Names as firms write them: "Reggio Emilia" for Reggio nell'Emilia, "Forli" for Forlì.
    for alias, official in (("reggio emilia", "reggio nell'emilia"), ("forli", "forli")):
        out.setdefault(alias, out.get(official, []))
    return out


@cache
def provinces() -> dict[str, Place]:
    """Province sigla → its capital."""
    return {p.province: p for ps in gazetteer().values() for p in ps if p.capital}


@lru_cache(maxsize=8192)
def locate(municipality: str | None, province: str | None = None, country: str | None = "IT"
           ) -> Place | None:  # fmt: skip
    """The gazetteer place of an Italian municipality (the province settles homonyms)."""
    if not municipality or (country and normalize_country(country) not in (None, "IT")):
        return None
    found = gazetteer().get(key(municipality).replace("-", " "), []) or gazetteer().get(
        key(municipality), []
    )
    if province:
        found = [p for p in found if p.province == province.strip().upper()] or []
    return found[0] if len(found) == 1 else None


@cache
def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    translations = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for lang in ("it", "fr", "de")
    ]
    for c in pycountry.countries:
        for n in {c.name, getattr(c, "common_name", c.name), getattr(c, "official_name", c.name)}:
            names[key(n)] = c.alpha_2
            for t in translations:
                names[key(t.gettext(n))] = c.alpha_2
        names[key(c.alpha_3)] = c.alpha_2
    extra = {"uk": "GB", "england": "GB", "inghilterra": "GB", "usa": "US", "holland": "NL"}
    names.update(extra)
    names.update(dict.fromkeys(("ue", "eu", "ec", "cee", "europa"), "EU"))
    return names


@lru_cache(maxsize=4096)
def normalize_country(value: str | None) -> str | None:
    """ISO 3166-1 alpha-2 of a country written as code or name (IT, ITA, Italia, Italy…).

    'EC'/'CE'/'UE' in origin columns mean 'made in the EU' on Italian BOMs: kept as 'EU'.
    """
    if not value or not value.strip():
        return None
    v = value.strip()
    if len(v) == 2 and v.isalpha():
        up = v.upper()
        if up in ("EC", "CE", "UE", "EU"):
            return "EU"
        if pycountry.countries.get(alpha_2=up):
            return up
    return _country_names().get(key(v))


def haversine_km(lat1: object, lon1: object, lat2: object, lon2: object) -> np.ndarray:
    """Great-circle distance in km; vectorized over numpy arrays (NaN where a point is missing)."""
    la1, lo1, la2, lo2 = (np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2))
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))


def distance_km(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float | None:
    if a is None or b is None or None in a or None in b:
        return None
    d = float(haversine_km(a[0], a[1], b[0], b[1]))
    return None if math.isnan(d) else round(d, 1)
