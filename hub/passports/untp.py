"""UNTP Digital Product Passport documents (JSON-LD in a W3C Verifiable Credential 2.0).

Two views of one passport: the restricted view (for auditors: suppliers, facilities, BOM
quantities, prices, substance detail) and the public view (for brands and consumers), which is
built from an allow-list so that nothing restricted can slip into it. Both are unsigned
(`proof` absent); both validate against UNTP's DPP schema.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hub.passports.facts import Derived, ProductFacts

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://test.uncefact.org/vocabulary/untp/dpp/working/",
]
GS1_GTIN_LENGTHS = (8, 12, 13, 14)
FIBRE_LABELS = {  # fibre → (Italian, English)
    "cotton": ("cotone", "cotton"), "polyester": ("poliestere", "polyester"),
    "elastane": ("elastan", "elastane"), "viscose": ("viscosa", "viscose"),
    "polyamide": ("poliammide", "polyamide"), "wool": ("lana", "wool"),
    "linen": ("lino", "linen"), "cashmere": ("cashmere", "cashmere"), "silk": ("seta", "silk"),
    "acrylic": ("acrilico", "acrylic"), "hemp": ("canapa", "hemp"),
    "polypropylene": ("polipropilene", "polypropylene"), "jute": ("iuta", "jute"),
    "lyocell": ("lyocell", "lyocell"), "modal": ("modal", "modal"),
}  # fmt: skip
SCHEME_TOPIC = {"GOTS": "environment.biodiversity", "GRS": "circularity.content",
                "RWS": "social.community", "OEKO-TEX": "social.safety",
                "FSC": "environment.deforestation", "SA8000": "social.labour",
                "ISO 14001": "environment.emissions", "BLUESIGN": "environment.water",
                "AMFORI BSCI": "social.labour", "ISO 45001": "social.safety",
                "ZDHC": "environment.water", "EMAS": "environment.emissions",
                "RCS": "circularity.content",
                "OCS": "environment.biodiversity"}  # fmt: skip


SCHEME_OWNER = {  # who issues each scheme's standard
    "GOTS": "https://global-standard.org", "GRS": "https://textileexchange.org",
    "RCS": "https://textileexchange.org", "OCS": "https://textileexchange.org",
    "RWS": "https://textileexchange.org", "OEKO-TEX": "https://www.oeko-tex.com",
    "FSC": "https://fsc.org", "SA8000": "https://sa-intl.org",
    "BLUESIGN": "https://www.bluesign.com", "ZDHC": "https://www.roadmaptozero.com",
    "AMFORI BSCI": "https://www.amfori.org", "ISO 14001": "https://www.iso.org",
    "ISO 45001": "https://www.iso.org", "ISO 9001": "https://www.iso.org",
    "EMAS": "https://green-business.ec.europa.eu",
}  # fmt: skip


def gtin14(gtin: str | None) -> str | None:
    """The GTIN as 14 digits, None unless it is a well-formed GTIN with a valid check digit."""
    if not gtin or not str(gtin).isdigit() or len(str(gtin)) not in GS1_GTIN_LENGTHS:
        return None
    digits = str(gtin).zfill(14)
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits[:-1]))
    return digits if (10 - total % 10) % 10 == int(digits[-1]) else None


def product_uri(domain: str, company_id: str, sku: str, gtin: str | None) -> str:
    """GS1 Digital Link style URI when a GTIN is known, else a stable URI under the domain."""
    g = gtin14(gtin)
    if g:
        return f"https://{domain}/01/{g}"
    return f"https://{domain}/product/{quote(company_id, safe='')}/{quote(sku, safe='')}"


def passport_uri(domain: str, company_id: str, sku: str, version: int) -> str:
    firm, item = quote(company_id, safe=""), quote(sku, safe="")
    return f"https://{domain}/passport/{firm}/{item}/v{version}"


def issuer_did(domain: str, company_id: str) -> str:
    """did:web of the brand under the district's domain (the issuer must be a DID)."""
    return f"did:web:{domain}:{quote(company_id, safe='')}"


# What the public view says of a gap: the field and a reason without component codes or
# supplier names (the restricted view keeps the full reason).
PUBLIC_REASONS = {
    "product.gtin": "no GTIN/EAN", "product.category": "no category", "product.mass": "no mass",
    "product.country_of_making": "country of making not declared",
    "bill_of_materials": "no bill of materials",
    "materials.composition": "composition missing or not readable for some components",
    "materials.mass_fractions": "component masses not known",
    "materials.recycled_share": "recycled share not declared for every fabric or yarn",
    "materials.origin_country": "origin country of some fabrics or yarns not declared",
    "traceability": "no supplier or subcontractor of the product is known",
    "making_facility": "who makes the garment is not known",
    "substances.declared": "no component declares its substances (REACH SVHC)",
    "footprint": "not computable from the data held",
}  # fmt: skip


def public_missing(missing: list[str]) -> list[str]:
    out = []
    for item in missing:
        name = item.split(":", 1)[0]
        if name.startswith("substances of "):
            name = "substances.declared"
        text = f"{name}: {PUBLIC_REASONS.get(name, 'not available')}"
        if text not in out:
            out.append(text)
    return out


def _measure(value: float, unit: str) -> dict[str, Any]:
    return {"value": round(float(value), 4), "unit": unit}


def _metric(name: str, value: float, unit: str) -> dict[str, Any]:
    return {"metricName": name, "metricValue": _measure(value, unit)}


def _footprint_claim(uri: str, fp: dict[str, Any]) -> dict[str, Any]:
    metrics = [_metric("environmental cost (total)", fp["total"], "Pts")]
    metrics += [_metric(f"environmental cost: {k}", v, "Pts") for k, v in fp["stages"].items()]
    return {
        "type": ["Claim", "Declaration"], "id": f"{uri}#environmental-cost",
        "conformityTopic": "environment.emissions",
        "description": "Environmental cost by Ecobalyse's textile method (French public "
        "method), computed by the district hub from the firm's data; see assumptions.",
        "referenceStandard": {
            "name": "Ecobalyse textile environmental cost",
            "id": "https://fabrique-numerique.gitbook.io/ecobalyse",
            "issuingParty": {"id": "https://ecobalyse.beta.gouv.fr", "name": "Ecobalyse"},
        },
        "declaredValue": metrics,
    }  # fmt: skip


def _certification_claims(uri: str, claims: list[dict], restricted: bool,
                          domain: str) -> list[dict]:  # fmt: skip
    out = []
    for c in claims:
        scheme = c["scheme"]
        claim: dict[str, Any] = {
            "type": ["Claim", "Declaration"],
            "id": f"{uri}#claim-{quote(scheme.lower().replace(' ', '-'), safe='')}",
            "conformityTopic": SCHEME_TOPIC.get(scheme.upper(), "governance.compliance"),
            "description": (
                f"{scheme} declared on {len(c['components'])} component(s) of the bill of "
                "materials" if c["components"] else f"{scheme} certificate held by the producer"
            ),
            "referenceStandard": {"name": scheme, "issuingParty": {
                "id": SCHEME_OWNER.get(scheme.upper(),
                                       f"https://{domain}/scheme/{quote(scheme, safe='')}"),
                "name": scheme}},
            "verified": bool(c["certificates"]),
            "componentCount": len(c["components"]),
        }  # fmt: skip
        if restricted:
            claim["components"] = c["components"]
            claim["certificates"] = [
                {k: str(v) for k, v in cert.items() if k != "updated_at"}
                for cert in c["certificates"]
            ]
        out.append(claim)
    return out


def _materials(materials: list[dict]) -> list[dict]:
    out = []
    for m in materials:
        it, en = FIBRE_LABELS.get(m["name"], (m["name"], m["name"]))
        d: dict[str, Any] = {"type": ["Material"], "name": en, "nameIt": it}
        for key in ("massFraction", "recycledMassFraction", "originCountry"):
            if m.get(key) is not None:
                d[key] = m[key]
        out.append(d)
    return out


def _traceability(chain: list[dict], restricted: bool) -> list[dict]:
    out = []
    for s in chain:
        d: dict[str, Any] = {
            "type": ["TraceabilityPerformance"],
            "valueChainProcess": s["process"], "tier": s["tier"],
        }  # fmt: skip
        if s.get("country"):
            d["country"] = s["country"]
        if s.get("distance_km") is not None:
            d["distanceKm"] = s["distance_km"]
        if restricted:
            d["facility"] = s["facility"]
            d["component"] = s["component"]
            d["source"] = s["source"]
        out.append(d)
    return out


def _substances_summary(subs: list[dict], declared: bool) -> dict[str, Any]:
    flagged = [s for s in subs if s["above_threshold"]]
    return {
        "declared": declared,
        "svhcAboveThreshold": len(flagged),
        "containsSvhcAbove0.1Percent": bool(flagged) if declared else None,
        "list": "REACH Candidate List (partial copy shipped with the hub)",
    }


def build_views(facts: ProductFacts, d: Derived, version: int, issued_at: str) -> tuple[dict, dict]:
    """The restricted and public views of the passport (JSON-LD documents)."""
    p, co, dom = facts.product, facts.company, facts.domain
    cid, sku = co["company_id"], p["sku"]
    uri = product_uri(dom, cid, sku, p.get("gtin"))
    pid = passport_uri(dom, cid, sku, version)
    issuer = {"type": ["CredentialIssuer"], "id": issuer_did(dom, cid), "name": co["name"]}
    if co.get("vat_number"):
        issuer["issuerAlsoKnownAs"] = [
            {
                "id": f"https://{dom}/vat/{co['vat_number']}",
                "name": co["name"],
                "registeredId": co["vat_number"],
            }
        ]

    def doc(restricted: bool) -> dict[str, Any]:
        product: dict[str, Any] = {"type": ["Product"], "id": uri, "name": p.get("name") or sku}
        g = gtin14(p.get("gtin"))
        if g:
            product["registeredId"] = g
            product["idScheme"] = {"type": ["IdentifierScheme"], "id": "https://id.gs1.org/01",
                                   "name": "GTIN"}  # fmt: skip
        else:
            product["registeredId"] = sku
        if p.get("category"):
            category = str(p["category"])
            product["productCategory"] = [{
                "type": ["Classification"], "id": f"https://{dom}/category/{quote(category)}",
                "code": category, "name": category,
            }]  # fmt: skip
        if p.get("country_of_making"):
            product["countryOfProduction"] = p["country_of_making"]
        if p.get("mass_g"):
            product["dimensions"] = {"weight": _measure(p["mass_g"], "GRM")}
        if p.get("season"):
            product["season"] = p["season"]
        product["producedByParty"] = {"id": issuer["id"], "name": co["name"]}
        making = [s for s in d.chain if s["process"] in ("making", "sewing")]
        if restricted and making and making[0]["facility"].get("name"):
            fac = making[0]["facility"]
            product["producedAtFacility"] = {
                "id": f"https://{dom}/facility/{fac.get('id')}",
                "name": fac["name"],
            }
        subject: dict[str, Any] = {
            "type": ["ProductPassport"], "id": uri, "product": product,
            "granularityLevel": "model",
            "materialsProvenance": _materials(d.materials),
            "traceabilityInformation": _traceability(d.chain, restricted),
            "conformityClaim": _certification_claims(pid, d.claims, restricted, dom),
            "dataCoverage": d.coverage,
            "missingData": d.missing if restricted else public_missing(d.missing),
        }  # fmt: skip
        circ: dict[str, Any] = {"type": ["CircularityPerformance"]}
        if d.recycled_share is not None:
            circ["recycledContent"] = d.recycled_share
        subject["circularityScorecard"] = circ
        if d.footprint:
            subject["conformityClaim"].append(_footprint_claim(pid, d.footprint))
            subject["environmentalCost"] = {
                k: d.footprint[k] for k in ("total", "unit", "stages", "durability",
                                            "complements", "assumptions", "method")
            }  # fmt: skip
        declared = any(c.get("substances_declared") for c in d.components)
        subject["substancesOfConcern"] = _substances_summary(d.substances, declared)
        if restricted:
            subject["substancesOfConcern"]["detail"] = d.substances
            subject["billOfMaterials"] = [
                {k: c[k] for k in ("line_no", "code", "name", "kind", "quantity", "unit",
                                   "mass_kg", "supplier_id", "origin_country",
                                   "recycled_share", "certifications", "composition")}
                for c in d.components
            ]  # fmt: skip
            subject["footprintQuery"] = d.footprint_query
            subject["accessLevel"] = "restricted"
        else:
            subject["accessLevel"] = "public"
        return {
            "@context": CONTEXT,
            "type": ["DigitalProductPassport", "VerifiableCredential"],
            "id": pid + ("#restricted" if restricted else ""),
            "issuer": issuer,
            "validFrom": issued_at,
            "version": version,
            "credentialSubject": subject,
        }

    return doc(True), doc(False)
