"""The passports' static site: one page per product (Italian and English), and an index.

Pages are made from the *public* view only, so the site can be published as it is. No script,
no external resource: a page is readable offline and on a phone. Written under the data folder
in `passports-site/` (`index.html`, `<company_id>/<sku>.html` with the public JSON beside it).
"""

from __future__ import annotations

import functools
import json
from html import escape
from pathlib import Path
from typing import Any

import segno

from hub.passports.build import PASSPORTS_DIR

SITE_DIR = "passports-site"
STAGES = {  # Ecobalyse stage → (Italian, English)
    "material": ("Materie prime", "Materials"), "spinning": ("Filatura", "Spinning"),
    "fabric": ("Tessitura / maglieria", "Weaving / knitting"),
    "ennobling": ("Nobilitazione", "Ennobling"), "making": ("Confezione", "Making"),
    "transport": ("Trasporti", "Transport"), "use": ("Uso (lavaggi)", "Use (washing)"),
    "end_of_life": ("Fine vita", "End of life"), "trims": ("Accessori", "Trims"),
}  # fmt: skip
PROCESSES = {
    "spinning": "filatura", "weaving": "tessitura", "knitting": "maglieria",
    "dyeing": "tintoria", "printing": "stampa", "finishing": "finissaggio",
    "laundry": "lavanderia", "sewing": "cucito", "cutting": "taglio", "making": "confezione",
    "design": "progettazione", "trims": "accessori", "labels": "etichette",
    "packaging": "imballaggio", "logistics": "logistica", "chemicals": "prodotti chimici",
    "fibre production": "produzione della fibra", "subcontracting": "lavorazione esterna",
}  # fmt: skip
CSS = """
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;
margin:0;color:#1b1b1b;background:#f6f5f2;line-height:1.45}
main{max-width:42rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.05rem;margin:1.4rem 0 .5rem;
border-bottom:2px solid #d9d4c7;padding-bottom:.2rem}
.en{color:#5a5a5a;font-weight:normal}.card{background:#fff;border-radius:.6rem;
padding:.8rem 1rem;box-shadow:0 1px 2px #0001}
.qr{float:right;width:7.5rem;height:7.5rem;margin:0 0 .5rem .8rem}.qr svg{width:100%;height:100%}
ul{padding-left:1.1rem;margin:.3rem 0}li{margin:.15rem 0}
.bar{display:flex;align-items:center;gap:.5rem;margin:.25rem 0;font-size:.9rem}
.bar span.l{flex:0 0 45%}.bar .track{flex:1;background:#eee;border-radius:.3rem;height:.9rem}
.bar .fill{background:#3c7a5a;height:100%;border-radius:.3rem}
.bar span.v{flex:0 0 4.5rem;text-align:right;font-variant-numeric:tabular-nums}
.total{font-size:1.3rem;font-weight:600}.missing li{color:#8a4b00}
.small{font-size:.85rem;color:#555}table{width:100%;border-collapse:collapse}
td,th{text-align:left;padding:.3rem .2rem;border-bottom:1px solid #eee;font-size:.95rem}
a{color:#1f5f8b}
"""


def _t(it: str, en: str) -> str:
    return f'{escape(it)} <span class="en">/ {escape(en)}</span>'


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="it"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


@functools.lru_cache(maxsize=8192)  # a product's URI is stable: its QR is drawn once a process
def _qr(uri: str) -> str:
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=2)
    return f'<div class="qr" role="img" aria-label="QR: {escape(uri)}">{svg}</div>'


def _composition(subject: dict[str, Any]) -> str:
    items = []
    for m in subject.get("materialsProvenance", []):
        share = m.get("massFraction")
        pct = f"{share * 100:.0f}% " if share is not None else ""
        extra = []
        if m.get("recycledMassFraction"):
            extra.append(f"{m['recycledMassFraction'] * 100:.0f}% riciclato / recycled")
        if m.get("originCountry"):
            extra.append(f"origine / origin {m['originCountry']}")
        tail = f" <span class='small'>({escape(', '.join(extra))})</span>" if extra else ""
        items.append(f"<li>{pct}{_t(m.get('nameIt', m['name']), m['name'])}{tail}</li>")
    return "<ul>" + "".join(items) + "</ul>" if items else "<p>n.d. / not available</p>"


def _footprint(subject: dict[str, Any]) -> str:
    cost = subject.get("environmentalCost")
    if not cost:
        return "<p>Non calcolabile con i dati disponibili / Not computable from the data held.</p>"
    top = max(cost["stages"].values()) or 1
    rows = []
    for key, value in cost["stages"].items():
        it, en = STAGES.get(key, (key, key))
        width = max(0.0, value) / top * 100
        rows.append(
            f'<div class="bar"><span class="l">{_t(it, en)}</span><div class="track">'
            f'<div class="fill" style="width:{width:.1f}%"></div></div>'
            f'<span class="v">{value:,.0f} Pt</span></div>'
        )
    return (
        f'<p class="total">{cost["total"]:,.0f} Pt</p>'
        f'<p class="small">Costo ambientale, metodo Ecobalyse / Environmental cost, Ecobalyse '
        f"method; durabilità / durability {cost['durability']}.</p>" + "".join(rows)
    )


def _chain(subject: dict[str, Any]) -> str:
    rows: list[str] = []
    for s in subject.get("traceabilityInformation", []):
        p = s["valueChainProcess"]
        dist = f"{s['distanceKm']:,.0f} km" if s.get("distanceKm") is not None else "n.d."
        row = (
            f"<tr><td>{_t(PROCESSES.get(p, p), p)}</td><td>{escape(str(s.get('tier', '')))}"
            f"</td><td>{escape(s.get('country') or 'n.d.')}</td><td>{dist}</td></tr>"
        )
        if row not in rows:  # the same step for several components: shown once
            rows.append(row)
    if not rows:
        return "<p>n.d. / not available</p>"
    head = (f"<tr><th>{_t('Fase', 'Step')}</th><th>Tier</th><th>{_t('Paese', 'Country')}</th>"
            f"<th>{_t('Distanza', 'Distance')}</th></tr>")  # fmt: skip
    return f"<table>{head}{''.join(rows)}</table>"


def _claims(subject: dict[str, Any]) -> str:
    items = []
    for c in subject.get("conformityClaim", []):
        name = c.get("referenceStandard", {}).get("name", c["id"])
        if c["id"].endswith("#environmental-cost"):
            continue
        n = c.get("componentCount", 0)
        state = _t("verificato", "verified") if c.get("verified") else _t("dichiarato", "declared")
        where = (
            _t(f"su {n} componenti", f"on {n} components")
            if n
            else _t("certificato del produttore", "producer's certificate")
        )
        items.append(f"<li><strong>{escape(name)}</strong> — {where} "
                     f"<span class='small'>({state})</span></li>")  # fmt: skip
    subs = subject.get("substancesOfConcern", {})
    if subs.get("declared"):
        n = subs.get("svhcAboveThreshold", 0)
        items.append(f"<li>{_t('Sostanze SVHC oltre 0,1%', 'SVHC above 0.1%')}: {n}</li>")
    return "<ul>" + "".join(items) + "</ul>" if items else "<p>Nessuna / None</p>"


def product_page(doc: dict[str, Any], json_name: str | None = None) -> str:
    """The HTML page of one passport, from its public view."""
    s = doc["credentialSubject"]
    p = s["product"]
    missing = "".join(f"<li>{escape(m)}</li>" for m in s.get("missingData", []))
    weight = f" · {p['dimensions']['weight']['value']:.0f} g" if p.get("dimensions") else ""
    body = (
        f'<div class="card">{_qr(p["id"])}<p class="small">{escape(doc["issuer"]["name"])}</p>'
        f"<h1>{escape(p['name'])}</h1>"
        f"<p class='small'>{escape(p.get('registeredId', ''))} · "
        f"{escape(', '.join(c['name'] for c in p.get('productCategory', [])))} · "
        f"{_t('Prodotto in', 'Made in')} {escape(p.get('countryOfProduction', 'n.d.'))}"
        f"{weight}"
        f"</p><p class='small'>ID: <a href=\"{escape(p['id'])}\">{escape(p['id'])}</a></p>"
        f'<div style="clear:both"></div></div>'
        f"<h2>{_t('Composizione', 'Composition')}</h2>{_composition(s)}"
        f"<h2>{_t('Impatto ambientale', 'Environmental footprint')}</h2>{_footprint(s)}"
        f"<h2>{_t('Filiera', 'Supply chain')}</h2>{_chain(s)}"
        f"<h2>{_t('Certificazioni e dichiarazioni', 'Certifications and claims')}</h2>"
        f"{_claims(s)}"
        f"<h2>{_t('Dati mancanti', 'Missing data')}</h2>"
        f"<p class='small'>{_t('Completezza', 'Coverage')}: {s.get('dataCoverage', 0):.0%}</p>"
        f"<ul class='missing'>{missing or '<li>—</li>'}</ul>"
        f"<p class='small'>Passaporto digitale UNTP / UNTP Digital Product Passport, "
        f"v{doc.get('version')}, {escape(doc.get('validFrom', ''))}."
        + (f" <a href='{escape(json_name)}'>JSON-LD</a>" if json_name else "")
        + "</p>"
    )
    return _page(p["name"], body)


def write_site(data_dir: Path, district_name: str) -> Path:
    """Pages of every public passport under the data folder, and the index."""
    src = data_dir / PASSPORTS_DIR
    out = data_dir / SITE_DIR
    firms = []
    for folder in sorted(p for p in src.glob("*") if p.is_dir()):
        entries = []
        for path in sorted(folder.glob("*.json")):
            if path.name.endswith(".restricted.json") or path.name == "coverage.json":
                continue
            doc = json.loads(path.read_text())
            target = out / folder.name
            target.mkdir(parents=True, exist_ok=True)
            (target / path.name).write_text(path.read_text())
            (target / f"{path.stem}.html").write_text(product_page(doc, path.name))
            s = doc["credentialSubject"]
            entries.append((path.stem, s["product"]["name"], s.get("dataCoverage", 0),
                            s.get("environmentalCost", {}).get("total")))  # fmt: skip
        cov = json.loads((folder / "coverage.json").read_text()) if (
            folder / "coverage.json").exists() else {}  # fmt: skip
        firms.append((folder.name, entries, cov.get("coverage")))
    sections = []
    for firm, entries, coverage in firms:
        rows = "".join(
            f"<tr><td><a href='{escape(firm)}/{escape(stem)}.html'>{escape(name)}</a></td>"
            f"<td>{cov:.0%}</td><td>{'' if total is None else f'{total:,.0f} Pt'}</td></tr>"
            for stem, name, cov, total in entries
        )
        cov_txt = "n.d." if coverage is None else f"{coverage:.0%}"
        sections.append(
            f"<h2>{escape(firm)} <span class='en'>· {_t('completezza', 'coverage')} "
            f"{cov_txt}</span></h2><table><tr><th>{_t('Prodotto', 'Product')}</th>"
            f"<th>{_t('Completezza', 'Coverage')}</th><th>{_t('Costo amb.', 'Env. cost')}</th>"
            f"</tr>{rows}</table>"
        )
    body = (f"<h1>{_t('Passaporti digitali di prodotto', 'Digital Product Passports')}</h1>"
            f"<p class='small'>{escape(district_name)}</p>{''.join(sections)}")  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    index = out / "index.html"
    index.write_text(_page("Passaporti / Passports", body))
    return index
