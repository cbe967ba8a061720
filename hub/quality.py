"""Quality layer: Great Expectations suites run on staged batches, turned into decisions.

Each staged entity has one GX 1.x suite under `expectations/<entity>.json`, which a data steward
can read and edit. Every expectation carries `meta.rule` (stable id), `meta.reason` (a template
for the firm: `{column}`, `{value}` and `{<other column>}` are filled from the failing row),
optionally `meta.reason_it`, and `meta.blocking`. `validate` runs a suite on one batch and
returns row-level issues (rows to quarantine) and per-rule results (blocking rules stop the load).

`dagster-ge` only supports GX < 1.0, so GX is driven directly: one ephemeral context, one pandas
data source, a dataframe asset and a whole-dataframe batch definition per entity, all built on
first use (importing GX takes seconds; importing this module does not).

VAT numbers and GTINs are checked by two custom GX expectations registered here,
`expect_column_values_to_be_valid_vat_number` (python-stdnum, per distinct value) and
`expect_column_values_to_be_valid_gtin` (the GS1 check digit of `stdnum.ean`, vectorized), so
that suites stay self-describing and failures carry the offending value itself rather than a
helper flag. Anything else that loads these suites with GX must import this module first.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import math
import os
import re
import string
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hub.canonical import ENTITIES

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.core.batch_definition import BatchDefinition

ENV_EXPECTATIONS_DIR = "HUB_EXPECTATIONS_DIR"
HIDDEN = "(value hidden)"
EMPTY = "(empty)"
MAX_VALUE_CHARS = 40

# `unexpected_index_list` gives index labels; batches are validated on a RangeIndex so that
# labels are positions. No partial lists, no unexpected rows: only what decisions need.
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "partial_unexpected_count": 0,
    "include_unexpected_rows": False,
    "return_unexpected_index_query": False,
}
DEFAULT_PARAMETERS: dict[str, object] = {"min_row_count": 0}
_TABLE_TYPES = {
    "expect_table_row_count_to_be_between",
    "expect_table_row_count_to_equal",
    "expect_table_column_count_to_be_between",
    "expect_table_column_count_to_equal",
}


@dataclass(frozen=True)
class RowIssue:
    """A row that failed a rule; one row failing several rules yields several issues."""

    row: int  # positional index in the validated DataFrame
    rule: str
    reason: str
    column: str | None
    reason_it: str | None = None


@dataclass(frozen=True)
class RuleResult:
    """Outcome of one rule on a batch.

    `checked` counts the rows the rule looked at (empty optional values are not checked; a
    batch-level rule counts the batch as one check). `failed` counts the failing rows (1 for a
    failed batch rule). `reason` is only set for a failed batch-level rule. `note` says why
    (part of) the rule was skipped: a column absent from the batch or a parameter not given.
    """

    rule: str
    description: str
    blocking: bool
    checked: int
    failed: int
    reason: str | None
    reason_it: str | None = None
    note: str | None = None


@dataclass
class ValidationReport:
    """Result of validating one staged batch of one entity."""

    entity: str
    rows: int
    row_issues: list[RowIssue]
    rules: list[RuleResult]

    @property
    def failed_rows(self) -> set[int]:
        """Positions of the rows to quarantine."""
        return {i.row for i in self.row_issues}

    @property
    def blocking_failures(self) -> list[RuleResult]:
        """Failed rules that must stop the firm's load of this batch."""
        return [r for r in self.rules if r.blocking and r.failed]

    @property
    def ok(self) -> bool:
        return not self.row_issues and not self.blocking_failures

    def issues_by_row(self) -> dict[int, list[RowIssue]]:
        """Issues grouped by row position (a quarantine row may carry several)."""
        out: dict[int, list[RowIssue]] = {}
        for issue in self.row_issues:
            out.setdefault(issue.row, []).append(issue)
        return out


# --- suites -----------------------------------------------------------------------------------


def expectations_dir() -> Path:
    """The folder of the suites: `$HUB_EXPECTATIONS_DIR`, else the repository's `expectations/`."""
    env = os.environ.get(ENV_EXPECTATIONS_DIR)
    return Path(env) if env else Path(__file__).resolve().parent.parent / "expectations"


@dataclass(frozen=True)
class _Spec:
    """One expectation of a suite, as written in its JSON file."""

    index: int
    type: str
    kwargs: dict[str, Any]
    rule: str
    reason: str
    reason_it: str | None
    blocking: bool

    @property
    def columns(self) -> list[str]:
        k = self.kwargs
        cols = [k[n] for n in ("column", "column_A", "column_B") if isinstance(k.get(n), str)]
        return cols + list(k.get("column_list") or [])

    @property
    def column(self) -> str | None:
        """The column a row issue is reported on (None for multi-column and table rules)."""
        return self.kwargs.get("column") or self.kwargs.get("column_A")

    @property
    def batch_level(self) -> bool:
        return self.type in _TABLE_TYPES

    @property
    def parameters(self) -> list[str]:
        return [v["$PARAMETER"] for v in self.kwargs.values() if _is_parameter(v)]


@dataclass(frozen=True)
class _Suite:
    entity: str
    path: Path
    raw: dict[str, Any]
    specs: tuple[_Spec, ...]
    descriptions: dict[str, str]


def _is_parameter(v: object) -> bool:
    return isinstance(v, dict) and isinstance(v.get("$PARAMETER"), str)


def _read_suite(path: Path, entity: str) -> _Suite:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no expectation suite for {entity!r}: {path} is missing") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: line {e.lineno}: not valid JSON: {e.msg}") from None
    specs = []
    for i, exp in enumerate(raw.get("expectations") or []):
        meta = exp.get("meta") or {}
        where = f"{path}: expectation {i} ({exp.get('type')})"
        if not isinstance(exp.get("type"), str):
            raise ValueError(f"{where}: type is missing")
        for key in ("rule", "reason"):
            if not isinstance(meta.get(key), str) or not meta[key]:
                raise ValueError(f"{where}: meta.{key} is missing")
        if not meta["rule"].startswith(f"{entity}."):
            raise ValueError(f"{where}: meta.rule {meta['rule']!r} must start with '{entity}.'")
        if not isinstance(meta.get("blocking", False), bool):
            raise ValueError(f"{where}: meta.blocking must be true or false")
        specs.append(
            _Spec(
                index=i,
                type=exp["type"],
                kwargs=dict(exp.get("kwargs") or {}),
                rule=meta["rule"],
                reason=meta["reason"],
                reason_it=meta.get("reason_it"),
                blocking=meta.get("blocking", False),
            )
        )
    rules_meta = (raw.get("meta") or {}).get("rules") or {}
    descriptions: dict[str, str] = {}
    for s in specs:
        descriptions.setdefault(s.rule, rules_meta.get(s.rule) or s.reason)
    return _Suite(entity, path, raw, tuple(specs), descriptions)


_suite_cache: dict[Path, tuple[int, _Suite]] = {}
_suite_lock = threading.Lock()


def _suite(entity: str, folder: Path | None = None) -> _Suite:
    """The parsed suite, cached and re-read when the file changes (a steward may edit it)."""
    if entity not in ENTITIES:
        raise KeyError(f"unknown entity {entity!r}; known: {', '.join(ENTITIES)}")
    path = (folder or expectations_dir()) / f"{entity}.json"
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise FileNotFoundError(f"no expectation suite for {entity!r}: {path} is missing") from None
    with _suite_lock:
        hit = _suite_cache.get(path)
        if hit is None or hit[0] != mtime:
            hit = (mtime, _read_suite(path, entity))
            _suite_cache[path] = hit
        return hit[1]


def load_suite(entity: str, folder: Path | None = None) -> gx.ExpectationSuite:
    """The entity's suite as a GX ExpectationSuite (custom expectations registered).

    Args:
        entity: a staged entity of `hub.canonical.ENTITIES`.
        folder: where the suites are; default `expectations_dir()`.

    Returns:
        A new ExpectationSuite built from the JSON file.
    """
    suite = _suite(entity, folder)
    return _build_gx_suite(_gx().gx, suite, tuple(s.index for s in suite.specs))


def rule_descriptions(entity: str) -> dict[str, str]:
    """Rule id → one line a person understands, in suite order (for docs and the UI)."""
    return dict(_suite(entity).descriptions)


# --- GX machinery, built on first use -----------------------------------------------------------


class _Gx:
    """The ephemeral GX context and what is derived from it, shared by all validations."""

    def __init__(self) -> None:
        # GX logs registrations, temporary folders and the like at DEBUG/INFO from import on;
        # none of it is news to an operator. Its warnings still pass.
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        with warnings.catch_warnings():  # GX imports the deprecated sre_constants/sre_parse
            warnings.simplefilter("ignore", DeprecationWarning)
            import great_expectations as gx
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

        _register_custom_expectations()
        self.gx = gx
        config = DataContextConfig(
            # no Data Docs site (the default ephemeral context sets up a temporary one)
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            # GX draws a tqdm bar per validation unless told not to; this is the
            # `progress_bars: {globally: false}` key of a file context's great_expectations.yml
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            analytics_enabled=False,
        )
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        self.source = self.context.data_sources.add_pandas("hub")
        self._batch_definitions: dict[str, BatchDefinition] = {}
        self._suites: dict[tuple[Path, tuple[int, ...]], tuple[_Suite, gx.ExpectationSuite]] = {}
        self.lock = threading.RLock()

    def batch_definition(self, entity: str) -> BatchDefinition:
        bd = self._batch_definitions.get(entity)
        if bd is None:
            asset = self.source.add_dataframe_asset(entity)
            bd = asset.add_batch_definition_whole_dataframe(f"{entity}_batch")
            self._batch_definitions[entity] = bd
        return bd

    def suite(self, suite: _Suite, indices: tuple[int, ...]) -> gx.ExpectationSuite:
        """The GX suite of the expectations of `suite` at `indices`, ids set to their index.

        Cached: building a suite costs more than validating a small batch.
        """
        key = (suite.path, indices)
        with self.lock:
            hit = self._suites.get(key)
            if hit is None or hit[0] is not suite:  # re-read after an edit
                hit = (suite, _build_gx_suite(self.gx, suite, indices, ids=True))
                self._suites[key] = hit
            return hit[1]


def _build_gx_suite(
    gx_module: Any, suite: _Suite, indices: tuple[int, ...], ids: bool = False
) -> gx.ExpectationSuite:
    expectations = []
    for i in indices:
        exp = copy.deepcopy(suite.raw["expectations"][i])
        if ids:
            exp["id"] = str(i)
        expectations.append(exp)
    fields = {k: v for k, v in suite.raw.items() if k not in ("expectations", "id")}
    try:
        return gx_module.ExpectationSuite(**copy.deepcopy(fields), expectations=expectations)
    except Exception as e:
        raise ValueError(f"{suite.path}: not a valid Great Expectations suite: {e}") from e


_gx_state: _Gx | None = None
_gx_lock = threading.Lock()


def _gx() -> _Gx:
    global _gx_state
    with _gx_lock:
        if _gx_state is None:
            _gx_state = _Gx()
        return _gx_state


# --- identifier checks (custom expectations) ----------------------------------------------------

_GTIN = re.compile(r"[0-9]{8}|[0-9]{12,14}")
_CC = re.compile(r"[A-Za-z]{2}")


@lru_cache(maxsize=65536)
def is_valid_gtin(value: str) -> bool:
    """GTIN-8/12/13/14 written as digits only, with a correct check digit."""
    from stdnum import ean

    return bool(_GTIN.fullmatch(value)) and ean.is_valid(value)


@lru_cache(maxsize=65536)
def is_valid_vat_number(value: str) -> bool:
    """An EU VAT number with its country prefix, or an Italian partita IVA without prefix.

    Separators (spaces, dots, dashes) are tolerated, as python-stdnum does. A number with a
    non-EU prefix is accepted when python-stdnum knows that country's VAT number and it is
    valid (e.g. GB, CH, NO), so that foreign suppliers are not quarantined for their VAT.
    """
    from stdnum.eu import vat as eu_vat
    from stdnum.it import iva

    v = value.strip()
    if eu_vat.is_valid(v) or iva.is_valid(v):
        return True
    module = _foreign_vat_module(v[:2].lower()) if _CC.fullmatch(v[:2]) else None
    return module is not None and bool(module.is_valid(v))


@cache
def _foreign_vat_module(cc: str) -> Any:
    from stdnum.util import get_cc_module

    try:  # cc is two ASCII letters, so only `stdnum.<cc>.vat` can be imported
        return get_cc_module(cc, "vat")
    except Exception:  # noqa: BLE001 - an unknown country is simply not a VAT prefix
        return None


# GS1 mod-10 weights of the 13 payload digits of a GTIN left-padded to 14 digits.
_GS1_WEIGHTS = np.array([3, 1] * 6 + [3], dtype=np.int64)


def gtin_valid_mask(values: pd.Series) -> pd.Series:
    """`is_valid_gtin` for a whole column of non-null values, vectorized.

    The same GS1 check digit as `stdnum.ean` (a test holds the two to agree), without
    python-stdnum's per-value cost (tens of µs), which dominates on a 200k-article catalogue.
    """
    text = values.astype(object).map(str) if values.dtype != "str" else values
    shaped = text.str.fullmatch(_GTIN.pattern).fillna(False).astype(bool)
    out = pd.Series(False, index=values.index)
    if shaped.any():
        padded = text[shaped].str.zfill(14)
        digits = np.frombuffer("".join(padded).encode("ascii"), dtype=np.uint8)
        digits = digits.reshape(-1, 14).astype(np.int64) - ord("0")
        check = (10 - (digits[:, :13] @ _GS1_WEIGHTS) % 10) % 10
        out[shaped] = check == digits[:, 13]
    return out


def _map_distinct(column: pd.Series, check: Callable[[str], bool]) -> pd.Series:
    """`check` on each distinct value only (codes repeat a lot), mapped back onto the column."""
    values = column.astype(object).map(str)
    verdicts = {v: check(v) for v in pd.unique(values)}
    return values.map(verdicts).astype(bool)


_registered = False


def _register_custom_expectations() -> None:
    """Define (and so register with GX) the custom metrics and expectations, once."""
    global _registered
    if _registered:
        return
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics.map_metric_provider import (
        ColumnMapMetricProvider,
        column_condition_partial,
    )

    class ColumnValuesValidVatNumber(ColumnMapMetricProvider):
        condition_metric_name = "column_values.valid_vat_number"

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, **kwargs: object) -> pd.Series:
            return _map_distinct(column, is_valid_vat_number)

    class ColumnValuesValidGtin(ColumnMapMetricProvider):
        condition_metric_name = "column_values.valid_gtin"

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, **kwargs: object) -> pd.Series:
            return gtin_valid_mask(column)

    class ExpectColumnValuesToBeValidVatNumber(ColumnMapExpectation):
        """Expect values to be VAT numbers: EU with prefix, or Italian partita IVA without."""

        map_metric = "column_values.valid_vat_number"
        success_keys = ("mostly",)
        args_keys = ("column",)
        library_metadata = {"maturity": "experimental", "requirements": ["python-stdnum"]}

    class ExpectColumnValuesToBeValidGtin(ColumnMapExpectation):
        """Expect values to be GTIN-8/12/13/14 digit strings with a correct check digit."""

        map_metric = "column_values.valid_gtin"
        success_keys = ("mostly",)
        args_keys = ("column",)
        library_metadata = {"maturity": "experimental", "requirements": ["python-stdnum"]}

    _registered = True


# --- validation -------------------------------------------------------------------------------


def columns_read(entity: str) -> set[str]:
    """The columns a validation of `entity` reads: checked, required or named in a reason.

    A caller may drop the others before converting a batch to pandas (memory and time).
    """
    suite = _suite(entity)
    cols = set(ENTITIES[entity].required)
    for spec in suite.specs:
        cols.update(spec.columns)
        for template in (spec.reason, spec.reason_it or ""):
            cols.update(_ReasonFormatter._fields(template))
    return cols - {"value", "column"}


def validate(
    entity: str, df: pd.DataFrame, parameters: Mapping[str, object] | None = None
) -> ValidationReport:
    """Run the entity's suite on one staged batch.

    Args:
        entity: a staged entity of `hub.canonical.ENTITIES`.
        df: the batch, e.g. `table.to_pandas()` of a staged Arrow table; rows are reported by
            position. Optional columns may be absent: their expectations are skipped.
        parameters: values of the suite's `$PARAMETER`s, e.g. `min_row_count` (default 0) and
            `known_supplier_codes` (bom_lines; without it only presence is checked).

    Returns:
        Row issues (rows to quarantine) and one result per rule.
    """
    suite = _suite(entity)
    canonical = ENTITIES[entity]
    params: dict[str, object] = {**DEFAULT_PARAMETERS, **(parameters or {})}
    for k, v in params.items():
        if isinstance(v, set | frozenset | tuple | pd.Index | np.ndarray | pd.Series):
            params[k] = list(v)

    data = _prepare(df, canonical.required)
    run: list[_Spec] = []
    notes: dict[str, list[str]] = {}
    for spec in suite.specs:
        absent = [c for c in spec.columns if c not in data.columns]
        unset = [p for p in spec.parameters if params.get(p) is None]
        if absent:
            notes.setdefault(spec.rule, []).append(f"column {', '.join(absent)} not in the batch")
        elif unset:
            notes.setdefault(spec.rule, []).append(f"parameter {', '.join(unset)} not given")
        else:
            run.append(spec)

    results = _run(entity, suite, run, data, params)

    confidential = {c.name for c in canonical.columns if c.confidential}
    formatter = _ReasonFormatter(data, confidential)
    issues: list[RowIssue] = []
    # For one row, rule and column only the first failing expectation (suite order) is
    # reported: the suite lists the most specific explanation first.
    seen: dict[tuple[str, str | None], set[int]] = {}
    per_rule: dict[str, dict[str, Any]] = {
        s.rule: {"checked": 0, "rows": set(), "blocking": False, "reason": None, "reason_it": None}
        for s in suite.specs
    }
    for spec in suite.specs:
        per_rule[spec.rule]["blocking"] |= spec.blocking

    for spec in run:
        res = results[spec.index]
        acc = per_rule[spec.rule]
        if spec.batch_level:
            acc["checked"] = max(acc["checked"], 1)
            if not res.success:
                acc["rows"].add(-1)
                values = {"value": res.result.get("observed_value"), **_kwargs(res)}
                acc["reason"] = formatter.batch(spec.reason, values)
                if spec.reason_it:
                    acc["reason_it"] = formatter.batch(spec.reason_it, values)
            continue
        r = res.result
        checked = int(r.get("element_count") or 0) - int(r.get("missing_count") or 0)
        acc["checked"] = max(acc["checked"], checked)
        if res.success and not r.get("unexpected_count"):
            continue
        rows = [int(i) for i in r.get("unexpected_index_list") or []]
        rule, column = spec.rule, spec.column
        earlier = seen.setdefault((rule, column), set())
        if earlier:
            rows = [i for i in rows if i not in earlier]
        if not rows:
            continue
        earlier.update(rows)
        acc["rows"].update(rows)
        reasons = formatter.rows(spec.reason, column, rows)
        reasons_it = formatter.rows(spec.reason_it, column, rows) if spec.reason_it else None
        if reasons_it is None:
            issues += [RowIssue(i, rule, m, column) for i, m in zip(rows, reasons, strict=True)]
        else:
            issues += [
                RowIssue(i, rule, m, column, m_it)
                for i, m, m_it in zip(rows, reasons, reasons_it, strict=True)
            ]

    issues.sort(key=lambda x: x.row)  # stable: suite order within a row
    rules = [
        RuleResult(
            rule=rule,
            description=suite.descriptions[rule],
            blocking=acc["blocking"],
            checked=acc["checked"],
            failed=len(acc["rows"]),
            reason=acc["reason"],
            reason_it=acc["reason_it"],
            note="; ".join(f"skipped: {n}" for n in notes[rule]) if rule in notes else None,
        )
        for rule, acc in per_rule.items()
    ]
    return ValidationReport(entity=entity, rows=len(data), row_issues=issues, rules=rules)


def _prepare(df: pd.DataFrame, required: list[str]) -> pd.DataFrame:
    """The frame GX sees: positional index; absent required columns present and empty."""
    index = df.index
    positional = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    data = df if positional else df.reset_index(drop=True)
    absent = [c for c in required if c not in data.columns]
    if absent:
        # A required column that is not there at all is empty in every row: each row fails
        # `<entity>.required`, instead of the check being skipped.
        data = data.assign(**{c: pd.Series([None] * len(data), dtype=object) for c in absent})
    return data


def _run(
    entity: str,
    suite: _Suite,
    specs: list[_Spec],
    data: pd.DataFrame,
    params: dict[str, object],
) -> dict[int, Any]:
    """Validate `data` with the expectations `specs`; results by expectation index."""
    if not specs:
        return {}
    # GX copies and fingerprints the whole frame it is given (null filtering takes all columns):
    # give it only the columns the expectations read.
    used = list(dict.fromkeys(c for s in specs for c in s.columns))
    frame = data[used] if used else pd.DataFrame(index=data.index)
    g = _gx()
    with g.lock:
        gx_suite = g.suite(suite, tuple(s.index for s in specs))
        batch = g.batch_definition(entity).get_batch(batch_parameters={"dataframe": frame})
        outcome = batch.validate(
            gx_suite, result_format=dict(RESULT_FORMAT), expectation_parameters=params
        )
    by_index: dict[int, Any] = {}
    for res in outcome.results:
        index = int(res.expectation_config.id)
        if res.exception_info and res.exception_info.get("raised_exception"):
            spec = suite.specs[index]
            msg = res.exception_info.get("exception_message") or "unknown error"
            raise RuntimeError(f"{entity}: check {spec.rule} ({spec.type}) could not run: {msg}")
        by_index[index] = res
    return by_index


def _kwargs(res: Any) -> dict[str, object]:
    """The kwargs an expectation ran with, parameters substituted (e.g. min_value)."""
    return {k: v for k, v in res.expectation_config.kwargs.items() if k != "batch_id"}


# --- reasons ----------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def show_value(v: object) -> str:
    """A value as a person reads it in a reason: quoted text, plain numbers, ISO dates."""
    if v is None or v is pd.NA or v is pd.NaT:
        return EMPTY
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating):
        return EMPTY if math.isnan(v) else format(float(v), ".15g")
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(v)
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    s = str(v)
    if len(s) > MAX_VALUE_CHARS:
        s = s[: MAX_VALUE_CHARS - 1] + "…"
    s = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)
    return f"'{s}'"


class _ReasonFormatter:
    """Fills reason templates from the failing rows, never showing confidential values."""

    def __init__(self, data: pd.DataFrame, confidential: set[str]) -> None:
        self.data = data
        self.confidential = confidential

    @staticmethod
    def _fields(template: str) -> Iterator[str]:
        for _, name, _, _ in string.Formatter().parse(template):
            if name is not None:
                yield name

    def rows(self, template: str, column: str | None, rows: list[int]) -> list[str]:
        """The template filled for each of `rows` (positions); repeated values cost once."""
        fixed: dict[str, str] = {}
        per_row: dict[str, list[str]] = {}
        for name in set(self._fields(template)):
            col = column if name == "value" else name
            if name == "column":
                fixed[name] = column or ""
            elif col is None or col not in self.data.columns:
                fixed[name] = "{" + name + "}"  # a template typo stays visible
            elif col in self.confidential:
                fixed[name] = HIDDEN
            else:
                picked = self.data[col].take(rows).to_numpy(dtype=object)
                codes, uniques = pd.factorize(picked, use_na_sentinel=False)
                shown = [show_value(v) for v in uniques]
                per_row[name] = [shown[c] for c in codes]
        if not per_row:
            return [template.format_map(fixed)] * len(rows)
        names = list(per_row)
        memo: dict[tuple[str, ...], str] = {}
        out = []
        for key in zip(*per_row.values(), strict=True):
            text = memo.get(key)
            if text is None:
                filled = {**fixed, **dict(zip(names, key, strict=True))}
                text = memo[key] = template.format_map(filled)
            out.append(text)
        return out

    def batch(self, template: str, values: Mapping[str, object]) -> str:
        filled = {
            name: show_value(values[name]) if name in values else "{" + name + "}"
            for name in self._fields(template)
        }
        return template.format_map(filled)


__all__ = [
    "RowIssue",
    "RuleResult",
    "ValidationReport",
    "expectations_dir",
    "is_valid_gtin",
    "is_valid_vat_number",
    "load_suite",
    "rule_descriptions",
    "show_value",
    "validate",
]
