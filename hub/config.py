"""The district configuration (`district.yaml`): firms, their sources and mapping profiles.

Validated on load with pydantic; an error names the file, the line, the firm and the field.
Secrets are never written here: only `${ENV_VAR}` references, resolved at run time.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hub.canonical import CANONICAL_UNITS, ENTITIES, ROLES
from hub.yaml_lines import YamlLocator, load_yaml

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,62}$"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    """A configuration problem, located: file, line, firm and field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CsvFormat(_Model):
    """How a firm's CSV files are written; values are parsed by these, never guessed."""

    delimiter: str = Field(";", min_length=1, max_length=1, description="field separator")
    quote: str = Field('"', min_length=1, max_length=1, description="quote character")
    decimal: Literal[",", "."] = Field(",", description="decimal mark of numbers")
    thousands: Literal[".", ",", " ", "'", ""] = Field("", description="thousands separator")
    encoding: str = Field("utf-8", description="text encoding: utf-8, utf-8-sig, cp1252…")
    date_format: str = Field("%d/%m/%Y", description="strftime format of dates")
    true_values: tuple[str, ...] = Field(("si", "sì", "s", "yes", "y", "true", "1", "x"))
    false_values: tuple[str, ...] = Field(("no", "n", "false", "0", ""))

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        import codecs

        try:
            codecs.lookup(v)
        except LookupError as exc:
            raise ValueError(f"unknown encoding '{v}'") from exc
        return v

    @model_validator(mode="after")
    def _distinct_marks(self) -> CsvFormat:
        if self.thousands and self.thousands == self.decimal:
            raise ValueError("thousands separator and decimal mark must differ")
        if self.decimal == self.delimiter:
            raise ValueError("decimal mark and delimiter must differ")
        return self


class EntityMapping(_Model):
    """How one entity is found in a source and mapped onto canonical columns."""

    files: str = Field(
        ..., description="glob of the files holding this entity, e.g. 'ordini_*.csv'"
    )
    columns: dict[str, str] = Field(..., description="canonical column → source header")
    constants: dict[str, str] = Field({}, description="canonical column → fixed value")
    values: dict[str, dict[str, str]] = Field(
        {}, description="canonical column → {source value → canonical value}"
    )
    units: dict[str, str] = Field({}, description="source unit → canonical unit")
    format: CsvFormat | None = Field(None, description="overrides the source's format")
    full_snapshot: bool = Field(
        False, description="each file holds the full list: a collapsing row count blocks the load"
    )
    min_row_ratio: float = Field(0.5, gt=0, le=1, description="rows vs last sync before blocking")


class LocalLocation(_Model):
    kind: Literal["local"] = "local"
    path: str = Field(..., description="folder with the firm's files (relative to district.yaml)")


Location = Annotated[LocalLocation, Field(discriminator="kind")]


class Source(_Model):
    """One place a firm's data comes from."""

    name: str = Field(..., pattern=ID_PATTERN, description="source name, unique within the firm")
    kind: Literal["csv"] = Field("csv", description="connector kind")
    location: Location
    format: CsvFormat = CsvFormat()
    entities: dict[str, EntityMapping | str] = Field(
        ..., description="entity → mapping, or the name of a profile under `profiles:`"
    )


class Firm(_Model):
    company_id: str = Field(..., pattern=ID_PATTERN, description="stable id of the firm")
    name: str = Field(..., min_length=1)
    vat_number: str | None = None
    role: str = Field(..., description="brand, manufacturer, subcontractor or supplier")
    municipality: str | None = None
    province: str | None = None
    country: str = "IT"
    lat: float | None = None
    lon: float | None = None
    sources: list[Source] = []

    @field_validator("role")
    @classmethod
    def _role(cls, v: str) -> str:
        if v not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)} (got '{v}')")
        return v


class DistrictInfo(_Model):
    id: str = Field(..., pattern=ID_PATTERN)
    name: str
    domain: str = Field("id.district.example", description="domain for passport identifiers")


class District(_Model):
    district: DistrictInfo
    profiles: dict[str, EntityMapping] = {}
    firms: list[Firm]

    # Set after loading: the folder relative paths are resolved against.
    base_dir: Path = Field(Path("."), exclude=True)

    def firm(self, company_id: str) -> Firm:
        for f in self.firms:
            if f.company_id == company_id:
                return f
        known = ", ".join(f.company_id for f in self.firms)
        raise KeyError(f"no firm '{company_id}' in the district (known: {known})")

    def mapping(self, source: Source, entity: str) -> EntityMapping:
        m = source.entities[entity]
        return self.profiles[m] if isinstance(m, str) else m

    def resolve_path(self, path: str) -> Path:
        p = Path(expand_env(path))
        return p if p.is_absolute() else self.base_dir / p


def expand_env(value: str) -> str:
    """Expand `${VAR}` / `${VAR:-default}` from the environment, at run time."""

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError([f"environment variable {name} is not set"])

    return _ENV_REF.sub(sub, value)


def _semantic_problems(d: District) -> list[tuple[tuple[str | int, ...], str]]:
    """Cross-field rules pydantic cannot see: known entities and columns, unique ids."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    seen: set[str] = set()
    for fi, firm in enumerate(d.firms):
        if firm.company_id in seen:
            out.append((("firms", fi, "company_id"), f"duplicate company_id '{firm.company_id}'"))
        seen.add(firm.company_id)
        names: set[str] = set()
        for si, src in enumerate(firm.sources):
            if src.name in names:
                out.append((("firms", fi, "sources", si, "name"), f"duplicate source '{src.name}'"))
            names.add(src.name)
            for ent, m in src.entities.items():
                loc = ("firms", fi, "sources", si, "entities", ent)
                if ent not in ENTITIES:
                    out.append((loc, f"unknown entity '{ent}' (known: {', '.join(ENTITIES)})"))
                    continue
                if isinstance(m, str):
                    if m not in d.profiles:
                        out.append((loc, f"unknown profile '{m}'"))
                        continue
                    m = d.profiles[m]
                out += [(loc + p, msg) for p, msg in _mapping_problems(ent, m)]
    for name, m in d.profiles.items():
        ents = [e for e in ENTITIES if set(m.columns) <= set(ENTITIES[e].names)]
        if not ents:
            out.append((("profiles", name, "columns"), "columns match no entity"))
    return out


def _mapping_problems(entity: str, m: EntityMapping) -> list[tuple[tuple[str | int, ...], str]]:
    ent = ENTITIES[entity]
    out: list[tuple[tuple[str | int, ...], str]] = []
    for col in list(m.columns) + list(m.constants) + list(m.values):
        if col not in ent.names:
            out.append(
                (
                    ("columns", col),
                    f"'{col}' is not a column of {entity} (columns: {', '.join(ent.names)})",
                )
            )
    for col in ent.required:
        if col not in m.columns and col not in m.constants:
            out.append((("columns",), f"required column '{col}' of {entity} is not mapped"))
    for src_unit, unit in m.units.items():
        if unit not in CANONICAL_UNITS:
            out.append(
                (
                    ("units", src_unit),
                    f"'{unit}' is not a canonical unit ({', '.join(CANONICAL_UNITS)})",
                )
            )
    return out


def _describe(loc: tuple[str | int, ...], data: Any) -> str:
    """'firms[2] (tintoria-secchia) → sources[0].format.decimal'."""
    parts: list[str] = []
    node = data
    for p in loc:
        if isinstance(p, int):
            label = f"[{p}]"
            if isinstance(node, list) and p < len(node) and isinstance(node[p], dict):
                ident = node[p].get("company_id") or node[p].get("name")
                if ident and parts and parts[-1] == "firms":
                    label += f" ({ident}) →"
            parts[-1:] = [parts[-1] + label] if parts else [label]
        else:
            parts.append(str(p))
        node = node[p] if isinstance(node, (dict, list)) and _has(node, p) else None
    return ".".join(parts).replace("→.", "→ ")


def _has(node: Any, p: str | int) -> bool:
    if isinstance(node, dict):
        return p in node
    return isinstance(p, int) and 0 <= p < len(node)


def load_district(path: str | Path | None = None) -> District:
    """Load and validate the district YAML (default: `$HUB_DISTRICT` or `district.yaml`)."""
    path = Path(path or os.environ.get("HUB_DISTRICT", "district.yaml"))
    data, where = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError([f"{path}:1: the file must be a mapping with district, firms"])
    try:
        district = District.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            [_located(path, where, data, tuple(e["loc"]), e["msg"]) for e in exc.errors()]
        ) from None
    problems = _semantic_problems(district)
    if problems:
        raise ConfigError([_located(path, where, data, loc, msg) for loc, msg in problems])
    return district.model_copy(update={"base_dir": path.resolve().parent})


def _located(path: Path, where: YamlLocator, data: Any, loc: tuple, msg: str) -> str:
    # pydantic adds the tag of unions/discriminators to loc: keep only real keys.
    clean = tuple(
        p
        for p in loc
        if isinstance(p, int) or not str(p).startswith(("EntityMapping", "str", "local"))
    )
    line = where.line(clean)
    return f"{path}:{line}: {_describe(clean, data)}: {msg.removeprefix('Value error, ')}"
