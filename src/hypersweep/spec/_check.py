"""Collecting violations with their location, and the small type checks every grammar shares."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from hypersweep.errors import SpecViolation
from hypersweep.spec._yaml import Loc, Path, YamlDoc, path_str

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "MAX_DURATION_S",
    "MAX_SEED",
    "MAX_TRIALS",
    "Report",
    "did_you_mean",
    "is_int",
    "is_number",
    "parse_duration",
    "param_value_problem",
]

# Every integer in a sweep file fits a signed 64-bit integer (what the stores and Optuna hold); trial counts fit
# the store's 32-bit column; seeds are 0 <= seed < 2**63 (see docs/sweep-file.md, "Limits")
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
MAX_TRIALS = 2**31 - 1
MAX_SEED = INT_MAX
MAX_DURATION_S = 10 * 365 * 86400.0  # timers past ~292 years overflow the platform's clock arithmetic


def is_number(v: Any) -> bool:
    return (
        isinstance(v, int | float)
        and not isinstance(v, bool)
        and not (isinstance(v, float) and math.isnan(v))
    )


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def param_value_problem(value: Any) -> str | None:
    """Why a categorical or constant value cannot be a parameter's value, or None.

    A mapping would be read back as nested parameters (``opt: {a: 1}`` becomes ``opt.a``), and NaN or
    infinity is not JSON (PostgreSQL refuses it), so both are refused; lists, and mappings inside lists, are
    kept as one value.
    """
    if isinstance(value, dict):
        return (
            "a mapping cannot be a parameter value (it would be read back as nested parameters): "
            "write it as a list, or name the choices with strings and map them in the trial"
        )
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            return (
                f"{v!r} is not a value a store can hold (JSON has no NaN or infinity): write a finite number"
            )
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
    return None


def did_you_mean(word: Any, choices: Iterable[str], hints: Mapping[str, str] | None = None) -> str:
    """`` (did you mean 'xyz'?)`` or ``""``."""
    if not isinstance(word, str):
        return ""
    if hints and word in hints:
        return f" (did you mean {hints[word]!r}?)"
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


_DURATION_RE = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)\s*d)?\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*m)?\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*$"
)


def parse_duration(value: Any) -> float | None:
    """``30m``, ``1h30m``, ``10s``, ``2h``, ``1d``, or a plain number of seconds -> seconds (None if invalid)."""
    if is_number(value):
        return float(value) if value > 0 and math.isfinite(value) else None
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        m = _DURATION_RE.match(value)
        if not m or not any(m.groups()):
            return None
        d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        seconds = d * 86400 + h * 3600 + mi * 60 + s
    return seconds if seconds > 0 and math.isfinite(seconds) else None


class Report:
    """Violations and warnings of one file, located through the YAML document's positions."""

    def __init__(self, doc: YamlDoc, file: str | None, overridden: Mapping[Path, str] | None = None) -> None:
        self.doc = doc
        self.file = file
        self.overridden = dict(overridden or {})
        self.errors: list[SpecViolation] = []
        self.warnings: list[SpecViolation] = []
        # the document's paths may differ from the grammar's (a W&B `hypersweep:` block): prefix -> real prefix
        self.prefix: Path = ()

    def _violation(self, path: Path, message: str, at_key: bool) -> SpecViolation:
        real = (*self.prefix, *path)
        for opath, origin in self.overridden.items():
            if real[: len(opath)] == opath:
                return SpecViolation(
                    path_str(real), f"{message} (set by --set {origin})", None, None, self.file
                )
        loc = self.loc(real, at_key)
        return SpecViolation(
            path_str(real), message, loc[0] if loc else None, loc[1] if loc else None, self.file
        )

    def loc(self, path: Path, at_key: bool = False) -> Loc | None:
        p = tuple(path)
        first = True
        while True:
            locs = self.doc.key_locs if (at_key and first) else self.doc.value_locs
            if p in locs:
                return locs[p]
            if at_key and first and p in self.doc.value_locs:
                return self.doc.value_locs[p]
            if not p:
                return None
            # a missing key: point at its parent's key (where the user would add it)
            if p[:-1] in self.doc.key_locs:
                return self.doc.key_locs[p[:-1]]
            p = p[:-1]
            first = False

    def error(self, path: Path, message: str, *, at_key: bool = False) -> None:
        self.errors.append(self._violation(path, message, at_key))

    def warn(self, path: Path, message: str, *, at_key: bool = False) -> None:
        self.warnings.append(self._violation(path, message, at_key))

    def unknown_keys(
        self,
        mapping: Mapping[Any, Any],
        path: Path,
        allowed: Iterable[str],
        hints: Mapping[str, str] | None = None,
        what: str = "key",
    ) -> None:
        allowed = list(allowed)
        for key in mapping:
            if key not in allowed:
                hint = did_you_mean(key, allowed, hints)
                if not hint:
                    hint = f" (expected one of: {', '.join(allowed)})"
                self.error((*path, str(key)), f"unknown {what} {key!r}{hint}", at_key=True)

    # --- typed getters: check, report, and return the value or a fallback -------------------------------

    def mapping(self, value: Any, path: Path, what: str) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(path, f"{what} must be a mapping (key: value lines), not {_kind(value)}")
            return None
        return value

    def number(
        self,
        value: Any,
        path: Path,
        *,
        minimum: float | None = None,
        exclusive: bool = False,
        integer: bool = False,
        maximum: int | None = None,
    ) -> float | int | None:
        """A number (an int with ``integer``), finite, within int64 when an int, within the bounds given."""
        if value is None:
            return None
        ok = is_int(value) if integer else is_number(value)
        if not ok:
            want = "an integer" if integer else "a number"
            extra = (
                " (write 1, not 1.0)" if integer and isinstance(value, float) and value.is_integer() else ""
            )
            self.error(path, f"must be {want}, not {_kind(value)} {value!r}{extra}")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.error(path, f"must be a finite number, not {value!r}: write a finite value")
            return None
        if is_int(value) and not INT_MIN <= value <= INT_MAX:
            self.error(
                path,
                f"{_short(value)} does not fit a 64-bit integer: integers in a sweep file must lie between "
                f"-2**63 and 2**63 - 1; write a smaller value",
            )
            return None
        if minimum is not None and (value <= minimum if exclusive else value < minimum):
            rel = ">" if exclusive else ">="
            self.error(path, f"must be {rel} {minimum:g}, not {value!r}")
            return None
        if maximum is not None and value > maximum:
            self.error(path, f"must be at most {maximum} ({_power_of_two(maximum)}), not {_short(value)}")
            return None
        return value

    def string(self, value: Any, path: Path, *, choices: Iterable[str] | None = None) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(path, f"must be a string, not {_kind(value)} {value!r}")
            return None
        if choices is not None:
            choices = list(choices)
            if value not in choices:
                self.error(
                    path, f"{value!r} is not one of {', '.join(choices)}{did_you_mean(value, choices)}"
                )
                return None
        return value

    def boolean(self, value: Any, path: Path) -> bool | None:
        if value is None:
            return None
        if not isinstance(value, bool):
            self.error(path, f"must be true or false, not {value!r}")
            return None
        return value

    def duration(self, value: Any, path: Path) -> float | None:
        if value is None:
            return None
        seconds = parse_duration(value)
        if seconds is None:
            self.error(
                path, f"{value!r} is not a duration: write e.g. 30m, 1h30m, 10s, 2h, or a number of seconds"
            )
        elif seconds > MAX_DURATION_S:
            self.error(path, f"{value!r} is longer than 10 years, the limit: write a shorter duration, or leave it out for no limit")  # fmt: skip
            return None
        return seconds


def _short(value: int) -> str:
    text = str(value)
    return text if len(text) <= 30 else f"{text[:12]}...({len(text)} digits)"


def _power_of_two(maximum: int) -> str:
    bits = (maximum + 1).bit_length() - 1
    return f"2**{bits} - 1" if maximum + 1 == 2**bits else f"{maximum:g}"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    return type(value).__name__
