"""Ecobalyse's public factors, loaded from `hub/footprint/data/` (MIT, see SOURCE.md there)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"

# Processes the method names explicitly (Ecobalyse's "well-known" processes, by public id).
AIR_TRANSPORT = "326369d9-792a-5ab5-8276-c54108c80cb1"
ROAD_TRANSPORT = "46e96f29-9ca5-5475-bb3c-6397f43b7a5b"
SEA_TRANSPORT = "20a62b2c-a543-5076-83aa-c5b7d340206a"
BLEACHING = "b4251621-1747-526a-a54f-e4be7500efff"
DEGREASING = "1746b5e1-1d0d-5858-a968-2ade8d778623"
WASHING_SYNTHETIC = "7cdc9616-7fb4-5a69-9436-78e5b84ebf31"
DYEING_CELLULOSIC_TOXICITY = "c49a5379-95c4-599a-84da-b5faaa345b97"
DYEING_SYNTHETIC_TOXICITY = "e5e43c57-bd12-5ab7-8a22-7d12cdcece58"
DYEING = {
    "average": "b7fa51fc-0421-57b0-bb0a-e0573e293c7a",
    "continuous": "c8be445c-ae33-5240-9007-e7973e97fc24",
    "discontinuous": "7e17b44d-108a-504f-9e0d-0cfe5b5db054",
}
PRINTING = {  # kind → (printing process per m², toxicity process per m²)
    "pigment": ("9418bfb4-34e5-5bba-920f-b50e2feff1bd", "97c209ec-7782-5a29-8c47-af7f17c82d11"),
    "substantive": ("5c21e378-b941-57f7-98c9-67345847dbda", "cfdc5e31-25fc-56ff-9a54-04670ecad301"),
}
FINISHING = "3c66588d-fffb-55cb-b9d5-c197b7e2e591"
FADING = "24edc372-b238-5426-8ac9-059218936641"
HEAT_EUROPE = "f6ea2983-e024-5de2-b323-273f2436deba"
HEAT_WORLD = "3561ace1-f710-50ce-a69c-9cf842e729e4"
ELEC_EUROPE = "ee114bf1-8c51-5c1e-8065-d762400447e2"
ELEC_FRANCE_LOW_VOLTAGE = "931c9bb0-619a-5f75-b41b-ab8061e2ad92"
END_OF_LIFE = "ab96b73f-8534-59ad-9f34-a579abe3b023"
PASSENGER_CAR = "2fd6b74f-600a-577c-ba37-b84d8f0482c2"
FABRIC = {  # fabricProcess → process
    "knitting-mix": "29dc6c73-8d82-5056-8ac0-faf212bc0367",
    "knitting-fully-fashioned": "66ef36be-7691-5adc-a684-e83d45e53452",
    "knitting-integral": "b2dba726-83d2-55b2-8107-91c9e47bdca7",
    "knitting-circular": "ddcf4b23-1283-57d3-854b-be3121452d50",
    "knitting-straight": "8343adad-0350-5895-a701-4db41a235ba9",
    "weaving": "235b3488-6157-50ed-b74a-45e5d447dd85",
}
UNKNOWN_ZONE = "---"


@dataclass(frozen=True)
class Zone:
    """A country or region of Ecobalyse, with the processes its steps use."""

    code: str
    name: str
    region: str  # Europe, Asia, Africa, Middle_East, …
    aquatic_scenario: str  # Best, Average, Worst
    elec_process: str
    heat_process: str
    elec_fallback: bool = False  # the zone's own electricity mix is missing from the export
    textile: bool = True  # offered by Ecobalyse's textile simulator (Italy, Spain… are not)


@dataclass
class Factors:
    """Everything the method reads: materials, processes, products, trims, zones, distances."""

    materials: dict[str, dict[str, Any]]
    aliases: dict[str, str]
    processes: dict[str, dict[str, Any]]
    products: dict[str, dict[str, Any]]
    components: dict[str, dict[str, Any]]
    zones: dict[str, Zone]
    distances: dict[str, dict[str, Any]] = field(repr=False)

    def ecs(self, process_id: str) -> float:
        """Environmental cost (points) per unit of a process."""
        return float(self.processes[process_id]["impacts"]["ecs"])

    def elec_kwh(self, process_id: str) -> float:
        """Electricity per unit of a process in kWh (the export gives MJ)."""
        return float(self.processes[process_id]["elecMJ"]) / 3.6

    def heat_mj(self, process_id: str) -> float:
        return float(self.processes[process_id]["heatMJ"])

    def material(self, material_id: str) -> dict[str, Any] | None:
        return self.materials.get(self.aliases.get(material_id, material_id))

    def distance(self, a: str, b: str) -> dict[str, Any] | None:
        """Distances between two zones (stored once per pair: look both orders up)."""
        return self.distances.get(a, {}).get(b) or self.distances.get(b, {}).get(a)


def _read(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_factors() -> Factors:
    """Loads the copied Ecobalyse factors once per process."""
    processes = {p["id"]: p for p in _read("textile-processes.json")}
    materials = {m["id"]: m for m in _read("textile-materials.json")}
    zones = {}
    for c in _read("countries.json"):
        elec = c["electricityProcessId"]
        fallback = elec not in processes
        zones[c["code"]] = Zone(
            code=c["code"], name=c["name"], region=c["zone"],
            aquatic_scenario=c["aquaticPollutionScenario"],
            elec_process=ELEC_EUROPE if fallback else elec, heat_process=c["heatProcessId"],
            elec_fallback=fallback, textile="textile" in c.get("scopes", []),
        )  # fmt: skip
    return Factors(
        materials=materials,
        aliases={m["alias"]: m["id"] for m in materials.values()},
        processes=processes,
        products={p["id"]: p for p in _read("textile-products.json")},
        components={c["id"]: c for c in _read("textile-components.json")},
        zones=zones,
        distances=_read("transports.json"),
    )
