"""A deterministic sample district that looks like the Carpi and Centergross fashion districts.

Six hand-shaped, fictitious firms (a brand, a knitwear maker, a cut-and-sew maker, a dye house, a
laundry and a spinning mill) export CSV files the way their ERPs do: different headers,
delimiters, decimal marks, thousands separators, date formats, encodings and line endings. Faults
that real exports have (an EAN turned into scientific notation by a spreadsheet, a totals row, a
repeated header, a supplier missing from the supplier list…) are seeded at known lines and listed
in `sample/faults.json`: the ground truth the quarantine tests check. Everything else is clean
and consistent, so that the seeded rows are the only ones the hub should reject.

Two firms export their fabrics' technical sheets (g/m², width) and the substances their suppliers
declare; the spinning mill exports the fibre lots of its yarns and its fibre suppliers, so that
the fibres of yarns bought from it can be located.

A seventh firm, a printing subcontractor, drops its exports on an SFTP server with `.ok` markers
(`SFTP_ARCHETYPE`); it is added to the hand-shaped sample only (`sftp=`), since a benchmark
district needs no SSH server.

The same code writes the small committed sample and districts of any size for benchmarks: beyond
six firms the archetypes are cycled (`moda-carpi-0007`…), and order lines are built column-wise
with numpy and written in chunks, so that millions of lines take seconds and little memory.

Determinism: `random.Random` and numpy's `default_rng` are only used through their `random()`
floats (the streams Python and numpy keep stable across versions), seeds are derived from the
seed and the firm, and nothing depends on the clock.

    python -m hub.sample OUT_DIR [--firms N] [--orders-per-firm N] [--seed S] [--no-faults]
                                 [--sftp | --no-sftp]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from stdnum import ean, luhn

DEFAULT_SEED = 2026
CHUNK_LINES = 50_000  # order lines formatted and written at a time: bounds memory
YEAR_START = date(2026, 1, 1)
YEAR_DAYS = 365

# The hub's rule each seeded fault must end in (the `rule` of its quarantine row).
FAULT_RULES: dict[str, str] = {
    "missing_supplier": "bom_lines.supplier_known",
    "unknown_supplier": "bom_lines.supplier_known",
    "negative_quantity": "orders.quantity_positive",
    "duplicate_line": "orders.unique_line",
    "gtin_scientific": "products.gtin_valid",
    "gtin_check_digit": "products.gtin_valid",
    "unknown_unit": "unit.unknown",
    "totals_row": "structure.totals_row",
    "repeated_header": "structure.repeated_header",
    "bad_number": "parse.number",
    "bad_date": "parse.date",
    "vat_invalid": "suppliers.vat_valid",
    "composition_sum": "bom_lines.composition_valid",
    "fabric_weight_absurd": "bom_lines.fabric_weight_range",
    "substances_malformed": "bom_lines.substances_valid",
}
# The canonical column whose cell a fault spoils; structural faults add a whole line instead.
_FAULT_FIELD: dict[str, str] = {
    "missing_supplier": "supplier_code",
    "unknown_supplier": "supplier_code",
    "negative_quantity": "quantity",
    "duplicate_line": "order_id",
    "gtin_scientific": "gtin",
    "gtin_check_digit": "gtin",
    "unknown_unit": "unit",
    "bad_number": "quantity",
    "bad_date": "order_date",
    "vat_invalid": "vat_number",
    "composition_sum": "composition",
    "fabric_weight_absurd": "fabric_weight_gsm",
    "substances_malformed": "substances",
}

# --- places -----------------------------------------------------------------------------------

# municipality → (province, lat, lon)
MUNICIPALITIES: dict[str, tuple[str, float, float]] = {
    "Carpi": ("MO", 44.7837, 10.8851),
    "Argelato": ("BO", 44.5960, 11.3690),  # Funo di Argelato, where Centergross is
    "Correggio": ("RE", 44.7706, 10.7822),
    "Novi di Modena": ("MO", 44.8934, 10.9011),
    "Scandiano": ("RE", 44.5973, 10.6886),
    "Soliera": ("MO", 44.7378, 10.9245),
    "Campogalliano": ("MO", 44.6895, 10.8405),
    "Rio Saliceto": ("RE", 44.8125, 10.8036),
    "Cavezzo": ("MO", 44.8366, 11.0304),
    "Mirandola": ("MO", 44.8867, 11.0661),
    "Castel Maggiore": ("BO", 44.5776, 11.3594),
    "Bentivoglio": ("BO", 44.6367, 11.4181),
    "Fabbrico": ("RE", 44.8720, 10.8110),
    "San Prospero": ("MO", 44.7890, 11.0220),
}
# The three digits of a partita IVA that name the tax office's province.
PROVINCE_OFFICE = {"MO": "036", "RE": "035", "BO": "037", "FE": "038", "PO": "100", "BI": "096"}
STREETS = (
    "Via dell'Industria",
    "Via Emilia Est",
    "Via Guastalla",
    "Via dell'Artigianato",
    "Via Nuova Ponente",
    "Via Lama di Quartirolo",
    "Via Roma",
    "Via dei Tessitori",
    "Via Carlo Marx",
    "Via Bruno Losi",
    "Strada Statale 468",
    "Via Canale",
)
# Surnames of the district, for the names of generated copies of the archetypes.
SURNAMES = (
    "Malagoli",
    "Bertoli",
    "Gualdi",
    "Reggiani",
    "Bellelli",
    "Carretti",
    "Ferrari",
    "Po",
    "Barbieri",
    "Guaitoli",
    "Lugli",
    "Righi",
    "Bulgarelli",
    "Catellani",
    "Vaccari",
    "Zanoli",
)

# --- materials and garments -------------------------------------------------------------------

# fibre code → (Italian name, English name); "WM" is merino wool, written WO by code-based ERPs.
FIBRES: dict[str, tuple[str, str]] = {
    "CO": ("cotone", "Cotton"),
    "WO": ("lana", "Wool"),
    "WM": ("lana merino", "Merino Wool"),
    "WS": ("cashmere", "Cashmere"),
    "VI": ("viscosa", "Viscose"),
    "PL": ("poliestere", "Polyester"),
    "PA": ("poliammide", "Polyamide"),
    "EA": ("elastan", "Elastane"),
    "LI": ("lino", "Linen"),
}


@dataclass(frozen=True)
class Component:
    """A material bought to make garments, with what a BOM line says about it."""

    name: str
    kind: str  # canonical component_kind
    unit: str  # canonical unit
    per_piece: tuple[float, float]  # quantity per garment
    process: str  # the supplier's process
    price: float  # € per unit
    fibres: tuple[tuple[str, int], ...] = ()
    recycled: float = 0.0
    certs: str = ""
    origins: tuple[str, ...] = ("IT",)
    material: str = ""  # how an article's name says it
    count: str = ""  # yarn count (titolo)
    gsm: float = 0.0  # fabric weight, g/m², on the technical sheet (0: no sheet)
    width: float = 0.0  # fabric width, cm, on the technical sheet
    supplier: str = ""  # the supplier it is bought from, when a firm lists it (fibres)


# The data tables below keep their hand layout (one entry a line or two), for reading and diffs.
# fmt: off
COMPONENTS: dict[str, Component] = {
    # fabrics
    "TJE180": Component("Jersey di cotone 180 g/m²", "fabric", "m", (1.1, 1.5), "weaving", 6.8,
                        (("CO", 100),), certs="GOTS", origins=("IT", "PT"), material="jersey"),
    "TFG300": Component("Felpa garzata 300 g/m²", "fabric", "m", (1.4, 1.9), "weaving", 8.9,
                        (("CO", 80), ("PL", 20)), 0.2, "GRS", ("IT", "PT"), "cotone garzato",
                        gsm=310, width=180),
    "TPO120": Component("Popeline stretch 120 g/m²", "fabric", "m", (1.6, 2.1), "weaving", 7.4,
                        (("CO", 95), ("EA", 5)), certs="OEKO-TEX", material="popeline",
                        gsm=118, width=145),
    "TDN12": Component("Denim 12 oz", "fabric", "m", (1.3, 1.7), "weaving", 9.6,
                       (("CO", 98), ("EA", 2)), origins=("IT", "TR"), material="denim"),
    "TCR140": Component("Crêpe di viscosa", "fabric", "m", (2.0, 2.8), "weaving", 8.2,
                        (("VI", 100),), material="crêpe", gsm=140, width=140),
    "TGA280": Component("Gabardina di lana", "fabric", "m", (1.5, 2.3), "weaving", 18.5,
                        (("WO", 100),), certs="RWS", material="lana", gsm=280, width=150),
    "TTW250": Component("Twill di cotone", "fabric", "m", (1.3, 1.7), "weaving", 7.9,
                        (("CO", 97), ("EA", 3)), material="twill", gsm=250, width=148),
    "TLI160": Component("Lino lavato", "fabric", "m", (1.7, 2.4), "weaving", 12.0,
                        (("LI", 100),), material="lino"),
    "TFO070": Component("Fodera in viscosa", "fabric", "m", (0.9, 1.5), "weaving", 4.1,
                        (("VI", 100),), gsm=70, width=140),
    "TCA150": Component("Cady poliestere riciclato", "fabric", "m", (1.8, 2.6), "weaving", 9.3,
                        (("PL", 100),), 1.0, "GRS", material="cady"),
    # yarns
    "FME248": Component("Filato lana merino Nm 2/48", "yarn", "kg", (0.28, 0.45), "spinning",
                        42.0, (("WM", 100),), certs="RWS", material="lana merino",
                        count="Nm 2/48"),
    "FCA228": Component("Filato cashmere Nm 2/28", "yarn", "kg", (0.25, 0.4), "spinning", 165.0,
                        (("WS", 100),), material="cashmere", count="Nm 2/28"),
    "FCO301": Component("Filato cotone Ne 30/1", "yarn", "kg", (0.22, 0.35), "spinning", 14.5,
                        (("CO", 100),), certs="GOTS", material="cotone", count="Ne 30/1"),
    "FLC230": Component("Filato lana-cashmere Nm 2/30", "yarn", "kg", (0.27, 0.42), "spinning",
                        58.0, (("WM", 90), ("WS", 10)), material="lana e cashmere",
                        count="Nm 2/30"),
    "FVP236": Component("Filato viscosa-poliammide Nm 2/36", "yarn", "kg", (0.25, 0.38),
                        "spinning", 11.0, (("VI", 70), ("PA", 30)), material="viscosa",
                        count="Nm 2/36"),
    "FCE240": Component("Filato cotone elasticizzato Nm 1/40", "yarn", "kg", (0.2, 0.32),
                        "spinning", 13.0, (("CO", 95), ("EA", 5)), material="cotone stretch",
                        count="Nm 1/40"),
    "FLR216": Component("Filato lana rigenerata Nm 2/16", "yarn", "kg", (0.35, 0.55),
                        "spinning", 9.5, (("WO", 70), ("PA", 30)), 0.7, "GRS",
                        material="lana rigenerata", count="Nm 2/16"),
    # fibres (a spinning mill's raw material: tops and staple fibre, kg per kg of yarn)
    "FB-CO": Component("Cotone in fiocco pettinato", "fibre", "kg", (1.0, 1.0), "fibre", 2.4,
                       (("CO", 100),), certs="GOTS", origins=("GR",), supplier="cotoniera"),
    "FB-WM": Component("Tops di lana merino 19,5 micron", "fibre", "kg", (1.0, 1.0), "fibre",
                       11.5, (("WM", 100),), certs="RWS", origins=("AU",),
                       supplier="pettinatura"),
    "FB-WS": Component("Tops di cashmere", "fibre", "kg", (1.0, 1.0), "fibre", 96.0,
                       (("WS", 100),), origins=("MN",), supplier="pettinatura"),
    "FB-WO": Component("Lana rigenerata in fiocco", "fibre", "kg", (1.0, 1.0), "fibre", 3.2,
                       (("WO", 100),), 1.0, "GRS", supplier="pettinatura"),
    "FB-VI": Component("Viscosa in fiocco", "fibre", "kg", (1.0, 1.0), "fibre", 2.1,
                       (("VI", 100),), origins=("AT",), supplier="fibre-ferraresi"),
    "FB-PA": Component("Poliammide 6.6 in fiocco", "fibre", "kg", (1.0, 1.0), "fibre", 3.4,
                       (("PA", 100),), supplier="fibre-ferraresi"),
    "FB-EA": Component("Elastan filo continuo", "fibre", "kg", (1.0, 1.0), "fibre", 7.8,
                       (("EA", 100),), supplier="fibre-ferraresi"),
    # trims
    "ABC18": Component("Bottoni corozo 18L", "trim", "pcs", (4, 8), "trims", 0.18,
                       origins=("IT", "EC")),
    "ACZ18": Component("Cerniera metallo 18 cm", "trim", "pcs", (1, 1), "trims", 0.65,
                       origins=("IT", "CN")),
    "ARV06": Component("Set bottone e rivetti jeans", "trim", "set", (1, 1), "trims", 0.4),
    "AFC120": Component("Filo cucirino poliestere 120", "trim", "m", (150, 320), "trims", 0.002,
                        (("PL", 100),), 0.3, "GRS, OEKO-TEX"),
    "ACL01": Component("Coulisse in cotone", "trim", "m", (1.2, 1.4), "trims", 0.25,
                       (("CO", 100),)),
    "ASP01": Component("Spalline imbottite", "trim", "pair", (1, 1), "trims", 0.55,
                       (("PL", 100),)),
    # labels
    "EMA01": Component("Etichetta marchio tessuta", "label", "pcs", (1, 1), "labels", 0.09,
                       (("PL", 100),)),
    "ECO01": Component("Etichetta composizione e lavaggio", "label", "pcs", (1, 1), "labels",
                       0.03, (("PL", 100),), certs="OEKO-TEX"),
    "ECA01": Component("Cartellino con cordino", "label", "pcs", (1, 1), "labels", 0.05,
                       certs="FSC"),
    # packaging
    "IBU01": Component("Busta in polietilene riciclato", "packaging", "pcs", (1, 1),
                       "packaging", 0.04, recycled=0.5),
    "IGR01": Component("Gruccia in plastica", "packaging", "pcs", (1, 1), "packaging", 0.22),
    "ISC10": Component("Scatola cartone da 10 capi", "packaging", "set", (0.1, 0.1),
                       "packaging", 0.9, recycled=0.8, certs="FSC"),
}
YARNS = tuple(code for code, c in COMPONENTS.items() if c.kind == "yarn")
# What the suppliers' declarations say a component contains (CAS number, % w/w), written on
# the BOM lines of firms that export a substances column: a zip with DEHP above the REACH 0.1 %
# threshold and lead below it, titanium dioxide (not of very high concern) in tape and labels.
SUBSTANCES: dict[str, tuple[tuple[str, float], ...]] = {
    "ACZ18": (("117-81-7", 0.25), ("7439-92-1", 0.05), ("13463-67-7", 1.2)),
    "ARV06": (("7440-02-0", 0.03),),
    "EMA01": (("13463-67-7", 0.8),),
}
_LABELS = (("EMA01",), ("ECO01",), ("ECA01", None))
_PACK = (("IBU01",), ("ISC10", None))
# category → slots of its BOM: one component is picked per slot (None: the slot may stay empty).
RECIPES: dict[str, tuple[tuple[str | None, ...], ...]] = {
    "maglia": (YARNS, *_LABELS, *_PACK),
    "cardigan": (YARNS, ("ABC18",), *_LABELS, *_PACK),
    "abito-maglia": (("FVP236", "FCE240", "FME248"), *_LABELS, ("IGR01",), ("IBU01",)),
    "felpa": (("TFG300",), ("ACL01", None), ("AFC120",), *_LABELS, *_PACK),
    "t-shirt": (("TJE180",), ("AFC120",), *_LABELS, *_PACK),
    "abito": (("TCR140", "TLI160", "TCA150"), ("TFO070", None), ("ACZ18",), ("AFC120",),
              *_LABELS, ("IGR01",), ("IBU01",)),
    "pantalone": (("TDN12", "TTW250", "TGA280"), ("ABC18", "ARV06"), ("ACZ18",), ("AFC120",),
                  *_LABELS, *_PACK),
    "camicia": (("TPO120", "TLI160"), ("ABC18",), ("AFC120",), *_LABELS, *_PACK),
    "giacca": (("TGA280", "TLI160"), ("TFO070",), ("ABC18",), ("ASP01",), ("AFC120",),
               *_LABELS, ("IGR01",), ("IBU01",)),
    "gonna": (("TCR140", "TGA280", "TDN12"), ("ACZ18",), ("AFC120",), *_LABELS, *_PACK),
}
GARMENTS: dict[str, tuple[str, ...]] = {
    "maglia": ("Maglia girocollo", "Maglia dolcevita", "Maglia scollo V", "Pullover a coste"),
    "cardigan": ("Cardigan con bottoni", "Cardigan lungo"),
    "abito-maglia": ("Abito in maglia", "Abito a costine"),
    "felpa": ("Felpa con cappuccio", "Felpa girocollo"),
    "t-shirt": ("T-shirt basic", "T-shirt oversize"),
    "abito": ("Abito midi", "Abito chemisier", "Abito a trapezio"),
    "pantalone": ("Pantalone chino", "Jeans 5 tasche", "Pantalone palazzo"),
    "camicia": ("Camicia classica", "Camicia oversize", "Blusa con fiocco"),
    "giacca": ("Giacca monopetto", "Blazer doppiopetto"),
    "gonna": ("Gonna a tubino", "Gonna plissé"),
}
# The category an article is filed under (knitted dresses are dresses).
CATEGORY = {"abito-maglia": "abito"}
MASS_G = {
    "maglia": (260, 460), "cardigan": (340, 560), "abito-maglia": (380, 620),
    "felpa": (420, 640), "t-shirt": (150, 230), "abito": (240, 480), "pantalone": (380, 720),
    "camicia": (170, 260), "giacca": (620, 980), "gonna": (200, 380),
}
SALE_PRICE = {
    "maglia": (39, 129), "cardigan": (49, 149), "abito-maglia": (59, 169), "felpa": (35, 89),
    "t-shirt": (12, 35), "abito": (55, 159), "pantalone": (39, 119), "camicia": (35, 95),
    "giacca": (89, 249), "gonna": (35, 99),
}
COLOURS = (
    "nero", "blu navy", "écru", "grigio mélange", "cammello", "bordeaux", "verde salvia",
    "bianco ottico",
)

# What dye houses and laundries buy besides garment components: code → (name, unit, process, €).
SUPPLIES: dict[str, tuple[str, str, str, float]] = {
    "CR-R120": ("Colorante reattivo rosso 120", "kg", "chemicals", 14.5),
    "CR-B220": ("Colorante reattivo blu 220", "kg", "chemicals", 15.8),
    "CA-N100": ("Colorante acido nero 100", "kg", "chemicals", 12.2),
    "AUX-SEQ": ("Sequestrante per tintura", "kg", "chemicals", 2.1),
    "AUX-AMM": ("Ammorbidente cationico", "l", "chemicals", 1.85),
    "SOD-CARB": ("Carbonato di sodio", "kg", "chemicals", 0.42),
    "FG-CO301": ("Filato cotone greggio Ne 30/1", "kg", "spinning", 8.9),
    "DET-ALC": ("Detergente alcalino", "kg", "chemicals", 1.6),
    "ENZ-CEL": ("Enzima cellulasi", "kg", "chemicals", 9.4),
    "POMICE": ("Pietra pomice 2-4 cm", "kg", "chemicals", 0.35),
    "H2O2-35": ("Acqua ossigenata 35%", "l", "chemicals", 0.8),
    "SAC-PE": ("Sacchi in polietilene", "pcs", "packaging", 0.06),
    "INK-PIG": ("Inchiostro pigmentato CMYK", "l", "chemicals", 38.0),
    "INK-SUB": ("Inchiostro a sublimazione", "l", "chemicals", 42.0),
    "CARTA-TR": ("Carta transfer per sublimazione", "m", "packaging", 0.35),
}
# What dye houses and laundries sell: code → (name, unit, quantity range, € per unit).
SERVICES: dict[str, tuple[str, str, tuple[float, float], float]] = {
    "TF-NERO": ("Tintura filato in rocca nero", "kg", (30, 1800), 4.8),
    "TF-NAVY": ("Tintura filato in rocca blu navy", "kg", (30, 1800), 4.8),
    "TF-ECRU": ("Candeggio filato écru", "kg", (30, 1500), 3.9),
    "TP-PEZZA": ("Tintura tessuto in pezza", "kg", (80, 2500), 3.6),
    "TC-CAPO": ("Tintura capo finito", "kg", (20, 600), 6.9),
    "FIN-AMM": ("Finissaggio ammorbidente", "kg", (50, 1500), 1.2),
    "LAV-STONE": ("Stone wash jeans", "pcs", (50, 900), 1.35),
    "LAV-ENZ": ("Lavaggio enzimatico", "pcs", (50, 900), 0.95),
    "LAV-CAND": ("Candeggio capi", "pcs", (50, 700), 0.8),
    "LAV-TINTO": ("Tintura in capo", "pcs", (30, 500), 2.4),
    "STIRO": ("Stiro e piegatura", "pcs", (50, 1200), 0.55),
    "ST-DIG": ("Stampa digitale su capo", "pcs", (50, 800), 1.9),
    "ST-SUB": ("Stampa a sublimazione su tessuto", "m", (40, 900), 3.2),
    "ST-SERIG": ("Serigrafia su capo", "pcs", (100, 1500), 0.85),
}

# Suppliers outside the sample's firms: key → (name, municipality, province, process).
EXTERNAL_SUPPLIERS: dict[str, tuple[str, str, str, str]] = {
    "tess-modena": ("Tessitura Serica Modenese S.r.l.", "Modena", "MO", "weaving"),
    "tess-prato": ("Tessitura Pratese Riunita S.r.l.", "Prato", "PO", "weaving"),
    "lanificio": ("Lanificio Val Cervo S.p.A.", "Biella", "BI", "weaving"),
    "maglia-circolare": ("Tessitura a Maglia Bassa Modenese S.r.l.", "Mirandola", "MO",
                         "weaving"),
    "filati-reggiani": ("Filati Pettinati Reggiani S.r.l.", "Reggio nell'Emilia", "RE",
                        "spinning"),
    "bottonificio": ("Bottonificio Emiliano S.n.c.", "Cavriago", "RE", "trims"),
    "cerniere": ("Chiusure Lampo Correggesi S.r.l.", "Correggio", "RE", "trims"),
    "etichettificio": ("Etichettificio Carpigiano S.r.l.", "Carpi", "MO", "labels"),
    "cartotecnica": ("Cartotecnica Estense S.r.l.", "Ferrara", "FE", "packaging"),
    "stamperia": ("Stamperia Digitale Soliera S.r.l.", "Soliera", "MO", "printing"),
    "taglio": ("Taglio Conto Terzi Funo S.n.c.", "Argelato", "BO", "cutting"),
    "rimagliatura": ("Rimagliatura San Marino di Carpi S.n.c.", "Carpi", "MO", "finishing"),
    "stireria": ("Stireria Rovereto S.n.c.", "Novi di Modena", "MO", "finishing"),
    "trasporti": ("Autotrasporti Campogalliano S.r.l.", "Campogalliano", "MO", "logistics"),
    "colorificio": ("Colorificio Chimico Sassolese S.p.A.", "Sassuolo", "MO", "chemicals"),
    "ausiliari": ("Ausiliari Tessili Formigine S.r.l.", "Formigine", "MO", "chemicals"),
    "depuratore": ("Depurazione Acque Correggio S.r.l.", "Correggio", "RE", "wastewater"),
    "detergenti": ("Detergenza Industriale Bassa S.r.l.", "Mirandola", "MO", "chemicals"),
    "enzimi": ("Enzimi e Pomici Italia S.r.l.", "Bologna", "BO", "chemicals"),
    # Where the spinning mill buys its fibres: wool and cashmere tops, staple fibres.
    "pettinatura": ("Pettinatura Lane Biellesi S.p.A.", "Biella", "BI", "fibre"),
    "fibre-ferraresi": ("Fibre Tessili Ferraresi S.p.A.", "Ferrara", "FE", "fibre"),
    "cotoniera": ("Cotoniera Emiliana Fibre S.r.l.", "Bologna", "BO", "fibre"),
}
# Processes done on the firm's own goods: such suppliers are terzisti (subcontractors).
SUBCONTRACTED = frozenset(
    {"knitting", "sewing", "dyeing", "laundry", "printing", "finishing", "cutting"}
)

# Order quantities: what a line orders, by direction and unit.
SALE_QTY = (6, 120)
WORK_QTY = (40, 600)
PURCHASE_QTY = {"m": (80, 1500), "kg": (25, 600), "pcs": (200, 5000), "pair": (100, 1200),
                "set": (10, 300), "l": (50, 800)}
ORDER_DECIMALS = {"pcs": 0, "pair": 0, "set": 0, "m": 1, "kg": 2, "g": 0, "l": 0}
BOM_DECIMALS = {"pcs": 0, "pair": 0, "set": 2, "m": 2, "kg": 3, "g": 0, "l": 2}

# fmt: on
# --- how each ERP writes its files ------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """How an ERP writes a CSV file: the `format:` block of district.yaml, plus line endings."""

    delimiter: str = ";"
    decimal: str = ","
    thousands: str = ""
    encoding: str = "utf-8"
    date_format: str = "%d/%m/%Y"
    newline: str = "\n"
    true: str = "S"
    false: str = "N"

    def format_block(self) -> dict[str, Any]:
        block: dict[str, Any] = {"delimiter": self.delimiter, "decimal": self.decimal}
        if self.thousands:
            block["thousands"] = self.thousands
        block |= {
            "encoding": self.encoding,
            "date_format": self.date_format,
            "true_values": [self.true],
            "false_values": [self.false],
        }
        return block

    def quote(self, text: str) -> str:
        if self.delimiter in text or '"' in text or "\n" in text or "\r" in text:
            return '"' + text.replace('"', '""') + '"'
        return text

    def number(self, value: float, decimals: int) -> str:
        text = f"{value:,.{decimals}f}" if self.thousands else f"{value:.{decimals}f}"
        return text.translate(self._marks())

    def numbers(self, values: np.ndarray, decimals: np.ndarray | int) -> list[str]:
        """Format many numbers (the hot path of large districts)."""
        dec = np.broadcast_to(np.asarray(decimals), values.shape).tolist()
        spec = ",." if self.thousands else "."
        out = [f"{v:{spec}{d}f}" for v, d in zip(values.tolist(), dec, strict=True)]
        if self.decimal == "." and not self.thousands:
            return out
        marks = self._marks()
        return [s.translate(marks) for s in out]

    def dates(self) -> np.ndarray:
        """Every day of the year as this ERP writes it, indexed by day of the year."""
        days = [YEAR_START + timedelta(days=i) for i in range(YEAR_DAYS)]
        return np.array([d.strftime(self.date_format) for d in days])

    def bool(self, value: bool) -> str:
        return self.true if value else self.false

    def _marks(self) -> dict[int, str]:
        return str.maketrans({",": self.thousands, ".": self.decimal})


@dataclass(frozen=True)
class Table:
    """One kind of file a firm exports and how it maps onto a canonical entity.

    `columns` lists the file's columns in order as (header, field): field is a canonical column
    or, for columns the hub does not need, a `~name` the generator fills.
    """

    files: tuple[str, ...]
    glob: str
    columns: tuple[tuple[str, str], ...]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    fibres: dict[str, str] = field(default_factory=dict)  # the firm's ambiguous fibre codes
    full_snapshot: bool = False
    style: Style | None = None  # overrides the source's format for this file kind
    profile: str | None = None  # a mapping shared by firms on the same ERP, written once

    def header(self, canonical: str) -> str:
        return next(h for h, f in self.columns if f == canonical)

    def index(self, canonical: str) -> int:
        return next(i for i, (_, f) in enumerate(self.columns) if f == canonical)

    def source_value(self, column: str, canonical: str) -> str:
        """How the ERP writes a canonical value (the first code mapped onto it)."""
        return next(k for k, v in self.values[column].items() if v == canonical)

    def source_unit(self, canonical: str) -> str:
        return next(k for k, v in self.units.items() if v == canonical)

    def mapping(self, orders: OrderPlan | None = None) -> dict[str, Any]:
        """The entity mapping of district.yaml."""
        m: dict[str, Any] = {"files": self.glob}
        if self.full_snapshot:
            m["full_snapshot"] = True
        m["columns"] = {f: h for h, f in self.columns if not f.startswith("~")}
        values = dict(self.values)
        if orders is not None and "direction" in m["columns"]:
            values["direction"] = {f.code: f.direction for f in orders.flows if f.code}
        if values:
            m["values"] = values
        if self.units:
            m["units"] = self.units
        if self.fibres:
            m["fibres"] = self.fibres
        if self.constants:
            m["constants"] = self.constants
        if self.style is not None:
            m["format"] = self.style.format_block()
        return m


@dataclass(frozen=True)
class Flow:
    """A kind of order a firm exports: its direction, how often, with whom, for what."""

    code: str | None  # how the ERP writes the direction (None: one direction, a constant)
    direction: str
    weight: float
    party: str  # customers, suppliers (what they supply) or subcontractors (work orders)
    items: str = "products"  # for customers: products or services


@dataclass(frozen=True)
class OrderPlan:
    lines: tuple[int, ...]  # order lines of each file in the default sample
    days: tuple[tuple[str, str], ...]  # first and last order date of each file
    order_id: str  # format of the order number
    first_no: int
    max_lines: int  # lines of the longest order
    flows: tuple[Flow, ...]
    customers: tuple[str, int]  # format of customer codes, how many
    # process of a subcontractor → what is sent to it: ("products", categories) or
    # ("components", kinds); empty categories: all products
    work: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductPlan:
    count: int
    categories: tuple[str, ...]  # recipes, cycled
    sku: str  # format of the article code: {n} running number, {yy} season year
    first: int
    gtin_prefix: str | None = None  # GS1 company prefix (7 digits); None: no EAN column
    seasons: tuple[str, ...] = ("FW26", "SS27")
    made_abroad: float = 0.0
    yarns: bool = False  # a spinning mill: its articles are yarns in colours


@dataclass(frozen=True)
class FaultSpec:
    """A fault to seed: in which table and file, roughly where (share of its rows)."""

    entity: str
    kind: str
    at: float = 0.5
    file: int = 0
    value: str = ""  # the spoiled cell, for faults that do not derive it from the clean one
    digits: int = 2  # significant decimals of an EAN in scientific notation


@dataclass(frozen=True)
class Archetype:
    """One of the six hand-shaped firms; larger districts cycle them."""

    key: str  # company_id of the hand-shaped firm
    name: str
    word: str  # first word of the names of generated copies
    legal: str
    role: str
    municipality: str
    process: str | None  # what the firm does for others (how their supplier lists file it)
    erp: str  # one line for district.yaml
    source: str
    style: Style
    tables: dict[str, Table]
    orders: OrderPlan
    products: ProductPlan | None = None
    suppliers: tuple[str, ...] = ()  # keys of EXTERNAL_SUPPLIERS or of archetypes
    supplier_code: tuple[str, int] = ("F{:05d}", 100)
    lat_lon: tuple[float, float] | None = None  # where in the municipality, if not its centre
    compositions: tuple[str, ...] = ("pct_code",)  # how its people write fibre compositions
    component_kinds: dict[str, str] = field(default_factory=dict)  # how it writes kinds
    supplies: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    faults: tuple[FaultSpec, ...] = ()
    delivery: str = "local"  # "sftp": exports dropped on an SFTP server, with `.ok` markers


# Two firms on the same TeamSystem-style ERP export articles and suppliers alike: one mapping.
# fmt: off
IT_PROCESSES = {
    "FILATURA": "spinning", "TESSITURA": "weaving", "MAGLIERIA": "knitting",
    "TINTORIA": "dyeing", "STAMPA": "printing", "TAGLIO": "cutting", "CONFEZIONE": "sewing",
    "STIRO E FINISSAGGIO": "finishing", "LAVANDERIA": "laundry", "ACCESSORI": "trims",
    "ETICHETTE": "labels", "IMBALLAGGI": "packaging", "TRASPORTI": "logistics",
}
TS_PRODUCTS = Table(
    ("articoli.csv",), "articoli.csv",
    (("Codice articolo", "sku"), ("Descrizione", "name"), ("Codice EAN", "gtin"),
     ("Categoria", "category"), ("Stagione", "season"), ("Qualità", "~quality"),
     ("Peso netto (g)", "mass_g"), ("Paese di produzione", "country_of_making")),
    full_snapshot=True, profile="teamsystem_articoli",
)
TS_SUPPLIERS = Table(
    ("fornitori.csv",), "fornitori.csv",
    (("Codice fornitore", "local_code"), ("Ragione sociale", "name"),
     ("Partita IVA", "vat_number"), ("Indirizzo", "~address"), ("Città", "municipality"),
     ("Prov.", "province"), ("Nazione", "country"), ("Lavorazione", "process"),
     ("Terzista", "subcontractor")),
    values={"process": IT_PROCESSES}, full_snapshot=True, profile="teamsystem_fornitori",
)
_BRAND_UNITS = {"PZ": "pcs", "MT": "m", "KG": "kg", "CF": "set", "PA": "pair"}
_SEMICOLON_UTF8 = Style(";", ",", "", "utf-8", "%d/%m/%Y", "\n", "1", "0")

ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(
        key="moda-carpi", name="Moda Carpi S.p.A.", word="Moda", legal="S.p.A.", role="brand",
        municipality="Carpi", process=None,
        erp="TeamSystem-style ERP on Windows: cp1252, CRLF, ';', decimal comma, dd/mm/yyyy",
        source="gestionale",
        style=Style(";", ",", "", "cp1252", "%d/%m/%Y", "\r\n", "S", "N"),
        tables={
            "products": TS_PRODUCTS,
            "bom_lines": Table(
                ("distinta_base.csv",), "distinta_base*.csv",
                (("Codice articolo", "sku"), ("Riga", "line_no"),
                 ("Codice componente", "component_code"),
                 ("Descrizione componente", "component_name"), ("Tipo", "component_kind"),
                 ("Q.tà", "quantity"), ("UM", "unit"), ("Fornitore", "supplier_code"),
                 ("Composizione", "composition"), ("Quota riciclata", "recycled_share"),
                 ("Certificazioni", "certifications"), ("Origine", "origin_country"),
                 ("Peso g/mq", "fabric_weight_gsm"), ("Altezza cm", "fabric_width_cm"),
                 ("Sostanze (CAS:%)", "substances")),
                values={"component_kind": {"TES": "fabric", "FIL": "yarn", "ACC": "trim",
                                           "ETI": "label", "IMB": "packaging"}},
                units=_BRAND_UNITS, full_snapshot=True,
                # Its people write PL and EA, which code tables read differently: say which.
                fibres={"PL": "polyester", "EA": "elastane"},
                # Fabrics without a technical sheet in its ERP are usually bought 150 cm wide:
                # with the g/m² of the fabric's name, their metres become kg, as an estimate.
                constants={"fabric_width_cm": "150"},
            ),
            "suppliers": TS_SUPPLIERS,
            "orders": Table(
                ("ordini_20261120.csv", "ordini_20261121.csv"), "ordini_*.csv",
                (("N. ordine", "order_id"), ("Riga", "line_no"), ("Tipo", "direction"),
                 ("Data ordine", "order_date"), ("Codice articolo", "sku"),
                 ("Descrizione", "~description"), ("Q.tà", "quantity"), ("UM", "unit"),
                 ("Cliente/Fornitore", "counterparty"), ("Data consegna", "delivery_date"),
                 ("Prezzo unitario €", "unit_price")),
                units=_BRAND_UNITS,
            ),
        },
        orders=OrderPlan(
            lines=(160, 36), days=(("2026-01-12", "2026-11-19"), ("2026-11-20", "2026-11-20")),
            order_id="26/{:05d}", first_no=1021, max_lines=6,
            flows=(Flow("V", "sale", 0.55, "customers"),
                   Flow("A", "purchase", 0.25, "suppliers"),
                   Flow("CL", "work_order", 0.20, "subcontractors")),
            customers=("C{:05d}", 40),
            work={"knitting": ("products", ("maglia",)),
                  "sewing": ("products", ("felpa", "t-shirt", "abito", "pantalone", "camicia",
                                          "giacca")),
                  "dyeing": ("products", ("maglia", "t-shirt")),
                  "laundry": ("products", ("pantalone", "felpa")),
                  "printing": ("products", ("t-shirt", "felpa"))},
        ),
        products=ProductPlan(36, ("maglia", "felpa", "t-shirt", "abito", "pantalone", "camicia",
                                  "giacca", "maglia", "cardigan"),
                             "MC{yy}{n:04d}", 1001, "8054321", made_abroad=0.15),
        suppliers=("tess-modena", "tess-prato", "lanificio", "maglia-circolare",
                   "filatura-tresinaro", "filati-reggiani", "bottonificio", "cerniere",
                   "etichettificio", "cartotecnica", "stamperia", "trasporti",
                   "maglificio-fossoli", "confezioni-reno", "tintoria-secchia",
                   "lavanderia-novese"),
        supplier_code=("F{:05d}", 120),
        compositions=("pct_code", "name_pct", "pct_name", "code_pct"),
        component_kinds={"fabric": "TES", "yarn": "FIL", "trim": "ACC", "label": "ETI",
                         "packaging": "IMB"},
        faults=(
            FaultSpec("orders", "negative_quantity", 0.30),
            FaultSpec("orders", "unknown_unit", 0.55, value="PZZ"),
            FaultSpec("orders", "bad_date", 0.80, value="31/02/2026"),
            FaultSpec("orders", "bad_number", 0.50, file=1, value="1,2,3"),
            FaultSpec("bom_lines", "unknown_supplier", 0.40, value="F00097"),
            FaultSpec("bom_lines", "substances_malformed", 0.62, value="DEHP 0,3%"),
            FaultSpec("products", "gtin_scientific", 0.25, digits=2),
        ),
    ),
    Archetype(
        key="maglificio-fossoli", name="Maglificio Fossoli S.r.l.", word="Maglificio",
        legal="S.r.l.", role="manufacturer", municipality="Carpi", process="knitting",
        erp="the same TeamSystem-style ERP, newer release: UTF-8 with BOM, ';', "
            "decimal comma, dd/mm/yyyy",
        source="gestionale",
        style=Style(";", ",", "", "utf-8-sig", "%d/%m/%Y", "\n", "S", "N"),
        tables={
            "products": TS_PRODUCTS,
            "bom_lines": Table(
                ("distinta_base.csv",), "distinta_base*.csv",
                (("Articolo", "sku"), ("Riga", "line_no"), ("Componente", "component_code"),
                 ("Descrizione", "component_name"), ("Tipo", "component_kind"),
                 ("Titolo", "~count"), ("Consumo", "quantity"), ("UM", "unit"),
                 ("Cod. fornitore", "supplier_code"), ("Composizione", "composition"),
                 ("Riciclato", "recycled_share"), ("Certificazione", "certifications"),
                 ("Origine", "origin_country")),
                values={"component_kind": {"FILATO": "yarn", "ACCESSORIO": "trim",
                                           "ETICHETTA": "label", "IMBALLO": "packaging"}},
                units={"NR": "pcs", "KG": "kg", "CF": "set"}, full_snapshot=True,
            ),
            "suppliers": TS_SUPPLIERS,
            "orders": Table(
                ("ordini_20261120.csv", "ordini_20261121.csv"), "ordini_*.csv",
                (("Numero", "order_id"), ("Riga", "line_no"), ("Causale", "direction"),
                 ("Data", "order_date"), ("Articolo", "sku"), ("Quantità", "quantity"),
                 ("UM", "unit"), ("Conto", "counterparty"), ("Consegna", "delivery_date"),
                 ("Prezzo", "unit_price")),
                # "CT" (cartoni), used once, is left out on purpose: the unknown-unit fault
                units={"NR": "pcs", "KG": "kg", "CF": "set"},
            ),
        },
        orders=OrderPlan(
            lines=(90, 40), days=(("2026-02-02", "2026-11-19"), ("2026-11-20", "2026-11-20")),
            order_id="{:06d}", first_no=4410, max_lines=5,
            flows=(Flow("VEN", "sale", 0.20, "customers"),
                   Flow("CLR", "work_order", 0.45, "customers"),
                   Flow("ACQ", "purchase", 0.25, "suppliers"),
                   Flow("CLP", "work_order", 0.10, "subcontractors")),
            customers=("CLI{:04d}", 12),
            work={"dyeing": ("components", ("yarn",)), "finishing": ("products", ())},
        ),
        products=ProductPlan(24, ("maglia", "cardigan", "maglia", "abito-maglia"), "{n:06d}",
                             2301, "8033712"),
        suppliers=("filatura-tresinaro", "filati-reggiani", "bottonificio", "etichettificio",
                   "cartotecnica", "tintoria-secchia", "rimagliatura", "stireria", "trasporti"),
        supplier_code=("FOR{:04d}", 10),
        lat_lon=(44.8103, 10.8940),  # Fossoli, a village of Carpi
        compositions=("pct_name",),
        component_kinds={"yarn": "FILATO", "trim": "ACCESSORIO", "label": "ETICHETTA",
                         "packaging": "IMBALLO"},
        faults=(
            FaultSpec("orders", "unknown_unit", 0.40, value="CT"),
            FaultSpec("orders", "repeated_header", 0.50, file=1),
            FaultSpec("products", "gtin_check_digit", 0.60),
            FaultSpec("bom_lines", "composition_sum", 0.50, value="80% Cotone 10% Elastan"),
        ),
    ),
    Archetype(
        key="confezioni-reno", name="Confezioni Reno S.r.l.", word="Confezioni",
        legal="S.r.l.", role="manufacturer", municipality="Argelato", process="sewing",
        erp="another ERP, with English headers: UTF-8, ',' delimiter, decimal point, yyyy-mm-dd",
        source="erp",
        style=Style(",", ".", "", "utf-8", "%Y-%m-%d", "\n", "Y", "N"),
        tables={
            "products": Table(
                ("items.csv",), "items.csv",
                (("Item", "sku"), ("Description", "name"), ("EAN", "gtin"),
                 ("Category", "category"), ("Season", "season"), ("Weight (g)", "mass_g"),
                 ("Made in", "country_of_making")),
                values={"category": {"DRESS": "abito", "TROUSERS": "pantalone",
                                     "SHIRT": "camicia", "JACKET": "giacca", "SKIRT": "gonna"},
                        "season": {"FW 2026": "FW26", "SS 2027": "SS27"}},
                full_snapshot=True,
            ),
            "bom_lines": Table(
                ("bom.csv",), "bom.csv",
                (("Item", "sku"), ("Line", "line_no"), ("Component", "component_code"),
                 ("Component Description", "component_name"), ("Type", "component_kind"),
                 ("Qty", "quantity"), ("UoM", "unit"), ("Vendor", "supplier_code"),
                 ("Composition", "composition"), ("Recycled Share", "recycled_share"),
                 ("Certifications", "certifications"), ("Country of Origin", "origin_country"),
                 ("Fabric Weight (g/m2)", "fabric_weight_gsm"),
                 ("Fabric Width (cm)", "fabric_width_cm"), ("Substances", "substances")),
                values={"component_kind": {"FABRIC": "fabric", "TRIM": "trim",
                                           "LABEL": "label", "PACKAGING": "packaging"}},
                units={"PCS": "pcs", "MTR": "m", "SET": "set", "PR": "pair"},
                full_snapshot=True,
            ),
            "suppliers": Table(
                ("vendors.csv",), "vendors.csv",
                (("Vendor Code", "local_code"), ("Vendor Name", "name"), ("VAT No", "vat_number"),
                 ("Country", "country"), ("City", "municipality"), ("Province", "province"),
                 ("Process", "process"), ("Subcontractor", "subcontractor")),
                full_snapshot=True,
            ),
            "orders": Table(
                ("orders_20261121.csv",), "orders_*.csv",
                (("Order No", "order_id"), ("Line", "line_no"), ("Type", "direction"),
                 ("Order Date", "order_date"), ("Item", "sku"), ("Qty", "quantity"),
                 ("UoM", "unit"), ("Partner", "counterparty"),
                 ("Delivery Date", "delivery_date"), ("Unit Price", "unit_price")),
                units={"PCS": "pcs", "MTR": "m", "KGS": "kg", "SET": "set", "PR": "pair"},
            ),
        },
        orders=OrderPlan(
            lines=(150,), days=(("2026-01-08", "2026-11-20"),),
            order_id="OR{:06d}", first_no=30112, max_lines=5,
            flows=(Flow("SO", "sale", 0.50, "customers"),
                   Flow("PO", "purchase", 0.30, "suppliers"),
                   Flow("WO", "work_order", 0.20, "subcontractors")),
            customers=("C-{:04d}", 15),
            work={"laundry": ("products", ("pantalone", "gonna")),
                  "printing": ("products", ("camicia", "abito")),
                  "cutting": ("products", ()),
                  "finishing": ("products", ("giacca", "abito"))},
        ),
        products=ProductPlan(30, ("abito", "pantalone", "camicia", "giacca", "gonna"),
                             "CR-{n:05d}", 1201, "8050160", made_abroad=0.1),
        suppliers=("tess-modena", "tess-prato", "lanificio", "bottonificio", "cerniere",
                   "etichettificio", "cartotecnica", "lavanderia-novese", "stamperia", "taglio",
                   "stireria", "trasporti"),
        supplier_code=("V{:04d}", 1000),
        compositions=("pct_en",),
        component_kinds={"fabric": "FABRIC", "trim": "TRIM", "label": "LABEL",
                         "packaging": "PACKAGING"},
        faults=(
            FaultSpec("orders", "duplicate_line", 0.45),
            FaultSpec("products", "gtin_scientific", 0.70, digits=5),
            FaultSpec("bom_lines", "missing_supplier", 0.60),
            FaultSpec("bom_lines", "fabric_weight_absurd", 0.203, value="1800"),
        ),
    ),
    Archetype(
        key="tintoria-secchia", name="Tintoria Secchia S.r.l.", word="Tintoria", legal="S.r.l.",
        role="subcontractor", municipality="Correggio", process="dyeing",
        erp="an AS/400-era ERP on Windows: cp1252, CRLF, ';', decimal comma with thousands "
            "'.', dd.mm.yyyy",
        source="gestionale",
        style=Style(";", ",", ".", "cp1252", "%d.%m.%Y", "\r\n", "SI", "NO"),
        tables={
            "suppliers": Table(
                ("fornitori.csv",), "fornitori.csv",
                (("Cod.", "local_code"), ("Ragione sociale", "name"),
                 ("Partita IVA", "vat_number"), ("Località", "municipality"),
                 ("Prov.", "province"), ("Stato", "country"), ("Attività", "process"),
                 ("Terzista", "subcontractor")),
                values={"process": {"PROD. CHIMICI": "chemicals", "FILATI": "spinning",
                                    "TRASPORTI": "logistics", "DEPURAZIONE": "wastewater"}},
                full_snapshot=True,
            ),
            "orders": Table(
                ("commesse_20261121.csv",), "commesse_*.csv",
                (("Nr. Commessa", "order_id"), ("Pos.", "line_no"), ("Tipo mov.", "direction"),
                 ("Data", "order_date"), ("Codice", "sku"), ("Descrizione", "~description"),
                 ("Quantità", "quantity"), ("U.M.", "unit"),
                 ("Cliente/Fornitore", "counterparty"), ("Data cons.", "delivery_date"),
                 ("Prezzo €", "unit_price")),
                units={"KG": "kg", "LT": "l"},
            ),
        },
        orders=OrderPlan(
            lines=(80,), days=(("2026-03-02", "2026-11-20"),),
            order_id="C{:05d}", first_no=8120, max_lines=3,
            flows=(Flow("CL", "work_order", 0.75, "customers", "services"),
                   Flow("AC", "purchase", 0.25, "suppliers")),
            customers=("{:06d}", 20),
        ),
        suppliers=("colorificio", "ausiliari", "depuratore", "filatura-tresinaro",
                   "filati-reggiani", "trasporti"),
        supplier_code=("{:05d}", 40),
        supplies=("CR-R120", "CR-B220", "CA-N100", "AUX-SEQ", "AUX-AMM", "SOD-CARB", "FG-CO301"),
        services=("TF-NERO", "TF-NAVY", "TF-ECRU", "TP-PEZZA", "TC-CAPO", "FIN-AMM"),
        faults=(
            FaultSpec("orders", "totals_row"),
            FaultSpec("suppliers", "vat_invalid", 0.50),
        ),
    ),
    Archetype(
        key="lavanderia-novese", name="Lavanderia Industriale Novese S.n.c.", word="Lavanderia",
        legal="S.n.c.", role="subcontractor", municipality="Novi di Modena", process="laundry",
        erp="a small desktop program: UTF-8, tab-separated orders, ';' supplier list, "
            "decimal comma, dd/mm/yyyy",
        source="gestionale",
        style=Style("\t", ",", "", "utf-8", "%d/%m/%Y", "\n", "1", "0"),
        tables={
            "suppliers": Table(
                ("fornitori.csv",), "fornitori.csv",
                (("Codice", "local_code"), ("Fornitore", "name"), ("P. IVA", "vat_number"),
                 ("Comune", "municipality"), ("Provincia", "province"), ("Paese", "country"),
                 ("Tipo fornitura", "process"), ("Terzista", "subcontractor")),
                values={"process": {"Prodotti chimici": "chemicals", "Trasporti": "logistics",
                                    "Imballaggi": "packaging"}},
                full_snapshot=True, style=_SEMICOLON_UTF8,
            ),
            "orders": Table(
                ("lavorazioni_202611.csv",), "lavorazioni_*.csv",
                (("Bolla", "order_id"), ("Riga", "line_no"), ("Tipo", "direction"),
                 ("Data", "order_date"), ("Articolo", "sku"), ("Descrizione", "~description"),
                 ("Quantità", "quantity"), ("UM", "unit"), ("Cliente/Fornitore", "counterparty"),
                 ("Riconsegna", "delivery_date")),
                units={"PZ": "pcs", "KG": "kg", "LT": "l"},
            ),
        },
        orders=OrderPlan(
            lines=(40,), days=(("2026-09-01", "2026-11-20"),),
            order_id="{:d}", first_no=2215, max_lines=4,
            flows=(Flow("LAV", "work_order", 0.8, "customers", "services"),
                   Flow("ACQ", "purchase", 0.2, "suppliers")),
            customers=("{:04d}", 10),
        ),
        suppliers=("detergenti", "enzimi", "cartotecnica", "trasporti"),
        supplier_code=("{:03d}", 1),
        supplies=("DET-ALC", "ENZ-CEL", "POMICE", "H2O2-35", "SAC-PE"),
        services=("LAV-STONE", "LAV-ENZ", "LAV-CAND", "LAV-TINTO", "STIRO"),
        faults=(FaultSpec("orders", "bad_date", 0.60, value="ieri"),),
    ),
    Archetype(
        key="filatura-tresinaro", name="Filatura Tresinaro S.p.A.", word="Filatura",
        legal="S.p.A.", role="supplier", municipality="Scandiano", process="spinning",
        erp="a sales program: UTF-8, ';', decimal comma with thousands '.', dd-mm-yy",
        source="vendite",
        style=Style(";", ",", ".", "utf-8", "%d-%m-%y", "\n", "S", "N"),
        tables={
            "products": Table(
                ("prodotti.csv",), "prodotti.csv",
                (("Cod. filato", "sku"), ("Descrizione", "name"),
                 ("Composizione", "composition"), ("Titolo", "~count"), ("Colore", "~colour"),
                 ("Peso rocca (g)", "mass_g"), ("Paese", "country_of_making")),
                constants={"category": "filato"}, full_snapshot=True,
            ),
            "orders": Table(
                ("ordini_20261120.csv", "ordini_20261121.csv"), "ordini_*.csv",
                (("Numero ordine", "order_id"), ("Riga", "line_no"),
                 ("Data ordine", "order_date"), ("Cod. filato", "sku"),
                 ("Descrizione", "~description"), ("Kg", "quantity"), ("UM", "unit"),
                 ("Cod. cliente", "counterparty"), ("Data consegna", "delivery_date"),
                 ("Prezzo/kg", "unit_price")),
                constants={"direction": "sale"}, units={"KG": "kg"},
            ),
            # Where each yarn's fibre comes from: its fibre lots, bought from fibre suppliers.
            "suppliers": Table(
                ("fornitori.csv",), "fornitori.csv",
                (("Cod. fornitore", "local_code"), ("Ragione sociale", "name"),
                 ("P.IVA", "vat_number"), ("Comune", "municipality"), ("Prov.", "province"),
                 ("Nazione", "country"), ("Fornitura", "process"), ("Terzista", "subcontractor")),
                values={"process": {"FIBRE": "fibre"}}, full_snapshot=True,
            ),
            "bom_lines": Table(
                ("distinta_filati.csv",), "distinta_filati.csv",
                (("Cod. filato", "sku"), ("Riga", "line_no"), ("Cod. fibra", "component_code"),
                 ("Descrizione fibra", "component_name"), ("Tipo", "component_kind"),
                 ("Kg per rocca", "quantity"), ("UM", "unit"), ("Fornitore", "supplier_code"),
                 ("Composizione", "composition"), ("Riciclato", "recycled_share"),
                 ("Certificazione", "certifications"), ("Origine", "origin_country")),
                values={"component_kind": {"FIBRA": "fibre"}}, units={"KG": "kg"},
                full_snapshot=True,
            ),
        },
        orders=OrderPlan(
            lines=(80, 24), days=(("2026-01-07", "2026-11-19"), ("2026-11-20", "2026-11-20")),
            order_id="OV26-{:05d}", first_no=310, max_lines=4,
            flows=(Flow(None, "sale", 1.0, "customers"),),
            customers=("CL{:05d}", 25),
        ),
        products=ProductPlan(18, (), "FT{n:04d}", 101, yarns=True),
        suppliers=("pettinatura", "fibre-ferraresi", "cotoniera"),
        supplier_code=("FF{:03d}", 10),
        compositions=("pct_name",),
        component_kinds={"fibre": "FIBRA"},
        faults=(FaultSpec("orders", "negative_quantity", 0.70),),
    ),
)
# fmt: on
_ARCHETYPE = {a.key: a for a in ARCHETYPES}

# A seventh firm, in the hand-shaped sample only (larger districts cycle the six above): a small
# printing subcontractor whose ERP cannot be reached from outside. It drops its nightly exports
# on an SFTP server and writes `<file>.ok` once a file is complete. `make demo` serves them from
# a local sshd (scripts/sftp-demo.sh); the tests from one they start.
# fmt: off
SFTP_ARCHETYPE = Archetype(
    key="stamperia-soliera", name="Stamperia Digitale Soliera S.r.l.", word="Stamperia",
    legal="S.r.l.", role="subcontractor", municipality="Soliera", process="printing",
    erp="a cloud ERP behind the firm's firewall: nightly exports dropped on an SFTP server, "
        "each with a '.ok' marker; UTF-8, ';', decimal comma, dd/mm/yyyy",
    source="sftp-notturno",
    style=Style(";", ",", "", "utf-8", "%d/%m/%Y", "\n", "S", "N"),
    tables={
        "suppliers": Table(
            ("fornitori.csv",), "fornitori.csv",
            (("Codice", "local_code"), ("Ragione sociale", "name"),
             ("Partita IVA", "vat_number"), ("Comune", "municipality"),
             ("Provincia", "province"), ("Nazione", "country"), ("Categoria", "process"),
             ("Terzista", "subcontractor")),
            values={"process": {"INCHIOSTRI": "chemicals", "CARTA": "packaging",
                                "TRASPORTI": "logistics"}},
            full_snapshot=True,
        ),
        "orders": Table(
            ("lavori_20261120.csv", "lavori_20261121.csv"), "lavori_*.csv",
            (("Nr. lavoro", "order_id"), ("Riga", "line_no"), ("Tipo", "direction"),
             ("Data", "order_date"), ("Articolo", "sku"), ("Descrizione", "~description"),
             ("Quantità", "quantity"), ("UM", "unit"), ("Cliente/Fornitore", "counterparty"),
             ("Consegna", "delivery_date"), ("Prezzo €", "unit_price")),
            units={"PZ": "pcs", "MT": "m", "KG": "kg", "LT": "l"},
        ),
    },
    orders=OrderPlan(
        lines=(60, 18), days=(("2026-06-03", "2026-11-19"), ("2026-11-20", "2026-11-20")),
        order_id="ST{:05d}", first_no=1501, max_lines=3,
        flows=(Flow("CL", "work_order", 0.8, "customers", "services"),
               Flow("AC", "purchase", 0.2, "suppliers")),
        customers=("CL{:03d}", 12),
    ),
    suppliers=("colorificio", "cartotecnica", "trasporti"),
    supplier_code=("F{:04d}", 200),
    supplies=("INK-PIG", "INK-SUB", "CARTA-TR"),
    services=("ST-DIG", "ST-SUB", "ST-SERIG"),
    delivery="sftp",
)
# fmt: on
# How the sample's SFTP source reaches the demo server: every setting can be overridden from
# the environment (the tests point them at the sshd they start).
SFTP_LOCATION: dict[str, Any] = {
    "kind": "sftp",
    "host": "127.0.0.1",
    "port": "${HUB_SFTP_PORT:-2222}",
    "username": "${HUB_SFTP_USER:-hub}",
    "private_key_file": "${HUB_SFTP_KEY:-data/sftp-demo/client_ed25519}",
    "known_hosts_file": "${HUB_SFTP_KNOWN_HOSTS:-data/sftp-demo/known_hosts}",
    "remote_dir": "sample/{company_id}",
    "archive_dir": "archivio",
    "completion": {"kind": "marker", "marker_suffix": ".ok"},
}

# --- waste registers and certificates ---------------------------------------------------------

# What some firms export besides their ERP tables: the waste register (registro di carico e
# scarico, summed per year as in the MUD declaration) and the list of certificates and social
# audits. The streams and certificates differ on purpose, so that the firms' ratings differ for
# reasons a reader can see: waste sent to landfill or recovered, a valid or an expired
# certificate, an amfori BSCI grade. A firm without these files has no such data (the laundry):
# its rating says "insufficient data" rather than a made-up score. The files of the six
# archetypes are added after their ERP tables, so that every other file stays as it was.
# fmt: off
_DESTINATIONS_IT = {"R3": "recovery", "R13": "recovery", "D1": "landfill", "D15": "landfill"}
_SCHEMES_IT = {"SA8000": "SA8000", "BSCI": "amfori BSCI", "ISO 14001": "ISO 14001",
               "ISO 45001": "ISO 45001", "OEKO-TEX STANDARD 100": "OEKO-TEX", "GOTS": "GOTS",
               "GRS": "GRS", "ZDHC": "ZDHC"}
RIFIUTI = Table(
    ("rifiuti.csv",), "rifiuti.csv",
    (("Descrizione rifiuto", "material"), ("Codice CER", "ewc_code"),
     ("Kg anno", "quantity_kg_year"), ("Destinazione", "destination")),
    values={"destination": _DESTINATIONS_IT}, full_snapshot=True,
)
CERTIFICAZIONI = Table(
    ("certificazioni.csv",), "certificazioni.csv",
    (("Certificazione", "scheme"), ("Numero", "number"), ("Valido dal", "valid_from"),
     ("Valido al", "valid_to"), ("Giudizio audit", "grade")),
    values={"scheme": _SCHEMES_IT}, full_snapshot=True,
)
REGISTERS: dict[str, dict[str, Table]] = {
    "moda-carpi": {"waste_streams": RIFIUTI, "certifications": CERTIFICAZIONI},
    "maglificio-fossoli": {"waste_streams": RIFIUTI, "certifications": CERTIFICAZIONI},
    "confezioni-reno": {"waste_streams": Table(
        ("waste.csv",), "waste.csv",
        (("Waste", "material"), ("EWC", "ewc_code"), ("Kg/year", "quantity_kg_year"),
         ("Destination", "destination")),
        values={"destination": {"RECOVERY": "recovery", "LANDFILL": "landfill"}},
        full_snapshot=True,
    )},
    "tintoria-secchia": {"waste_streams": RIFIUTI, "certifications": CERTIFICAZIONI},
    "filatura-tresinaro": {"waste_streams": RIFIUTI, "certifications": CERTIFICAZIONI},
}
# firm → (material, EWC code as the firm writes it, kg a year, destination code)
WASTE: dict[str, tuple[tuple[str, str, float, str], ...]] = {
    "moda-carpi": (("Imballaggi in carta e cartone", "15 01 01", 2400, "R13"),
                   ("Ritagli di tessuto di cotone (campionario)", "04 02 21", 380, "R13")),
    "maglificio-fossoli": (("Ritagli e cimose di maglia in lana", "040222", 5200, "D1"),
                           ("Imballaggi in cartone", "150101", 900, "R13")),
    "confezioni-reno": (("Cotton fabric scraps", "04 02 21", 8600, "LANDFILL"),
                        ("Cardboard packaging", "15 01 01", 1800, "RECOVERY")),
    "tintoria-secchia": (("Fanghi di depurazione", "04 02 20", 42000, "D1"),
                         ("Cascami di filato di cotone", "04 02 21", 1500, "D15"),
                         ("Imballaggi in carta e cartone", "15 01 01", 1100, "R13")),
    "filatura-tresinaro": (("Cascami di filatura del cotone", "04 02 21", 6400, "R3"),
                           ("Imballaggi in carta e cartone", "15 01 01", 1200, "R13")),
}
# firm → (scheme as the firm writes it, number, valid from, valid to, audit grade)
CERTIFICATES: dict[str, tuple[tuple[str, str, str, str, str], ...]] = {
    "moda-carpi": (("SA8000", "SA-IT-2291", "2024-03-01", "2027-02-28", ""),
                   ("BSCI", "BSCI-448812", "2025-05-12", "2027-05-11", "B"),
                   ("ISO 14001", "IT-14001-7781", "2024-01-15", "2027-01-14", "")),
    "maglificio-fossoli": (("BSCI", "BSCI-391204", "2025-02-01", "2027-01-31", "C"),
                           ("ISO 45001", "IT-45001-2210", "2022-07-01", "2025-06-30", ""),
                           ("OEKO-TEX STANDARD 100", "21.HIT.44512", "2025-09-01", "2027-08-31",
                            "")),
    "tintoria-secchia": (("ZDHC", "ZDHC-L3-0571", "2025-04-01", "2027-03-31", ""),
                         ("OEKO-TEX STANDARD 100", "19.HIT.80231", "2025-01-10", "2027-01-09",
                          ""),
                         ("ISO 14001", "IT-14001-5120", "2024-06-01", "2027-05-31", "")),
    "filatura-tresinaro": (("GOTS", "CU-1029384", "2025-03-01", "2027-02-28", ""),
                           ("GRS", "CU-1029384-GRS", "2025-03-01", "2027-02-28", ""),
                           ("OEKO-TEX STANDARD 100", "18.HIT.10077", "2025-06-15", "2027-06-14",
                            ""),
                           ("ISO 45001", "IT-45001-0934", "2024-09-01", "2027-08-31", "")),
}
# fmt: on


def _tables(arch: Archetype) -> dict[str, Table]:
    """The files a firm exports: its ERP tables, then its waste register and certificates."""
    return {**arch.tables, **REGISTERS.get(arch.key, {})}


# --- identifiers ------------------------------------------------------------------------------


class _Rand:
    """`random.Random` used only through `random()`, the one stream Python keeps stable."""

    def __init__(self, seed: str) -> None:
        self._r = random.Random(seed)

    def between(self, lo: int, hi: int) -> int:
        return lo + int(self._r.random() * (hi - lo + 1))

    def uniform(self, lo: float, hi: float) -> float:
        return lo + self._r.random() * (hi - lo)

    def pick(self, seq: Sequence[Any]) -> Any:
        return seq[int(self._r.random() * len(seq))]

    def chance(self, p: float) -> bool:
        return self._r.random() < p


def vat_number(name: str, province: str, seed: int = DEFAULT_SEED) -> str:
    """A fictitious but valid partita IVA: 7 digits, the tax office's province, Luhn check."""
    body = f"{_Rand(f'{seed}:vat:{name}').between(1, 3_999_999):07d}" + PROVINCE_OFFICE[province]
    return body + luhn.calc_check_digit(body)


def gtin13(prefix: str, item: int) -> str:
    """An EAN-13 from a 7-digit GS1 company prefix and a 5-digit item reference."""
    body = f"{prefix}{item % 100_000:05d}"
    return body + ean.calc_check_digit(body)


def composition_text(fibres: tuple[tuple[str, int], ...], style: str) -> str:
    """A fibre composition written the way a firm's people type it in the ERP."""
    if not fibres:
        return ""

    def code(f: str) -> str:
        return "WO" if f == "WM" else f

    if style == "pct_code":  # 95% CO 5% EA
        return " ".join(f"{p}% {code(f)}" for f, p in fibres)
    if style == "name_pct":  # cotone 95% elastan 5%
        return " ".join(f"{FIBRES[f][0]} {p}%" for f, p in fibres)
    if style == "pct_name":  # 100% Lana Merino
        return " ".join(f"{p}% {FIBRES[f][0].title()}" for f, p in fibres)
    if style == "code_pct":  # CO95 PA5
        return " ".join(f"{code(f)}{p}" for f, p in fibres)
    return " ".join(f"{p}% {FIBRES[f][1]}" for f, p in fibres)  # pct_en: 95% Cotton 5% Elastane


def _day(iso: str) -> int:
    return (date.fromisoformat(iso) - YEAR_START).days


# --- a firm's master data ---------------------------------------------------------------------


@dataclass(frozen=True)
class Firm:
    """A firm of the generated district."""

    number: int  # 1-based position in the district
    arch: Archetype
    company_id: str
    name: str
    municipality: str

    @property
    def province(self) -> str:
        return MUNICIPALITIES[self.municipality][0]

    def vat(self, seed: int) -> str:
        return vat_number(self.name, self.province, seed)


@dataclass(frozen=True)
class Product:
    sku: str
    gtin: str
    name: str
    category: str
    season: str
    mass_g: int
    made_in: str
    price: float
    quality: str = ""
    bom: tuple[tuple[str, float, str], ...] = ()  # component code, quantity per piece, origin
    composition: str = ""
    count: str = ""
    colour: str = ""


@dataclass(frozen=True)
class Supplier:
    code: str
    name: str
    vat: str
    municipality: str
    province: str
    process: str
    address: str

    @property
    def subcontractor(self) -> bool:
        return self.process in SUBCONTRACTED


@dataclass
class MasterData:
    products: list[Product]
    suppliers: list[Supplier]
    supplier_of: dict[str, str]  # bought component or supply → supplier code
    customers: list[str]


def _firms(n_firms: int) -> list[Firm]:
    firms = []
    for i in range(n_firms):
        arch = ARCHETYPES[i % len(ARCHETYPES)]
        if i < len(ARCHETYPES):
            firms.append(Firm(i + 1, arch, arch.key, arch.name, arch.municipality))
            continue
        # Copies get a district surname and town; the id keeps the archetype, for readability.
        cycle = i // len(ARCHETYPES) - 1
        surname = SURNAMES[cycle % len(SURNAMES)]
        if cycle >= len(SURNAMES):
            surname += f" {cycle // len(SURNAMES) + 1}"
        towns = list(MUNICIPALITIES)
        firms.append(
            Firm(
                i + 1,
                arch,
                f"{arch.key}-{i + 1:04d}",
                f"{arch.word} {surname} {arch.legal}",
                towns[i % len(towns)],
            )
        )
    return firms


def _products(firm: Firm, rnd: _Rand) -> list[Product]:
    plan = firm.arch.products
    if plan is None:
        return []
    out = []
    for i in range(plan.count):
        n = plan.first + i
        if plan.yarns:
            code = YARNS[i % len(YARNS)]
            c = COMPONENTS[code]
            colour = COLOURS[(i + 3 * (i // len(YARNS))) % len(COLOURS)]  # no repeats
            mass_g = rnd.pick((1000, 1500))
            # Fibre per cone, 6 % more than the yarn: what spinning wastes.
            fibre_lots = tuple(
                (f"FB-{f}", round(mass_g / 1000 * share / 100 * 1.06, 3),
                 COMPONENTS[f"FB-{f}"].origins[0])
                for f, share in c.fibres
            )  # fmt: skip
            out.append(
                Product(
                    sku=plan.sku.format(n=n),
                    gtin="",
                    name=f"{c.material.capitalize()} {colour}",
                    category="filato",
                    season="",
                    mass_g=mass_g,
                    made_in="IT",
                    price=round(c.price * rnd.uniform(1.0, 1.15), 2),
                    composition=composition_text(c.fibres, firm.arch.compositions[0]),
                    count=c.count,
                    colour=colour,
                    bom=fibre_lots,
                )
            )
            continue
        recipe = plan.categories[i % len(plan.categories)]
        bom = []
        for slot in RECIPES[recipe]:
            code = rnd.pick(slot)
            if code is None:
                continue
            c = COMPONENTS[code]
            qty = round(rnd.uniform(*c.per_piece), BOM_DECIMALS[c.unit])
            bom.append((code, qty, rnd.pick(c.origins)))
        main = COMPONENTS[bom[0][0]]
        season = rnd.pick(plan.seasons)
        out.append(
            Product(
                sku=plan.sku.format(n=n, yy=season[-2:]),
                gtin=gtin13(plan.gtin_prefix, n) if plan.gtin_prefix else "",
                name=f"{rnd.pick(GARMENTS[recipe])} in {main.material} {rnd.pick(COLOURS)}",
                category=CATEGORY.get(recipe, recipe),
                season=season,
                mass_g=rnd.between(*MASS_G[recipe]),
                made_in=rnd.pick(("PT", "RO", "TN")) if rnd.chance(plan.made_abroad) else "IT",
                price=rnd.between(*SALE_PRICE[recipe]) - 0.1,
                quality=main.name,
                bom=tuple(bom),
            )
        )
    return out


def _suppliers(firm: Firm, rnd: _Rand, seed: int) -> list[Supplier]:
    fmt, n = firm.arch.supplier_code
    out = []
    for key in firm.arch.suppliers:
        if key in EXTERNAL_SUPPLIERS:
            name, town, province, process = EXTERNAL_SUPPLIERS[key]
        else:  # another firm of the sample: same name and VAT, so the hub can resolve it
            other = _ARCHETYPE[key]
            name, town, process = other.name, other.municipality, other.process or ""
            province = MUNICIPALITIES[town][0]
        n += rnd.between(1, 9)
        address = f"{rnd.pick(STREETS)} {rnd.between(1, 120)}"
        out.append(
            Supplier(
                fmt.format(n),
                name,
                vat_number(name, province, seed),
                town,
                province,
                process,
                address,
            )
        )
    return out


def _master_data(firm: Firm, seed: int) -> MasterData:
    rnd = _Rand(f"{seed}:{firm.company_id}")
    products = _products(firm, rnd)
    suppliers = _suppliers(firm, rnd, seed)
    bought = list(dict.fromkeys([c for p in products for c, _, _ in p.bom]))
    supplier_of = {}
    for code in bought + list(firm.arch.supplies):
        process = COMPONENTS[code].process if code in COMPONENTS else SUPPLIES[code][2]
        candidates = [s.code for s in suppliers if s.process == process]
        if not candidates:
            raise ValueError(f"{firm.company_id}: no supplier for {process} ({code})")
        named = COMPONENTS[code].supplier if code in COMPONENTS else ""
        if named in firm.arch.suppliers:
            supplier_of[code] = suppliers[firm.arch.suppliers.index(named)].code
            continue
        supplier_of[code] = rnd.pick(candidates)
    fmt, count = firm.arch.orders.customers
    customers, n = [], rnd.between(1, 300)
    for _ in range(count):
        n += rnd.between(1, 40)
        customers.append(fmt.format(n))
    return MasterData(products, suppliers, supplier_of, customers)


# --- order lines, column-wise -----------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """Something an order line can order, with its quantity range and price."""

    code: str
    name: str
    unit: str
    qty: tuple[float, float]
    price: float


@dataclass
class OrderBook:
    """Who orders what from whom, as arrays: orders pick a group, lines an item of its pool."""

    sku: np.ndarray
    name: np.ndarray
    unit: np.ndarray
    decimals: np.ndarray
    qlo: np.ndarray
    qhi: np.ndarray
    price: np.ndarray
    code: np.ndarray  # per group: direction as the ERP writes it
    party: np.ndarray  # per group: counterparty
    start: np.ndarray  # per group: its pool in the item arrays
    size: np.ndarray
    cum_weight: np.ndarray


def _pools(firm: Firm, md: MasterData) -> list[tuple[Flow, str, tuple[Item, ...]]]:
    """(flow, counterparty, items) of every kind of order the firm exports."""
    arch = firm.arch
    sale_unit, sale_qty = (
        ("kg", (20, 900)) if arch.products and arch.products.yarns else ("pcs", SALE_QTY)
    )

    def product_items(categories: tuple[str, ...], work: bool) -> tuple[Item, ...]:
        return tuple(
            Item(
                p.sku,
                p.name,
                sale_unit,
                WORK_QTY if work else sale_qty,
                round(p.price * 0.18, 2) if work else p.price,
            )
            for p in md.products
            if not categories or p.category in categories
        )

    def bought_item(code: str) -> Item:
        if code in COMPONENTS:
            c = COMPONENTS[code]
            name, unit, price = c.name, c.unit, c.price
        else:
            name, unit, _, price = SUPPLIES[code]
        return Item(code, name, unit, PURCHASE_QTY[unit], price)

    groups: list[tuple[Flow, str, tuple[Item, ...]]] = []
    for flow in arch.orders.flows:
        if flow.party == "customers":
            if flow.items == "services":
                items = tuple(
                    Item(c, SERVICES[c][0], SERVICES[c][1], SERVICES[c][2], SERVICES[c][3])
                    for c in arch.services
                )
            else:
                items = product_items((), flow.direction == "work_order")
            groups += [(flow, c, items) for c in md.customers]
        elif flow.party == "suppliers":
            for s in md.suppliers:
                items = tuple(bought_item(c) for c, sc in md.supplier_of.items() if sc == s.code)
                if items:
                    groups.append((flow, s.code, items))
        else:  # work orders to subcontractors
            for s in md.suppliers:
                if not s.subcontractor or s.process not in arch.orders.work:
                    continue
                what, which = arch.orders.work[s.process]
                if what == "products":
                    items = product_items(which, work=True)
                else:
                    codes = dict.fromkeys(
                        c for p in md.products for c, _, _ in p.bom if COMPONENTS[c].kind in which
                    )
                    items = tuple(
                        Item(c, COMPONENTS[c].name, COMPONENTS[c].unit, (20, 400), 4.2)
                        for c in codes
                    )
                if items:
                    groups.append((flow, s.code, items))
    return groups


def _order_book(firm: Firm, md: MasterData, table: Table, style: Style) -> OrderBook:
    groups = _pools(firm, md)
    pools: dict[tuple[Item, ...], int] = {}
    items: list[Item] = []
    start, size, weight = [], [], []
    per_flow = {f: sum(1 for g in groups if g[0] == f) for f in firm.arch.orders.flows}
    for flow, _, pool in groups:
        if pool not in pools:
            pools[pool] = len(items)
            items.extend(pool)
        start.append(pools[pool])
        size.append(len(pool))
        weight.append(flow.weight / per_flow[flow])
    return OrderBook(
        sku=np.array([style.quote(i.code) for i in items]),
        name=np.array([style.quote(i.name) for i in items]),
        unit=np.array([table.source_unit(i.unit) for i in items]),
        decimals=np.array([ORDER_DECIMALS[i.unit] for i in items]),
        qlo=np.array([i.qty[0] for i in items], dtype=float),
        qhi=np.array([i.qty[1] for i in items], dtype=float),
        price=np.array([i.price for i in items]),
        code=np.array([g[0].code or "" for g in groups]),
        party=np.array([style.quote(g[1]) for g in groups]),
        start=np.array(start),
        size=np.array(size),
        cum_weight=np.cumsum(weight),
    )


@dataclass
class OrderLines:
    """One file's order lines: per line, and per order (indexed through `order`)."""

    order: np.ndarray
    line_no: np.ndarray
    item: np.ndarray
    qty: np.ndarray
    price: np.ndarray
    group: np.ndarray  # per order
    day: np.ndarray  # per order
    delivery: np.ndarray  # per order
    order_id: np.ndarray  # per order


def _order_lines(
    rng: np.random.Generator,
    book: OrderBook,
    plan: OrderPlan,
    n: int,
    days: tuple[int, int],
    first_no: int,
) -> OrderLines:
    """n order lines; orders of 1..max_lines lines, dated in `days`, numbered from first_no."""
    sizes = 1 + np.floor(rng.random(max(n, 1)) * plan.max_lines).astype(np.int64)
    ends = np.cumsum(sizes)
    n_orders = int(np.searchsorted(ends, n)) + 1 if n else 0
    sizes = sizes[:n_orders]
    if n:
        sizes[-1] -= ends[n_orders - 1] - n
    order = np.repeat(np.arange(n_orders), sizes)
    line_no = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes) + 1
    group = np.searchsorted(
        book.cum_weight, rng.random(n_orders) * book.cum_weight[-1], side="right"
    ).clip(max=len(book.cum_weight) - 1)
    day = np.sort(days[0] + np.floor(rng.random(n_orders) * (days[1] - days[0] + 1)))
    day = day.astype(np.int64)
    # Delivery 1-8 weeks later, within 2026 (late orders get shorter lead times).
    span = np.clip(YEAR_DAYS - 8 - day, 1, 54)
    delivery = np.minimum(
        day + 7 + np.floor(rng.random(n_orders) * span).astype(np.int64), YEAR_DAYS - 1
    )
    item = book.start[group][order] + np.floor(rng.random(n) * book.size[group][order]).astype(
        np.int64
    )
    lo, hi = book.qlo[item], book.qhi[item]
    scale = 10.0 ** book.decimals[item]
    qty = np.maximum(np.round((lo + rng.random(n) * (hi - lo)) * scale), 1) / scale
    price = np.round(book.price[item] * (0.9 + 0.2 * rng.random(n)), 2)
    ids = np.array([plan.order_id.format(first_no + i) for i in range(n_orders)] or [""])
    return OrderLines(order, line_no, item, qty, price, group, day, delivery, ids)


def _duplicate(lines: OrderLines, rows: list[int]) -> OrderLines:
    """Repeat a row right after itself with another quantity, as a faulty export does."""
    if not rows:
        return lines
    (r,) = rows
    idx = np.insert(np.arange(len(lines.order)), r + 1, r)
    qty = lines.qty[idx]
    qty[r + 1] *= 2
    return OrderLines(
        lines.order[idx],
        lines.line_no[idx],
        lines.item[idx],
        qty,
        lines.price[idx],
        lines.group,
        lines.day,
        lines.delivery,
        lines.order_id,
    )


def _order_columns(
    lines: OrderLines,
    book: OrderBook,
    table: Table,
    style: Style,
    dates: np.ndarray,
) -> Callable[[int, int], list[list[str]]]:
    """Formats rows a..b of the file, column by column, as the ERP writes them."""

    def columns(a: int, b: int) -> list[list[str]]:
        order = lines.order[a:b]
        item = lines.item[a:b]
        group = lines.group[order]
        make: dict[str, Callable[[], Any]] = {
            "order_id": lambda: lines.order_id[order],
            "line_no": lambda: lines.line_no[a:b].astype(str),
            "direction": lambda: book.code[group],
            "order_date": lambda: dates[lines.day[order]],
            "sku": lambda: book.sku[item],
            "~description": lambda: book.name[item],
            "quantity": lambda: style.numbers(lines.qty[a:b], book.decimals[item]),
            "unit": lambda: book.unit[item],
            "counterparty": lambda: book.party[group],
            "delivery_date": lambda: dates[lines.delivery[order]],
            "unit_price": lambda: style.numbers(lines.price[a:b], 2),
        }
        out = []
        for _, f in table.columns:
            col = make[f]()
            out.append(col if isinstance(col, list) else col.tolist())
        return out

    return columns


# --- writing files with seeded faults ---------------------------------------------------------


@dataclass
class Placed:
    """Where a fault spec lands in a file: rows of the written file (0-based data rows)."""

    spec: FaultSpec
    rows: list[int]


def _place(specs: list[FaultSpec], n: int) -> tuple[list[int], list[Placed]]:
    """The clean row to duplicate (if any), and every fault's rows in the written file.

    The duplicate (one per file) is inserted first, so that the other faults are placed on the
    final rows, each on a row no other fault spoils.
    """
    dup = next((s for s in specs if s.kind == "duplicate_line"), None)
    dups = [min(int(dup.at * n), n - 2)] if dup and n >= 2 else []
    placed = [Placed(dup, [dups[0], dups[0] + 1])] if dup and dups else []
    taken = set(placed[0].rows) if placed else set()
    final = n + len(dups)
    for s in specs:
        if s.kind == "duplicate_line" or final == 0:
            continue
        if s.kind == "totals_row":
            placed.append(Placed(s, [final]))
            continue
        r = min(int(s.at * final), final - 1)
        while r in taken and r < final - 1:
            r += 1
        if r not in taken:
            taken.add(r)
            placed.append(Placed(s, [r]))
    return dups, placed


def _spoil(spec: FaultSpec, old: str, decimal: str) -> str:
    """The cell a fault writes in place of a clean one."""
    if spec.kind == "negative_quantity":
        return "-" + old
    if spec.kind == "gtin_scientific":  # what a spreadsheet saves for a long number
        return f"{int(old):.{spec.digits}E}".replace(".", decimal)
    if spec.kind in ("gtin_check_digit", "vat_invalid"):
        return old[:-1] + str((int(old[-1]) + 1) % 10)
    if spec.kind == "missing_supplier":
        return ""
    if spec.kind == "fabric_weight_absurd" and old:  # a zero too many: 310 → 3100
        return old + "0"
    return spec.value


def _write_table(
    out_dir: Path,
    firm: Firm,
    entity: str,
    file_no: int,
    table: Table,
    style: Style,
    n_rows: int,
    columns: Callable[[int, int], list[list[str]]],
    placed: list[Placed],
    totals_qty: float | None = None,
) -> list[dict[str, Any]]:
    """Write one CSV file in the firm's style with its faults; returns the faults' records."""
    fname = table.files[file_no]
    rel = f"sample/{firm.company_id}/{fname}"
    headers = [h for h, _ in table.columns]
    header_line = style.delimiter.join(style.quote(h) for h in headers)
    spoil = {
        p.rows[0]: p
        for p in placed
        if p.spec.kind in _FAULT_FIELD and p.spec.kind != "duplicate_line"
    }
    header_before = sorted(p.rows[0] for p in placed if p.spec.kind == "repeated_header")
    watch = {
        r: table.index("order_id")
        for p in placed
        if p.spec.kind == "duplicate_line"
        for r in p.rows
    }
    seen: dict[int, str] = {}
    nl = style.newline
    path = out_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=style.encoding, newline="") as f:
        f.write(header_line + nl)
        for a in range(0, n_rows, CHUNK_LINES):
            b = min(n_rows, a + CHUNK_LINES)
            cols = columns(a, b)
            for r in (r for r in spoil if a <= r < b):
                spec = spoil[r].spec
                col = table.index(_FAULT_FIELD[spec.kind])
                new = _spoil(spec, _unquote(cols[col][r - a]), style.decimal)
                cols[col][r - a] = style.quote(new)
                seen[r] = new
            for r in (r for r in watch if a <= r < b):
                seen[r] = _unquote(cols[watch[r]][r - a])
            rows = list(map(style.delimiter.join, zip(*cols, strict=True)))
            for h in reversed([h for h in header_before if a <= h < b]):
                rows.insert(h - a, header_line)
            f.write(nl.join(rows) + nl)
        if totals_qty is not None:
            cells = [""] * len(headers)
            cells[0] = "TOTALE"
            cells[table.index("quantity")] = style.quote(style.number(totals_qty, 2))
            f.write(style.delimiter.join(cells) + nl)

    def line_of(row: int) -> int:  # header = line 1; a repeated header shifts what follows
        return 2 + row + sum(1 for h in header_before if h <= row)

    records = []
    for p in placed:
        kind = p.spec.kind
        for r in p.rows:
            if kind == "repeated_header":
                line, column, value = 2 + r + header_before.index(r), headers[0], headers[0]
            elif kind == "totals_row":
                line, column, value = line_of(r), headers[0], "TOTALE"
            else:
                line = line_of(r)
                column, value = table.header(_FAULT_FIELD[kind]), seen[r]
            records.append(
                {
                    "company_id": firm.company_id,
                    "source": firm.arch.source,
                    "entity": entity,
                    "file": rel,
                    "line": line,
                    "column": column,
                    "value": value,
                    "fault": kind,
                    "expected_rule": FAULT_RULES[kind],
                }
            )
    return records


def _unquote(cell: str) -> str:
    return cell[1:-1].replace('""', '"') if cell.startswith('"') else cell


def _rows_writer(rows: list[list[str]], style: Style) -> Callable[[int, int], list[list[str]]]:
    quoted = [[style.quote(c) for c in row] for row in rows]

    def columns(a: int, b: int) -> list[list[str]]:
        return [list(c) for c in zip(*quoted[a:b], strict=True)]

    return columns


def _product_rows(firm: Firm, md: MasterData, table: Table, style: Style) -> list[list[str]]:
    rows = []
    for p in md.products:
        cells = {
            "sku": p.sku,
            "name": p.name,
            "gtin": p.gtin,
            "season": p.season,
            "category": table.source_value("category", p.category)
            if "category" in table.values
            else p.category,
            "mass_g": style.number(p.mass_g, 0),
            "country_of_making": p.made_in,
            "~quality": p.quality,
            "~composition": p.composition,
            "composition": p.composition,
            "~count": p.count,
            "~colour": p.colour,
        }
        if "season" in table.values:
            cells["season"] = table.source_value("season", p.season)
        rows.append([cells[f] for _, f in table.columns])
    return rows


def _bom_rows(firm: Firm, md: MasterData, table: Table, style: Style) -> list[list[str]]:
    rows = []
    compositions = firm.arch.compositions
    for p in md.products:
        for line_no, (code, qty, origin) in enumerate(p.bom, start=1):
            c = COMPONENTS[code]
            # Free-text compositions: people of the same firm write them differently.
            how = compositions[(len(rows) * 7 + line_no) % len(compositions)]
            cells = {
                "sku": p.sku,
                "line_no": str(line_no),
                "component_code": code,
                "component_name": c.name,
                "component_kind": firm.arch.component_kinds[c.kind],
                "~count": c.count,
                "fabric_weight_gsm": style.number(c.gsm, 0) if c.gsm else "",
                "fabric_width_cm": style.number(c.width, 0) if c.width else "",
                "substances": "; ".join(
                    f"{cas}:{style.number(pct, 2)}%" for cas, pct in SUBSTANCES.get(code, ())
                ),
                "quantity": style.number(qty, BOM_DECIMALS[c.unit]),
                "unit": table.source_unit(c.unit),
                "supplier_code": md.supplier_of[code],
                "composition": composition_text(c.fibres, how),
                "recycled_share": style.number(c.recycled, 2),
                "certifications": c.certs,
                "origin_country": origin,
            }
            rows.append([cells[f] for _, f in table.columns])
    return rows


def _supplier_rows(firm: Firm, md: MasterData, table: Table, style: Style) -> list[list[str]]:
    rows = []
    for s in md.suppliers:
        cells = {
            "local_code": s.code,
            "name": s.name,
            "vat_number": s.vat,
            "~address": s.address,
            "municipality": s.municipality,
            "province": s.province,
            "country": "IT",
            "process": table.source_value("process", s.process)
            if "process" in table.values
            else s.process,
            "subcontractor": style.bool(s.subcontractor),
        }
        rows.append([cells[f] for _, f in table.columns])
    return rows


def _waste_rows(firm: Firm, md: MasterData, table: Table, style: Style) -> list[list[str]]:
    rows = []
    for material, ewc, kg, destination in WASTE[firm.arch.key]:
        cells = {"material": material, "ewc_code": ewc, "quantity_kg_year": style.number(kg, 0),
                 "destination": destination}  # fmt: skip
        rows.append([cells[f] for _, f in table.columns])
    return rows


def _certificate_rows(firm: Firm, md: MasterData, table: Table, style: Style
                      ) -> list[list[str]]:  # fmt: skip
    rows = []
    for scheme, number, start, end, grade in CERTIFICATES[firm.arch.key]:
        cells = {"scheme": scheme, "number": number, "grade": grade,
                 "valid_from": date.fromisoformat(start).strftime(style.date_format),
                 "valid_to": date.fromisoformat(end).strftime(style.date_format)}  # fmt: skip
        rows.append([cells[f] for _, f in table.columns])
    return rows


_MASTER_ROWS = {"products": _product_rows, "bom_lines": _bom_rows, "suppliers": _supplier_rows,
                "waste_streams": _waste_rows, "certifications": _certificate_rows}  # fmt: skip


def _write_firm(
    out_dir: Path,
    firm: Firm,
    seed: int,
    orders_per_firm: int | None,
    faults: bool,
) -> list[dict[str, Any]]:
    arch = firm.arch
    md = _master_data(firm, seed)
    records: list[dict[str, Any]] = []
    specs = list(arch.faults) if faults else []
    for entity, table in _tables(arch).items():
        style = table.style or arch.style
        mine = [s for s in specs if s.entity == entity]
        if entity != "orders":
            rows = _MASTER_ROWS[entity](firm, md, table, style)
            _, placed = _place(mine, len(rows))
            if entity == "bom_lines" and any(s.kind == "unknown_supplier" for s in mine):
                known = {s.code for s in md.suppliers}
                assert not known & {s.value for s in mine}, "the unknown supplier is known"
            records += _write_table(
                out_dir, firm, entity, 0, table, style, len(rows), _rows_writer(rows, style), placed
            )
            continue
        plan = arch.orders
        book = _order_book(firm, md, table, style)
        dates = style.dates()
        first_no = plan.first_no
        for file_no, n in enumerate(_split(plan.lines, orders_per_firm)):
            rng = np.random.default_rng([seed, firm.number, file_no])
            days = (_day(plan.days[file_no][0]), _day(plan.days[file_no][1]))
            lines = _order_lines(rng, book, plan, n, days, first_no)
            first_no += len(lines.order_id) + 3  # orders cancelled in between leave gaps
            dups, placed = _place([s for s in mine if s.file == file_no], n)
            lines = _duplicate(lines, dups)
            totals = (
                float(lines.qty.sum()) if any(p.spec.kind == "totals_row" for p in placed) else None
            )
            records += _write_table(
                out_dir,
                firm,
                "orders",
                file_no,
                table,
                style,
                len(lines.order),
                _order_columns(lines, book, table, style, dates),
                placed,
                totals,
            )
    if arch.delivery == "sftp":  # the firm marks each complete file with an empty `.ok`
        for table in arch.tables.values():
            for fname in table.files:
                (out_dir / "sample" / firm.company_id / f"{fname}.ok").write_bytes(b"")
    return records


def _split(default: tuple[int, ...], total: int | None) -> list[int]:
    """Order lines per file: the default sample's, or `total` shared in the same proportions."""
    if total is None:
        return list(default)
    shares = [total * d // sum(default) for d in default]
    shares[0] += total - sum(shares)
    return shares


# --- district.yaml ----------------------------------------------------------------------------

YAML_HEADER = """\
# Sample district: fictitious firms of the Carpi and Centergross fashion districts.
#
# GENERATED by `python -m hub.sample .` (hub/sample.py, seed {seed}) together with the files
# under sample/: edit the generator, not this file, or copy this file to start the
# configuration of a real district.
#
# How to read it:
#   district:  the district; `domain` is used in the identifiers of product passports.
#   profiles:  column mappings shared by firms whose ERPs export the same files (same software,
#              same export); a firm's entity names the profile instead of repeating it.
#   firms:     one entry per firm: who it is (VAT number, role, where) and its `sources`.
#     sources: where the firm's files are (`location`, relative to this file) and how its ERP
#              writes them (`format`: delimiter, decimal mark, thousands separator, encoding,
#              date format, how yes/no are written). Values are read by these rules, never
#              guessed: a value that does not follow them goes to quarantine with its reason.
#       entities: what the files hold (orders, bom_lines, suppliers, products) and how to map
#                 them onto the hub's columns:
#         files:         which files (a glob: `ordini_*.csv` picks up every daily export)
#         full_snapshot: each file is the complete list (a sudden drop in rows blocks the load)
#         columns:       hub column -> header as the ERP writes it
#         values:        ERP code -> hub value (e.g. order type V -> sale)
#         units:         ERP unit -> hub unit (pcs, kg, g, m, cm, m2, l, pair, set); a unit
#                        not listed sends the row to quarantine
#         constants:     a hub column with the same value on every row (a BOM's
#                        fabric_width_cm: the firm's usual width, for lines without one)
#         format:        overrides the source's format for this entity only
# Secrets (passwords, keys) never go in this file: write ${{ENV_VAR}} and set the variable.
# The sample's files contain errors on purpose; sample/faults.json lists where they are.
"""


class _Dumper(yaml.SafeDumper):
    """Indents lists under their key, as people write YAML by hand; no &anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _firm_yaml(firm: Firm, seed: int) -> dict[str, Any]:
    arch = firm.arch
    province, lat, lon = MUNICIPALITIES[firm.municipality]
    if firm.arch.lat_lon and firm.company_id == firm.arch.key:
        lat, lon = firm.arch.lat_lon
    entities = {
        entity: table.profile or table.mapping(arch.orders if entity == "orders" else None)
        for entity, table in _tables(arch).items()
    }
    return {
        "company_id": firm.company_id,
        "name": firm.name,
        "vat_number": firm.vat(seed),
        "role": arch.role,
        "municipality": firm.municipality,
        "province": province,
        "country": "IT",
        "lat": lat,
        "lon": lon,
        "sources": [
            {
                "name": arch.source,
                "kind": "csv",
                "location": _location(firm),
                "format": arch.style.format_block(),
                "entities": entities,
            }
        ],
    }


def _location(firm: Firm) -> dict[str, Any]:
    if firm.arch.delivery == "sftp":
        return {
            k: v.format(company_id=firm.company_id) if k == "remote_dir" else v
            for k, v in SFTP_LOCATION.items()
        }
    return {"kind": "local", "path": f"sample/{firm.company_id}"}


SUPPLIER_OVERRIDES = """\
# Manual supplier resolution (README, "Harmonization"). The hub merges the same supplier listed by
# several firms by VAT number, then by name and municipality (exact, then fuzzy); each merge is
# explained in supplier_links.match_rule / match_evidence. Correct it here, with records written
# as company_id/local_code:
#
# same:        # records that are one supplier (e.g. a VAT number missing from one list)
#   - members: [moda-carpi/F00128, confezioni-reno/V1001]
#     supplier_id: IT16950570362      # optional: the id of the merged supplier
#     note: the same weaver
# different:   # pairs never to merge (similar names, same town, different firms)
#   - [moda-carpi/F00150, maglificio-fossoli/FOR0020]
same: []
different: []
"""


def _district_yaml(firms: list[Firm], seed: int) -> str:
    profiles: dict[str, Any] = {}
    users: dict[str, list[str]] = {}
    for firm in firms:
        for table in firm.arch.tables.values():
            if table.profile:
                profiles[table.profile] = table.mapping()
                users.setdefault(table.profile, []).append(firm.company_id)
    parts = [YAML_HEADER.format(seed=seed), "\n"]
    parts.append(
        _dump(
            {
                "district": {
                    "id": "carpi-centergross",
                    "name": "Distretti della moda di Carpi e Centergross",
                    "domain": "id.carpi-centergross.example",
                }
            }
        )
    )
    parts.append(
        "\n# Manual supplier merges and splits, read when suppliers are resolved across firms.\n"
        + _dump({"supplier_overrides": "sample/supplier_overrides.yaml"})
    )
    if profiles:
        sharing = sorted({c for ids in users.values() for c in ids[:2]})
        about = (
            "Mappings shared by firms whose ERPs export the same files (here the "
            f"TeamSystem-style export of {' and '.join(sharing)})."
        )
        parts.append(
            "\n" + textwrap.fill(about, 98, initial_indent="# ", subsequent_indent="# ") + "\n"
        )
        parts.append(_dump({"profiles": profiles}))
    parts.append("\nfirms:\n")
    for firm in firms:
        about = f"{firm.name} ({firm.arch.role}): {firm.arch.erp}."
        parts.append(
            "\n"
            + textwrap.fill(about, 98, initial_indent="  # ", subsequent_indent="  #   ")
            + "\n"
        )
        parts.append(
            "".join(
                "  " + line for line in _dump([_firm_yaml(firm, seed)]).splitlines(keepends=True)
            )
        )
    if any(f.arch is SFTP_ARCHETYPE for f in firms):  # the hand-shaped sample: its ERP firm too
        from hub.tryton_demo import SAMPLE_FIRM_ABOUT, sample_firm

        about = textwrap.fill(SAMPLE_FIRM_ABOUT, 98, initial_indent="  # ",
                              subsequent_indent="  #   ")  # fmt: skip
        block = _dump([sample_firm()]).splitlines(keepends=True)
        parts.append("\n" + about + "\n" + "".join("  " + line for line in block))
    return "".join(parts)


# --- entry points -----------------------------------------------------------------------------


def write_sample_district(
    out_dir: Path,
    *,
    seed: int = DEFAULT_SEED,
    n_firms: int = len(ARCHETYPES),
    orders_per_firm: int | None = None,
    faults: bool = True,
    sftp: bool | None = None,
) -> Path:
    """Write a sample district: `district.yaml` and the firms' files under `sample/`.

    Args:
        out_dir: folder to write into; district.yaml's paths are relative to it.
        seed: the same seed writes the same bytes.
        n_firms: firms; beyond six the archetypes are cycled with ids suffixed `-0007`…
        orders_per_firm: order lines per firm (default: the hand-shaped sample's few hundred).
        faults: seed the faults listed in `sample/faults.json` (else the list is empty).
        sftp: add the firm that delivers over SFTP (`stamperia-soliera`); default: only in
            the hand-shaped sample of six firms (a benchmark district needs no SSH server).

    Returns:
        The path of district.yaml.
    """
    if n_firms < 1:
        raise ValueError("n_firms must be at least 1")
    if orders_per_firm is not None and orders_per_firm < 0:
        raise ValueError("orders_per_firm must not be negative")
    out_dir = Path(out_dir)
    firms = _firms(n_firms)
    if sftp if sftp is not None else n_firms == len(ARCHETYPES):
        arch = SFTP_ARCHETYPE
        firms.append(Firm(n_firms + 1, arch, arch.key, arch.name, arch.municipality))
    records: list[dict[str, Any]] = []
    for firm in firms:
        records += _write_firm(out_dir, firm, seed, orders_per_firm, faults)
    (out_dir / "sample").mkdir(parents=True, exist_ok=True)
    (out_dir / "sample" / "faults.json").write_text(
        json.dumps(records, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out_dir / "sample" / "supplier_overrides.yaml").write_text(
        SUPPLIER_OVERRIDES, encoding="utf-8", newline="\n"
    )
    path = out_dir / "district.yaml"
    path.write_text(_district_yaml(firms, seed), encoding="utf-8", newline="\n")
    return path


def read_faults(out_dir: Path) -> list[dict[str, Any]]:
    """The seeded faults of a district written by `write_sample_district`."""
    return json.loads((Path(out_dir) / "sample" / "faults.json").read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hub.sample", description="Write a deterministic sample district."
    )
    parser.add_argument("out_dir", type=Path, help="folder for district.yaml and sample/")
    parser.add_argument("--firms", type=int, default=len(ARCHETYPES), help="number of firms")
    parser.add_argument(
        "--orders-per-firm",
        type=int,
        default=None,
        help="order lines per firm (default: the small hand-shaped sample)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--no-faults", action="store_true", help="write clean files only")
    parser.add_argument(
        "--sftp",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="add the firm that delivers over SFTP (default: with the six hand-shaped firms)",
    )
    args = parser.parse_args(argv)
    path = write_sample_district(
        args.out_dir,
        seed=args.seed,
        n_firms=args.firms,
        orders_per_firm=args.orders_per_firm,
        faults=not args.no_faults,
        sftp=args.sftp,
    )
    n = len(read_faults(args.out_dir))
    sys.stdout.write(f"wrote {path} and {args.out_dir / 'sample'} ({n} seeded faults)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
