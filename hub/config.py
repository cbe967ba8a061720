"""The district configuration (`district.yaml`): firms, their sources and mapping profiles.

Validated on load with pydantic; an error names the file, the line, the firm and the field.
Secrets are never written here: only `${ENV_VAR}` references, resolved at run time.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from hub.canonical import CANONICAL_UNITS, ENTITIES, ROLES
from hub.notify_config import Notifications
from hub.yaml_lines import YamlLocator, parse_yaml, read_yaml_text

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
    fibres: dict[str, str] = Field(
        {}, description="fibre code or name as the source writes it → fibre (EU 1007/2011 "
        "Annex I, English), e.g. {EA: elastane, PL: polyester}: resolves ambiguous codes",
    )  # fmt: skip
    format: CsvFormat | None = Field(None, description="overrides the source's format")
    full_snapshot: bool = Field(
        False, description="each file holds the full list: a collapsing row count blocks the load"
    )
    min_row_ratio: float = Field(0.5, gt=0, le=1, description="rows vs last sync before blocking")


class LocalLocation(_Model):
    kind: Literal["local"] = "local"
    path: str = Field(..., description="folder with the firm's files (relative to district.yaml)")


class SftpCompletion(_Model):
    """When a file on the SFTP server is complete: the firm's ERP has finished writing it.

    Files ending in `.part` or `.tmp` are never picked, whatever the rule.
    """

    kind: Literal["marker", "rename", "stable"] = Field(
        "marker",
        description="marker: complete once '<name><marker_suffix>' exists beside it; rename: "
        "the ERP writes '<name>.part' or '<name>.tmp' and renames it when done; stable: size "
        "and modification time unchanged over `stable_seconds`",
    )
    marker_suffix: str = Field(
        ".ok", pattern=r"^\.[A-Za-z0-9_-]{1,16}$", description="suffix of marker files"
    )
    stable_seconds: float = Field(
        30.0, gt=0, le=600, description="seconds size and mtime must stay unchanged (stable)"
    )


class SftpLocation(_Model):
    """A folder on an SFTP server where the firm's ERP drops its nightly exports."""

    kind: Literal["sftp"] = Field(..., description="files on an SFTP server")
    host: str = Field(..., min_length=1, description="server name or address")
    port: int | str = Field(
        22, description="TCP port, or a ${ENV_VAR} reference such as ${HUB_SFTP_PORT:-2222}"
    )
    username: str = Field(..., min_length=1, description="account (or ${ENV_VAR} reference)")
    private_key_file: str | None = Field(
        None, description="the hub's private key for this server (recommended; path relative "
        "to district.yaml or ${ENV_VAR} reference)",
    )  # fmt: skip
    private_key_passphrase: str | None = Field(
        None, description="passphrase of the key: only a ${ENV_VAR} reference, never the value"
    )
    password: str | None = Field(
        None, description="password when no key can be used: only a ${ENV_VAR} reference"
    )
    known_hosts_file: str | None = Field(
        None, description="OpenSSH known_hosts file with the server's host key"
    )
    known_hosts: list[str] = Field(
        [], description="known_hosts lines of the server ('[host]:port ssh-ed25519 AAAA…')"
    )
    remote_dir: str = Field(
        ".", min_length=1, description="folder the firm drops files in (relative to the login "
        "folder, or absolute)",
    )  # fmt: skip
    archive_dir: str | None = Field(
        None, description="folder files are moved into once their rows are committed "
        "(relative to remote_dir, or absolute); none: files are left in place",
    )  # fmt: skip
    completion: SftpCompletion = Field(
        SftpCompletion(), description="when a file counts as completely written"
    )
    timeout_seconds: float = Field(
        20.0, gt=0, le=600, description="connect, banner, authentication and channel timeout"
    )
    keepalive_seconds: int = Field(15, ge=1, le=600, description="seconds between keepalives")
    attempts: int = Field(
        4, ge=1, le=10, description="tries of a dropped operation before the source fails"
    )
    backoff_seconds: float = Field(
        1.0, ge=0, le=60, description="base wait of the exponential backoff (with jitter)"
    )
    backoff_max_seconds: float = Field(30.0, ge=0, le=600, description="longest wait between tries")

    @field_validator("port")
    @classmethod
    def _port(cls, v: int | str) -> int | str:
        if isinstance(v, int) or (isinstance(v, str) and v.isdigit()):
            if not 1 <= int(v) <= 65535:
                raise ValueError(f"port {v} is not between 1 and 65535")
            return int(v)
        if not _ENV_REF.fullmatch(v.strip()):
            raise ValueError("port must be a number or a ${ENV_VAR} reference")
        return v

    @field_validator("password", "private_key_passphrase")
    @classmethod
    def _secret_is_reference(cls, v: str | None) -> str | None:
        if v is not None and not _ENV_REF.fullmatch(v.strip()):
            raise ValueError("write secrets as a ${ENV_VAR} reference, never the value")
        return v

    @model_validator(mode="after")
    def _auth_and_host_key(self) -> SftpLocation:
        if not self.private_key_file and not self.password:
            raise ValueError("give private_key_file (recommended) or password")
        if not self.known_hosts_file and not self.known_hosts:
            raise ValueError(
                "give known_hosts_file or known_hosts: the server's host key is always verified"
            )
        return self


Location = Annotated[LocalLocation | SftpLocation, Field(discriminator="kind")]


class Source(_Model):
    """One place a firm's data comes from."""

    name: str = Field(..., pattern=ID_PATTERN, description="source name, unique within the firm")
    kind: Literal["csv"] = Field("csv", description="connector kind")
    location: Location
    format: CsvFormat = CsvFormat()
    entities: dict[str, EntityMapping | str] = Field(
        ..., description="entity → mapping, or the name of a profile under `profiles:`"
    )


# How database and API connectors write typed values as text: ISO dates, '.' decimals.
TYPED_VALUES = CsvFormat(
    delimiter="\t",
    decimal=".",
    thousands="",
    encoding="utf-8",
    date_format="%Y-%m-%d",
    true_values=("true",),
    false_values=("false",),
)


class DatabaseEntity(EntityMapping):
    """How one entity is read from an ERP's database: a table (or a query) and its cursor.

    Identifiers (table, columns, cursor column) are checked against the database's reflected
    schema before anything is read; values are always bound as parameters.
    """

    files: str | None = Field(None, description="not used by database sources")
    table: str | None = Field(
        None, description="table or view holding the entity, optionally 'schema.table'"
    )
    query: str | None = Field(
        None,
        description="a SELECT instead of a table (read-only; its columns are the source "
        "headers); written by the IT manager, never built from user input",
    )
    cursor_column: str | None = Field(
        None,
        description="column that grows when a row changes (e.g. a write date): only rows "
        "with a greater value than the last committed sync are read",
    )

    @model_validator(mode="after")
    def _table_or_query(self) -> DatabaseEntity:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of 'table' or 'query'")
        return self


class SqlSource(_Model):
    """An ERP's database, read directly through SQLAlchemy in read-only transactions."""

    name: str = Field(..., pattern=ID_PATTERN, description="source name, unique within the firm")
    kind: Literal["sql"] = Field(..., description="connector kind: an ERP's database")
    url: str = Field(
        ...,
        description="SQLAlchemy URL with the password as a ${ENV_VAR} reference, e.g. "
        "'postgresql+psycopg://hub_reader:${ERP_DB_PASSWORD}@erp.local/erp'",
    )
    page_size: int = Field(10_000, gt=0, description="rows fetched from the database at once")
    entities: dict[str, DatabaseEntity] = Field(..., description="entity → table or query")

    @field_validator("url")
    @classmethod
    def _no_literal_password(cls, v: str) -> str:
        m = re.match(r"^[^:/]+://[^:@/]*:([^@]*)@", v)
        if m and not _ENV_REF.fullmatch(m.group(1)):
            raise ValueError("write the password as a ${ENV_VAR} reference, never the value")
        return v

    @property
    def format(self) -> CsvFormat:
        """Typed values arrive as unambiguous text (see `connectors.sql`)."""
        return TYPED_VALUES


class TrytonEntity(EntityMapping):
    """How one entity is mapped from the hub's Tryton reader (defaults: `hub.tryton_profile`)."""

    files: str | None = Field(None, description="not used by Tryton sources")


class TrytonSource(_Model):
    """A Tryton ERP, read through its JSON-RPC API (a user with read access only)."""

    name: str = Field(..., pattern=ID_PATTERN, description="source name, unique within the firm")
    kind: Literal["tryton"] = Field(..., description="connector kind: a Tryton ERP's API")
    url: str = Field(..., description="server URL, e.g. 'https://erp.example.it:8000'")
    database: str = Field(..., description="Tryton database name")
    user: str = Field(..., description="login of a Tryton user that can read the entities")
    password: str = Field(
        ..., description="the user's password: only a ${ENV_VAR} reference, never the value"
    )
    page_size: int = Field(500, gt=0, le=10_000, description="records per API call")
    timeout: float = Field(30.0, gt=0, description="seconds to wait for one API call")
    retries: int = Field(4, ge=0, le=10, description="retries of a transient error, backing off")
    entities: dict[str, TrytonEntity] = Field(
        None,  # type: ignore[assignment]
        description="entity → mapping; default: the built-in Tryton profile for all entities",
    )

    @property
    def format(self) -> CsvFormat:
        """Typed values arrive as unambiguous text (see `connectors.sql`)."""
        return TYPED_VALUES

    @field_validator("password")
    @classmethod
    def _password_is_reference(cls, v: str) -> str:
        if not _ENV_REF.fullmatch(v.strip()):
            raise ValueError("write the password as a ${ENV_VAR} reference, never the value")
        return v

    @model_validator(mode="before")
    @classmethod
    def _default_entities(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("entities") is None:
            from hub.tryton_profile import TRYTON_PROFILE

            data = {**data, "entities": {e: dict(m) for e, m in TRYTON_PROFILE.items()}}
        return data


def _source_kind(v: Any) -> str:
    return (v.get("kind") if isinstance(v, dict) else getattr(v, "kind", None)) or "csv"


AnySource = Annotated[
    Annotated[Source, Tag("csv")]
    | Annotated[SqlSource, Tag("sql")]
    | Annotated[TrytonSource, Tag("tryton")],
    Discriminator(_source_kind),
]
FILE_KINDS = ("csv",)


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
    sources: list[AnySource] = []
    enabled: bool | str = Field(
        True,
        description="false: the firm is validated but left out of syncs, checks and "
        "partitions; a ${ENV_VAR} reference is read when the district is loaded",
    )

    @field_validator("role")
    @classmethod
    def _role(cls, v: str) -> str:
        if v not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)} (got '{v}')")
        return v

    @field_validator("enabled")
    @classmethod
    def _enabled(cls, v: bool | str) -> bool | str:
        if isinstance(v, str) and not _ENV_REF.fullmatch(v.strip()):
            raise ValueError("enabled must be true, false or a ${ENV_VAR} reference")
        return v

    def is_enabled(self) -> bool:
        """`enabled`, its ${ENV_VAR} reference resolved now."""
        if isinstance(self.enabled, bool):
            return self.enabled
        value = expand_env(self.enabled).strip().lower()
        if value not in _BOOLEAN:
            raise ConfigError([f"enabled is '{value}' (from {self.enabled.strip()}): write "
                               "true or false"])  # fmt: skip
        return _BOOLEAN[value]


_BOOLEAN = {**dict.fromkeys(("true", "yes", "1"), True),
            **dict.fromkeys(("false", "no", "0", ""), False)}  # fmt: skip


class DistrictInfo(_Model):
    id: str = Field(..., pattern=ID_PATTERN)
    name: str
    domain: str = Field("id.district.example", description="domain for passport identifiers")


class District(_Model):
    district: DistrictInfo
    profiles: dict[str, EntityMapping] = {}
    firms: list[Firm]
    notifications: Notifications | None = Field(
        None, description="where failed runs and checks are sent (email, webhook); off if absent"
    )
    supplier_overrides: str | None = Field(
        None, description="YAML file of manual supplier merges/splits (relative to this file)"
    )

    # Set after loading: the folder relative paths are resolved against.
    base_dir: Path = Field(Path("."), exclude=True)
    # Set after loading: firms declared with `enabled` false, left out of `firms`.
    disabled_firms: list[str] = Field([], exclude=True)

    def firm(self, company_id: str) -> Firm:
        for f in self.firms:
            if f.company_id == company_id:
                return f
        if company_id in self.disabled_firms:
            raise KeyError(f"the firm '{company_id}' is disabled (its `enabled` is false)")
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
    from hub.harmonization.fibres import tables as fibre_tables

    for code, fibre in m.fibres.items():
        if fibre not in fibre_tables().fibres:
            out.append((("fibres", code), f"'{fibre}' is not a fibre of hub/harmonization/data/"
                        "fibres.csv (EU 1007/2011 Annex I names in English, e.g. elastane)"))
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
    """Load and validate the district YAML (default: `$HUB_DISTRICT` or `district.yaml`).

    The result is shared by every caller that loads the same text: read it, never change it
    (the models are frozen; their lists and dicts are not).
    """
    path = Path(path or os.environ.get("HUB_DISTRICT", "district.yaml"))
    text = read_yaml_text(path)
    # Every step of a run loads the district: parse and validate each version only once. The
    # key holds all that the result depends on (text, working folder, ${ENV} values).
    return _validated(path, text, os.getcwd(), tuple(sorted(os.environ.items())))


@functools.lru_cache(maxsize=8)
def _validated(path: Path, text: str, cwd: str, env: tuple) -> District:
    data, where = parse_yaml(path, text)
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
    # Disabled firms are validated above, then left out of everything that runs.
    on, problems = {}, []
    for i, f in enumerate(district.firms):
        try:
            on[f.company_id] = f.is_enabled()
        except ConfigError as exc:  # e.g. its ${ENV_VAR} is not set: name the firm and line
            problems += [_located(path, where, data, ("firms", i, "enabled"), p)
                         for p in exc.problems]  # fmt: skip
    if problems:
        raise ConfigError(problems)
    return district.model_copy(update={
        "base_dir": path.resolve().parent,
        "firms": [f for f in district.firms if on[f.company_id]],
        "disabled_firms": [c for c, enabled in on.items() if not enabled],
    })  # fmt: skip


def _located(path: Path, where: YamlLocator, data: Any, loc: tuple, msg: str) -> str:
    # pydantic adds the tag of unions/discriminators to loc: keep only real keys.
    clean = tuple(
        p
        for p in loc
        if isinstance(p, int)
        or not str(p).startswith(("EntityMapping", "str", "local", "sftp", "csv", "sql", "tryton"))
    )
    line = where.line(clean)
    return f"{path}:{line}: {_describe(clean, data)}: {msg.removeprefix('Value error, ')}"
