"""The rating methodology as data: methodology/ratings.yaml, loaded and checked.

The district changes criteria, indicators, weights, thresholds and grades in the YAML file,
without code. Everything is checked at load: a mistake (weights that do not sum to 1, an
indicator function that does not exist, thresholds out of order…) is reported with the file,
the line and the field, all problems at once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.canonical import ROLES
from hub.ratings.indicators import REGISTRY
from hub.yaml_lines import YamlLocator, load_yaml

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "methodology" / "ratings.yaml"
ENV_PATH = "HUB_RATINGS_METHODOLOGY"
WEIGHT_TOLERANCE = 1e-6
ID = re.compile(r"^[a-z][a-z0-9_]*$")
OVERALL = "overall"


class MethodologyError(ValueError):
    """A methodology file that cannot be used; `problems` are `file:line: field: message`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    function: str
    params: dict[str, Any]
    weight: float
    thresholds: tuple[float, ...]  # increasing; scores 0…100 evenly spaced over them
    better: str  # higher or lower
    roles: tuple[str, ...] | None  # None: every role
    unit: str
    advice: str  # what a firm can do to raise it

    def applies_to(self, role: str | None) -> bool:
        return self.roles is None or role in self.roles

    def score(self, value: float) -> float:
        """0–100: linear between thresholds, flat outside them."""
        t = self.thresholds
        steps = len(t) - 1
        if value <= t[0]:
            pos = 0.0
        elif value >= t[-1]:
            pos = float(steps)
        else:
            i = next(i for i in range(steps) if t[i] <= value <= t[i + 1])
            pos = i + (value - t[i]) / (t[i + 1] - t[i])
        s = 100 * pos / steps
        return round(100 - s if self.better == "lower" else s, 2)

    def next_target(self, value: float) -> float | None:
        """The next threshold that raises the score, or None at the best score."""
        ordered = self.thresholds if self.better == "higher" else self.thresholds[::-1]
        for t in ordered:
            if (self.better == "higher" and t > value) or (self.better == "lower" and t < value):
                return t
        return None


@dataclass(frozen=True)
class Criterion:
    id: str
    name: str
    description: str
    weight: float
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class Grade:
    grade: str
    min: float
    meaning: str


@dataclass(frozen=True)
class Methodology:
    path: Path
    version: str
    name: str
    grades: tuple[Grade, ...]  # best first, `min` decreasing to 0
    min_coverage: float  # a criterion with less data than this share of its weight: no score
    overall_min_coverage: float  # share of the criteria weight that must be scored
    min_peers: int  # benchmark groups smaller than this are not shown
    criteria: tuple[Criterion, ...]

    def grade(self, score: float) -> str:
        return next(g.grade for g in self.grades if score >= g.min)

    def criterion(self, cid: str) -> Criterion:
        return next(c for c in self.criteria if c.id == cid)


def methodology_path() -> Path:
    return Path(os.environ.get(ENV_PATH) or DEFAULT_PATH)


def load_methodology(path: str | Path | None = None) -> Methodology:
    """Read and check a methodology file (default: $HUB_RATINGS_METHODOLOGY or the repo's).

    Raises:
        MethodologyError: every problem, each as `file:line: field: message`.
    """
    path = Path(path) if path else methodology_path()
    try:
        data, where = load_yaml(path)
    except ValueError as exc:
        raise MethodologyError([str(exc)]) from None
    return _Checker(path, where).methodology(data)


class _Checker:
    def __init__(self, path: Path, where: YamlLocator) -> None:
        self.path, self.where, self.problems = path, where, []

    def fail(self, loc: tuple[str | int, ...], message: str) -> None:
        line = self.where.line(loc)
        field = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc)
        field = field.replace(".[", "[") or "(top)"
        self.problems.append(f"{self.path}:{line}: {field}: {message}")

    def number(self, node: dict, key: str, loc: tuple, lo: float, hi: float,
               default: float | None = None) -> float:  # fmt: skip
        v = node.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int | float):
            self.fail((*loc, key), f"must be a number between {lo} and {hi} (got {v!r})")
            return lo
        if not lo <= v <= hi:
            self.fail((*loc, key), f"must be between {lo} and {hi} (got {v})")
        return float(v)

    def text(self, node: dict, key: str, loc: tuple, default: str | None = None) -> str:
        v = node.get(key, default)
        if not isinstance(v, str) or not v.strip():
            self.fail((*loc, key), "must be a non-empty text")
            return ""
        return v

    def mapping(self, v: Any, loc: tuple) -> dict:
        if not isinstance(v, dict):
            self.fail(loc, f"must be a mapping of fields (got {type(v).__name__})")
            return {}
        return v

    def unknown(self, node: dict, known: set[str], loc: tuple) -> None:
        for k in node:
            if k not in known:
                self.fail((*loc, k), f"unknown field; known: {', '.join(sorted(known))}")

    def weights(self, items: list[tuple[float, str]], loc: tuple, what: str) -> None:
        total = sum(w for w, _ in items)
        if items and abs(total - 1) > WEIGHT_TOLERANCE:
            parts = " + ".join(f"{w:g} ({n})" for w, n in items)
            self.fail(loc, f"the weights of the {what} must sum to 1, they sum to {total:g}: "
                      f"{parts}")  # fmt: skip

    def methodology(self, data: Any) -> Methodology:
        top = self.mapping(data, ())
        self.unknown(top, {"version", "name", "description", "grades", "coverage",
                           "benchmark", "criteria"}, ())  # fmt: skip
        version = str(top.get("version") or "")
        if not version:
            self.fail(("version",), "is missing: name the version of the method, e.g. 2026.1")
        grades = self.grades(top.get("grades"))
        cov = self.mapping(top.get("coverage", {}), ("coverage",))
        self.unknown(cov, {"criterion", "overall"}, ("coverage",))
        min_cov = self.number(cov, "criterion", ("coverage",), 0, 1, 0.5)
        overall_cov = self.number(cov, "overall", ("coverage",), 0, 1, 0.6)
        bench = self.mapping(top.get("benchmark", {}), ("benchmark",))
        self.unknown(bench, {"min_peers"}, ("benchmark",))
        peers = bench.get("min_peers", 3)
        if not isinstance(peers, int) or isinstance(peers, bool) or peers < 1:
            self.fail(("benchmark", "min_peers"), f"must be a whole number ≥ 1 (got {peers!r})")
            peers = 3
        criteria = self.criteria(top.get("criteria"))
        if self.problems:
            raise MethodologyError(self.problems)
        return Methodology(self.path, version, str(top.get("name") or "rating"), grades,
                           min_cov, overall_cov, peers, criteria)  # fmt: skip

    def grades(self, v: Any) -> tuple[Grade, ...]:
        loc: tuple = ("grades",)
        if not isinstance(v, list) or not v:
            self.fail(loc, "must list the grades, best first: - {grade: A, min: 80} …")
            return (Grade("E", 0, ""),)
        out = []
        for i, g in enumerate(v):
            g = self.mapping(g, (*loc, i))
            self.unknown(g, {"grade", "min", "meaning"}, (*loc, i))
            out.append(Grade(self.text(g, "grade", (*loc, i)),
                             self.number(g, "min", (*loc, i), 0, 100),
                             str(g.get("meaning") or "")))  # fmt: skip
        for i in range(1, len(out)):
            if out[i].min >= out[i - 1].min:
                self.fail((*loc, i, "min"), f"grades go from best to worst: min {out[i].min:g} "
                          f"of {out[i].grade} must be below {out[i - 1].min:g} of "
                          f"{out[i - 1].grade}")  # fmt: skip
        if out[-1].min != 0:
            self.fail((*loc, len(out) - 1, "min"), "the last grade must start at 0")
        if len({g.grade for g in out}) != len(out):
            self.fail(loc, "a grade is listed twice")
        return tuple(out)

    def criteria(self, v: Any) -> tuple[Criterion, ...]:
        loc: tuple = ("criteria",)
        if not isinstance(v, list) or not v:
            self.fail(loc, "must list at least one criterion")
            return ()
        out, seen = [], set()
        for i, c in enumerate(v):
            c = self.mapping(c, (*loc, i))
            self.unknown(c, {"id", "name", "description", "weight", "indicators"}, (*loc, i))
            cid = self.text(c, "id", (*loc, i))
            if cid and (not ID.match(cid) or cid == OVERALL):
                self.fail((*loc, i, "id"), f"{cid!r}: lower case letters, digits and _; "
                          f"not '{OVERALL}'")  # fmt: skip
            if cid in seen:
                self.fail((*loc, i, "id"), f"criterion {cid!r} is listed twice")
            seen.add(cid)
            weight = self.number(c, "weight", (*loc, i), 0, 1)
            inds = self.indicators(c.get("indicators"), (*loc, i, "indicators"))
            out.append(Criterion(cid, str(c.get("name") or cid), str(c.get("description") or ""),
                                 weight, inds))  # fmt: skip
        self.weights([(c.weight, c.id) for c in out], loc, "criteria")
        return tuple(out)

    def indicators(self, v: Any, loc: tuple) -> tuple[Indicator, ...]:
        if not isinstance(v, list) or not v:
            self.fail(loc, "must list at least one indicator")
            return ()
        out, seen = [], set()
        known = {"id", "name", "function", "params", "weight", "thresholds", "better", "roles",
                 "advice"}  # fmt: skip
        for i, d in enumerate(v):
            here = (*loc, i)
            d = self.mapping(d, here)
            self.unknown(d, known, here)
            iid = self.text(d, "id", here)
            if iid in seen:
                self.fail((*here, "id"), f"indicator {iid!r} is listed twice in the criterion")
            seen.add(iid)
            fn_name = self.text(d, "function", here)
            fn = REGISTRY.get(fn_name)
            if fn_name and fn is None:
                self.fail((*here, "function"), f"unknown indicator function {fn_name!r}; known: "
                          f"{', '.join(sorted(REGISTRY))}")  # fmt: skip
            params = self.mapping(d.get("params", {}), (*here, "params"))
            if fn is not None:
                self.params(fn, params, (*here, "params"))
            better = d.get("better", "higher")
            if better not in ("higher", "lower"):
                self.fail((*here, "better"), f"must be higher or lower (got {better!r})")
            roles = d.get("roles")
            if roles is not None and (not isinstance(roles, list) or set(roles) - set(ROLES)):
                self.fail((*here, "roles"), f"must be a list of roles among {', '.join(ROLES)}")
                roles = None
            out.append(Indicator(
                iid, str(d.get("name") or iid), fn_name, dict(params),
                self.number(d, "weight", here, 0, 1), self.thresholds(d.get("thresholds"),
                                                                       (*here, "thresholds")),
                better, tuple(roles) if roles is not None else None,
                fn.unit if fn else "", str(d.get("advice") or ""),
            ))  # fmt: skip
        self.weights([(x.weight, x.id) for x in out], loc, "indicators")
        return tuple(out)

    def params(self, fn: Any, params: dict, loc: tuple) -> None:
        for k, v in params.items():
            spec = fn.params.get(k)
            if spec is None:
                known = ", ".join(fn.params) or "none"
                self.fail((*loc, k), f"{fn.name} takes no parameter {k!r}; parameters: {known}")
            elif not isinstance(v, spec.type) or isinstance(v, bool) and spec.type is int:
                self.fail((*loc, k), f"{fn.name}: {k} must be {_type_name(spec.type)} "
                          f"({spec.doc}); got {v!r}")  # fmt: skip
        for k, spec in fn.params.items():
            if spec.required and k not in params:
                self.fail(loc, f"{fn.name} needs parameter {k!r}: {spec.doc}")

    def thresholds(self, v: Any, loc: tuple) -> tuple[float, ...]:
        if (
            not isinstance(v, list)
            or len(v) < 2
            or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)
        ):
            self.fail(loc, "must list at least two numbers, increasing: the values that score "
                      "0 … 100 (evenly spaced; reversed by better: lower)")  # fmt: skip
            return (0.0, 1.0)
        for i in range(1, len(v)):
            if v[i] <= v[i - 1]:
                self.fail(
                    (*loc, i),
                    f"thresholds must increase: {v[i]:g} after {v[i - 1]:g} "
                    f"(write them from low to high; better: lower reverses the scores)",
                )
        return tuple(float(x) for x in v)


def _type_name(t: type | tuple[type, ...]) -> str:
    names = {int: "a whole number", str: "a text", list: "a list", dict: "a mapping",
             float: "a number"}  # fmt: skip
    return names.get(t, str(t)) if isinstance(t, type) else " or ".join(map(_type_name, t))
