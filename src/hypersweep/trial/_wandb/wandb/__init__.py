"""hypersweep's offline stand-in for the ``wandb`` package (W&B capture mode).

A command trial of a sweep with ``trial.wandb: capture`` (the default for W&B sweep files) finds this
package first on its ``PYTHONPATH``, so a training script written against W&B's API runs unchanged,
offline, and its numbers reach the hypersweep store:

* ``wandb.init()`` returns a :class:`Run` whose ``config`` holds the trial's params as W&B's agent gives
  them (read from ``HYPERSWEEP_PARAMS``; nested parameters are nested dicts). ``config-defaults.yaml`` and
  ``init(config=...)`` are defaults under them; sweep keys are locked, as in W&B.
* ``wandb.log(dict, step=None, commit=None)`` follows W&B's step rules (an internal step that advances on
  commit; ``commit=False`` accumulates; an explicit larger ``step`` commits the pending row first) and
  prints each committed row as ``{"step": s, ...}`` (numbers only) on the real stdout.
* ``run.summary`` / ``wandb.summary`` values set by the script are printed as final metrics at finish.
* ``wandb.save`` and ``wandb.Artifact`` + ``log_artifact`` become hypersweep artifacts.
* ``define_metric``, ``watch``, ``Table``, ``Image``, ``Histogram``, ``alert``, ``login``, ... are accepted
  and ignored with one warning each; anything else raises an error naming the call.

Standard library only: it may run under any interpreter the sweep's command names.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import enum
import glob as _glob
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from . import errors, plot
from ._util import emit, flatten, number, unsupported, warn, warn_ignored
from .errors import CommError, ConfigError, Error, UnsupportedError, UsageError

__version__ = "0.0.0+hypersweep"

__all__ = [
    "AlertLevel",
    "Artifact",
    "Audio",
    "CommError",
    "ConfigError",
    "Error",
    "Histogram",
    "Html",
    "Image",
    "Molecule",
    "Object3D",
    "Plotly",
    "Run",
    "Settings",
    "Table",
    "UnsupportedError",
    "UsageError",
    "Video",
    "agent",
    "alert",
    "config",
    "define_metric",
    "errors",
    "finish",
    "init",
    "log",
    "log_artifact",
    "log_model",
    "login",
    "plot",
    "run",
    "save",
    "summary",
    "sweep",
    "termerror",
    "termlog",
    "termwarn",
    "unwatch",
    "watch",
]

HYPERSWEEP_CAPTURE = True  # lets a script tell the stand-in from the real package

_RESERVED = ("step", "hypersweep_artifact")  # keys the runner reads specially


# -- config ------------------------------------------------------------------------------------------------
def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"config keys must be strings, not {type(key).__name__}")
    return key.strip("-")


def _friendly(value: Any) -> Any:
    """numpy/torch values as plain Python values, as W&B stores them."""
    if isinstance(value, str | int | float | bool | type(None) | list | dict | tuple):
        return value
    if isinstance(value, argparse.Namespace):
        return {k: _friendly(v) for k, v in vars(value).items()}
    ndim = getattr(value, "ndim", None)
    if ndim == 0 and hasattr(value, "item"):
        return value.item()
    if isinstance(ndim, int) and hasattr(value, "tolist"):
        return value.tolist()
    return value


def _load_config_file(path: str, must_exist: bool) -> dict[str, Any]:
    """A W&B config file (``config-defaults.yaml``): ``key: {value: x, desc: ...}`` or ``key: x``."""
    if not os.path.isfile(path):
        if must_exist:
            raise UsageError(f"config file {path!r} does not exist")
        return {}
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        import yaml  # type: ignore[import-untyped]

        data = yaml.safe_load(text)
    except ImportError:
        try:
            data = json.loads(text)
        except ValueError:
            warn(f"config-file:{path}", f"cannot read {path}: PyYAML is not installed (ignored)")
            return {}
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    for k, v in data.items():
        if k in ("wandb_version", "_wandb"):
            continue
        out[str(k)] = v["value"] if isinstance(v, dict) and "value" in v else v
    return out


def _parse_config(
    params: Any, include: Any = None, exclude: Any = None, *, where: str = "config"
) -> dict[str, Any]:
    """A config argument as W&B reads it: a mapping, an argparse Namespace (or any object with
    ``__dict__``), absl flags, or the path of a YAML config file."""
    if include and exclude:
        raise UsageError("Expected at most only one of exclude or include")
    if params is None:
        out: dict[str, Any] = {}
    elif isinstance(params, str | os.PathLike):
        out = _load_config_file(os.fspath(params), must_exist=True)
    elif isinstance(params, Mapping):
        out = dict(params)
    elif hasattr(params, "flag_values_dict"):  # absl.flags.FLAGS
        out = dict(params.flag_values_dict())
    elif hasattr(params, "__dict__"):
        out = {k: v for k, v in vars(params).items() if not k.startswith("_")}
    else:
        raise TypeError(f"{where} must be a dict or have a __dict__ attribute, not {type(params).__name__}")
    if include:
        out = {k: v for k, v in out.items() if k in include}
    if exclude:
        out = {k: v for k, v in out.items() if k not in exclude}
    return out


class Config:
    """``wandb.config``: attribute and item access; keys set by the sweep are locked (their updates are
    ignored with a warning), and changing another key's value needs ``allow_val_change=True``, as in W&B."""

    def __init__(self) -> None:
        object.__setattr__(self, "_items", {})
        object.__setattr__(self, "_locked", {})
        object.__setattr__(self, "_allow_val_change", False)

    # access
    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._items[key]
        except KeyError:
            raise AttributeError(f"'Config' object has no attribute {key!r}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(self._items)

    def keys(self) -> Any:
        return self._items.keys()

    def items(self) -> Any:
        return self._items.items()

    def values(self) -> Any:
        return self._items.values()

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._items)

    # changes
    def _check_locked(self, key: str) -> bool:
        user = self._locked.get(key)
        if user is None:
            return False
        warn(f"config-locked:{key}", f"Config item '{key}' was locked by '{user}' (ignored update).")
        return True

    def __setitem__(self, key: str, value: Any) -> None:
        key = _key(key)
        if self._check_locked(key):
            return
        self._items[key] = _friendly(value)

    def __setattr__(self, key: str, value: Any) -> None:
        self.__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        del self._items[key]

    def update(self, d: Any, allow_val_change: bool | None = None) -> None:
        allow = self._allow_val_change if allow_val_change is None else allow_val_change
        todo: dict[str, Any] = {}
        for k, v in _parse_config(d).items():
            key = _key(k)
            if self._check_locked(key):
                continue
            value = _friendly(v)
            if not allow and key in self._items and self._items[key] != value:
                raise ConfigError(
                    f'Attempted to change value of key "{key}" from {self._items[key]} to {value}\n'
                    "If you really want to do this, pass allow_val_change=True to config.update()"
                )
            todo[key] = value
        self._items.update(todo)

    def setdefaults(self, d: Any) -> None:
        for k, v in _parse_config(d).items():
            key = _key(k)
            if key not in self._items:
                self._items[key] = _friendly(v)

    def update_locked(self, d: Mapping[str, Any], user: str = "sweep") -> None:
        for k, v in d.items():
            key = _key(k)
            self._items[key] = _friendly(v)
            self._locked[key] = user

    def persist(self) -> None:
        """W&B writes the config file here; the stand-in has nothing to write."""


# -- summary -----------------------------------------------------------------------------------------------
class Summary:
    """``run.summary``: the last logged value of each key, overridden by values the script sets; the
    values the script sets become final metrics of the trial at finish."""

    def __init__(self) -> None:
        object.__setattr__(self, "_items", {})
        object.__setattr__(self, "_explicit", set())

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._items[key]
        except KeyError:
            raise AttributeError(f"'Summary' object has no attribute {key!r}") from None

    def __setitem__(self, key: str, value: Any) -> None:
        self._items[key] = value
        self._explicit.add(key)

    def __setattr__(self, key: str, value: Any) -> None:
        self.__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        del self._items[key]
        self._explicit.discard(key)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(self._items)

    def keys(self) -> Any:
        return self._items.keys()

    def items(self) -> Any:
        return self._items.items()

    def values(self) -> Any:
        return self._items.values()

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def update(self, d: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        for k, v in {**dict(d or {}), **kwargs}.items():
            self[k] = v

    def _as_dict(self) -> dict[str, Any]:
        return dict(self._items)

    def _logged(self, row: Mapping[str, Any]) -> None:
        for k, v in row.items():
            self._items[k] = v
            self._explicit.discard(k)  # its final value is the logged one, already reported

    def _final(self) -> dict[str, Any]:
        return {k: self._items[k] for k in self._explicit if k in self._items}


class _PreInit:
    """``wandb.config`` / ``wandb.summary`` before ``wandb.init()``: using them is an error, as in W&B."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _fail(self, what: str) -> UsageError:
        return UsageError(f"You must call wandb.init() before wandb.{self._name}{what}")

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        raise self._fail(f".{key}")

    def __setattr__(self, key: str, value: Any) -> None:
        raise self._fail(f".{key}")

    def __getitem__(self, key: str) -> Any:
        raise self._fail(f"[{key!r}]")

    def __setitem__(self, key: str, value: Any) -> None:
        raise self._fail(f"[{key!r}]")


# -- media, settings ---------------------------------------------------------------------------------------
class _Media:
    """W&B's media types: accepted and ignored (only numbers become metrics)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warn_ignored(f"wandb.{type(self).__name__}", " (media and tables are not recorded; numbers are)")


class Image(_Media):
    pass


class Histogram(_Media):
    pass


class Audio(_Media):
    pass


class Video(_Media):
    pass


class Html(_Media):
    pass


class Object3D(_Media):
    pass


class Plotly(_Media):
    pass


class Molecule(_Media):
    pass


class Table(_Media):
    """``wandb.Table``: keeps its rows (so scripts that read them back work), never recorded."""

    def __init__(
        self,
        columns: list[str] | None = None,
        data: list[list[Any]] | None = None,
        rows: list[list[Any]] | None = None,
        dataframe: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        if dataframe is not None:
            columns = [str(c) for c in dataframe.columns]
            data = dataframe.values.tolist()
        self.columns = list(columns or [])
        self.data = [list(r) for r in (data if data is not None else rows or [])]

    def add_data(self, *values: Any) -> None:
        self.data.append(list(values))

    def add_column(self, name: str, data: list[Any], optional: bool = False) -> None:
        self.columns.append(name)
        for row, v in zip(self.data, data, strict=False):
            row.append(v)

    def get_column(self, name: str, convert_to: str | None = None) -> list[Any]:
        i = self.columns.index(name)
        return [row[i] for row in self.data]

    def get_index(self) -> list[int]:
        return list(range(len(self.data)))


class Settings:
    """``wandb.Settings(...)``: accepted; the stand-in has no settings that matter."""

    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)


class AlertLevel(enum.Enum):
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


class _Metric:
    """What ``define_metric`` returns (ignored)."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        self.name = name
        self.__dict__.update(kwargs)


# -- artifacts ---------------------------------------------------------------------------------------------
def _artifact_dir() -> str:
    """The trial's ``$HYPERSWEEP_ARTIFACT_DIR`` (files there are collected with the trial) or a temp dir."""
    d = os.environ.get("HYPERSWEEP_ARTIFACT_DIR")
    if d:
        os.makedirs(d, exist_ok=True)
        return os.path.abspath(d)
    return tempfile.mkdtemp(prefix="wandb-run-")


def _in_dir(path: str, folder: str | None) -> bool:
    if not folder:
        return False
    folder = os.path.abspath(folder)
    return os.path.commonpath([os.path.abspath(path), folder]) == folder


class _Entry:
    def __init__(self, path: str, local_path: str) -> None:
        self.path = path
        self.local_path = local_path


class Artifact:
    """``wandb.Artifact``: a named set of files; ``run.log_artifact(artifact)`` records each file as a
    hypersweep artifact named ``<artifact name>/<file name>``."""

    def __init__(
        self,
        name: str,
        type: str = "dataset",  # noqa: A002 - W&B's signature
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        incremental: bool = False,
        use_as: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.name = name
        self.type = type
        self.description = description
        self.metadata = dict(metadata or {})
        self.incremental = incremental
        self.aliases: list[str] = []
        self.tags: list[str] = []
        self.version: str | None = None
        self._files: list[tuple[str, str]] = []
        self._staging: str | None = None

    def __repr__(self) -> str:
        return f"Artifact({self.name!r}, type={self.type!r}, files={len(self._files)})"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise unsupported(f"Artifact.{name}")

    def add_file(
        self, local_path: str | os.PathLike[str], name: str | None = None, is_tmp: bool = False, **kwargs: Any
    ) -> _Entry:
        path = os.path.abspath(os.fspath(local_path))
        if not os.path.isfile(path):
            raise ValueError(f"Path is not a file: {os.fspath(local_path)!r}")
        entry = (name or os.path.basename(path)).replace(os.sep, "/")
        self._files.append((entry, path))
        return _Entry(entry, path)

    def add_dir(self, local_path: str | os.PathLike[str], name: str | None = None, **kwargs: Any) -> None:
        root = os.path.abspath(os.fspath(local_path))
        if not os.path.isdir(root):
            raise ValueError(f"Path is not a directory: {os.fspath(local_path)!r}")
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for f in sorted(files):
                path = os.path.join(folder, f)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                self._files.append((f"{name.rstrip('/')}/{rel}" if name else rel, path))

    @contextlib.contextmanager
    def new_file(self, name: str, mode: str = "x", encoding: str | None = None) -> Iterator[Any]:
        if self._staging is None:
            parent = os.path.dirname(os.environ.get("HYPERSWEEP_ARTIFACT_DIR", "").rstrip(os.sep)) or None
            self._staging = tempfile.mkdtemp(prefix="wandb-artifact-", dir=parent)
        path = os.path.join(self._staging, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, mode, encoding=encoding) as f:
            yield f
        self._files.append((name.replace(os.sep, "/"), path))

    def add_reference(self, uri: Any, name: str | None = None, **kwargs: Any) -> list[Any]:
        warn_ignored("Artifact.add_reference", " (references are not stored)")
        return []

    def add(self, obj: Any, name: str, **kwargs: Any) -> None:
        warn_ignored("Artifact.add", " (W&B objects such as tables are not stored; add files)")

    def remove(self, item: str) -> None:
        self._files = [(n, p) for n, p in self._files if n != item and p != os.path.abspath(item)]

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to upload: the files are recorded when the artifact is logged."""

    def wait(self, *args: Any, **kwargs: Any) -> Artifact:
        return self

    def files(self, *args: Any, **kwargs: Any) -> list[_Entry]:
        return [_Entry(n, p) for n, p in self._files]


# -- the run -----------------------------------------------------------------------------------------------
class Run:
    """What ``wandb.init()`` returns."""

    def __init__(
        self,
        config: Config,
        *,
        name: str | None = None,
        run_id: str | None = None,
        project: str | None = None,
        entity: str | None = None,
        group: str | None = None,
        job_type: str | None = None,
        tags: Any = None,
        notes: str | None = None,
    ) -> None:
        number = os.environ.get("HYPERSWEEP_TRIAL_NUMBER", "")
        study = os.environ.get("HYPERSWEEP_STUDY", "")
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._step = 0
        self._pending: dict[str, Any] = {}
        self._finished = False
        self._saved: set[str] = set()
        self._save_globs: list[tuple[str, str]] = []
        self._summary = Summary()
        self._dir: str | None = None
        self.config = config
        self.id = run_id or (f"{study}-{number}" if study and number else f"offline-{os.getpid()}")
        self.name = name or (f"{study}-{number}" if study and number else self.id)
        self.project = project or "uncategorized"
        self.entity = entity or ""
        self.group = group
        self.job_type = job_type
        self.tags = tuple(tags or ())
        self.notes = notes
        self.sweep_id = study or None
        self.start_time = time.time()
        self.offline = True
        self.disabled = False
        self.resumed = False
        self.url: str | None = None
        self.path = f"{self.entity}/{self.project}/{self.id}"

    def __repr__(self) -> str:
        return f"<Run {self.name} (hypersweep offline W&B capture)>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise unsupported(f"run.{name}")

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.finish(exit_code=0 if exc_type is None else 1)

    @property
    def summary(self) -> Summary:
        return self._summary

    @property
    def step(self) -> int:
        return self._step

    @property
    def display_name(self) -> str:
        return self.name

    @property
    def dir(self) -> str:
        """W&B uploads what a script writes here; here it is ``$HYPERSWEEP_ARTIFACT_DIR``, whose files
        hypersweep collects with the trial."""
        if self._dir is None:
            self._dir = _artifact_dir()
        return self._dir

    def get_url(self) -> None:
        return None

    def get_project_url(self) -> None:
        return None

    def get_sweep_url(self) -> None:
        return None

    # -- logging -------------------------------------------------------------------------------------
    def _check_open(self, what: str) -> None:
        if self._finished:
            raise UsageError(f"{what} was called after the run finished (wandb.finish())")

    def log(
        self,
        data: Mapping[str, Any],
        step: int | None = None,
        commit: bool | None = None,
        sync: bool | None = None,
    ) -> None:
        """W&B's step rules: without ``step`` the row is committed at the run's step, which then
        advances (``commit=False`` keeps the row open); an explicit ``step`` larger than the current one
        commits the open row first and then opens ``step`` (committed when ``commit=True`` or later);
        a ``step`` smaller than the current one is dropped with a warning."""
        self._check_open("wandb.log()")
        if not isinstance(data, Mapping):
            raise ValueError("wandb.log must be passed a dictionary")
        if any(not isinstance(k, str) for k in data):
            raise ValueError("Key values passed to `wandb.log` must be strings.")
        with self._lock:
            if step is not None:
                step = int(step)
                if step < self._step:
                    warn(
                        "log-step-dropped",
                        f"Tried to log to step {step} that is less than the current step {self._step}. "
                        "Steps must be monotonically increasing, so this data will be ignored "
                        "(W&B does the same; warned once).",
                    )
                    return
                if step > self._step:
                    self._commit()
                    self._step = step
                flush = bool(commit)
            else:
                flush = True if commit is None else bool(commit)
            row = flatten(data)
            self._pending.update(row)
            self._summary._logged(row)
            if flush:
                self._commit()

    def _commit(self) -> None:
        if not self._pending:
            return
        row, self._pending = self._pending, {}
        line: dict[str, Any] = {"step": self._step}
        line.update(_numbers(row))
        self._step += 1
        if len(line) > 1:
            emit(line)

    # -- files -----------------------------------------------------------------------------------------
    def _emit_file(self, path: str, name: str) -> None:
        path = os.path.abspath(path)
        if _in_dir(path, self._dir or os.environ.get("HYPERSWEEP_ARTIFACT_DIR")):
            return  # files in run.dir ($HYPERSWEEP_ARTIFACT_DIR) are collected with the trial anyway
        parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts or ".." in parts:  # artifact names are relative paths inside the trial's folder
            parts = [os.path.basename(path)]
        emit({"hypersweep_artifact": path, "name": "/".join(parts)})

    def _save_matches(self) -> None:
        for pattern, base in self._save_globs:
            for path in sorted(_glob.glob(pattern)):
                path = os.path.abspath(path)
                if path in self._saved or not os.path.isfile(path):
                    continue
                self._saved.add(path)
                self._emit_file(path, os.path.relpath(path, base).replace(os.sep, "/"))

    def save(
        self,
        glob_str: str | os.PathLike[str] | None = None,
        base_path: str | os.PathLike[str] | None = None,
        policy: str = "live",
    ) -> list[str]:
        """Record files matching ``glob_str`` as artifacts (now, and those that appear by finish)."""
        self._check_open("wandb.save()")
        if glob_str is None:
            warn("save-none", "wandb.save() without a path does nothing")
            return []
        if policy not in ("live", "end", "now"):
            raise ValueError('Only "live", "end" and "now" policies are currently supported.')
        pattern = os.fspath(glob_str)
        if isinstance(pattern, bytes):
            pattern = pattern.decode()
        if pattern.startswith(("gs://", "s3://")):
            warn(f"save-remote:{pattern}", f"{pattern} is a cloud path: wandb.save records local files only")
            return []
        if base_path is not None:
            base = os.path.abspath(os.fspath(base_path))
        elif os.path.isabs(pattern):
            base = os.path.dirname(pattern)
        else:
            base = os.getcwd()
        pattern = os.path.abspath(pattern)
        with self._lock:
            self._save_globs.append((pattern, base))
            if policy != "end":
                self._save_matches()
        return sorted(os.path.abspath(p) for p in _glob.glob(pattern) if os.path.isfile(p))

    def log_artifact(
        self,
        artifact_or_path: Artifact | str | os.PathLike[str],
        name: str | None = None,
        type: str | None = None,  # noqa: A002 - W&B's signature
        aliases: list[str] | None = None,
        tags: list[str] | None = None,
    ) -> Artifact:
        self._check_open("log_artifact()")
        if isinstance(artifact_or_path, Artifact):
            artifact = artifact_or_path
        else:
            path = os.fspath(artifact_or_path)
            artifact = Artifact(
                name or f"run-{self.id}-{os.path.basename(os.path.abspath(path))}", type or "unspecified"
            )
            if os.path.isdir(path):
                artifact.add_dir(path)
            else:
                artifact.add_file(path)
        artifact.aliases = list(aliases or ["latest"])
        artifact.tags = list(tags or [])
        with self._lock:
            for entry, path in artifact._files:
                self._emit_file(path, f"{artifact.name}/{entry}")
        return artifact

    def log_model(
        self,
        path: str | os.PathLike[str],
        name: str | None = None,
        aliases: list[str] | None = None,
        tags: list[str] | None = None,
    ) -> Artifact:
        p = os.fspath(path)
        return self.log_artifact(
            p, name=name or f"run-{self.id}-{os.path.basename(os.path.abspath(p))}", type="model",
            aliases=aliases, tags=tags,
        )  # fmt: skip

    # -- accepted and ignored --------------------------------------------------------------------------
    def define_metric(self, name: str, *args: Any, **kwargs: Any) -> _Metric:
        warn_ignored("wandb.define_metric", " (the last logged value of each metric is its final value)")
        return _Metric(name, **kwargs)

    def watch(self, *args: Any, **kwargs: Any) -> None:
        warn_ignored("wandb.watch", " (gradients and parameters are not recorded)")

    def unwatch(self, *args: Any, **kwargs: Any) -> None:
        warn_ignored("wandb.unwatch")

    def alert(self, *args: Any, **kwargs: Any) -> None:
        warn_ignored("wandb.alert", " (no alert is sent)")

    def log_code(self, *args: Any, **kwargs: Any) -> None:
        warn_ignored("run.log_code", " (hypersweep records the git commit of the sweep's folder)")

    def mark_preempting(self) -> None:
        """Nothing to do offline."""

    def _label(self, *args: Any, **kwargs: Any) -> None:
        """Integrations (transformers, ...) label runs; nothing to do offline."""

    # -- end -------------------------------------------------------------------------------------------
    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """Commit the open row, record files saved with ``policy="end"`` (or that appeared since), and
        print the summary values the script set as final metrics."""
        global run, config, summary
        with self._lock:
            if self._finished:
                return
            self._finished = True
            if os.getpid() != self._pid:  # a forked child (data loader worker): the parent finishes
                return
            self._commit()
            self._save_matches()
            final = _numbers(flatten(self._summary._final()))
            if final:
                emit(final)
        if run is self:
            run = None
            config = _PreInit("config")
            summary = _PreInit("summary")


def _numbers(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        n = number(v)
        if n is None:
            continue
        if k in _RESERVED:
            warn(
                f"reserved:{k}",
                f"a metric named {k!r} is not recorded: hypersweep reads that key itself "
                "(the W&B step is recorded as each report's step)",
            )
            continue
        out[k] = n
    return out


# -- module-level API --------------------------------------------------------------------------------------
run: Run | None = None
config: Any = _PreInit("config")
summary: Any = _PreInit("summary")
_atexit_registered = False


def _sweep_params() -> dict[str, Any]:
    raw = os.environ.get("HYPERSWEEP_PARAMS")
    if not raw:
        return {}
    try:
        params = json.loads(raw)
    except ValueError:
        warn("params", "HYPERSWEEP_PARAMS is not valid JSON: wandb.config holds the script's defaults only")
        return {}
    return params if isinstance(params, dict) else {}


def _at_exit() -> None:
    if run is not None:
        run.finish()


def init(
    project: str | None = None,
    entity: str | None = None,
    config: Any = None,  # noqa: A002 - shadows the module global on purpose (W&B's signature)
    name: str | None = None,
    *,
    id: str | None = None,  # noqa: A002 - W&B's signature
    group: str | None = None,
    job_type: str | None = None,
    tags: Any = None,
    notes: str | None = None,
    config_exclude_keys: Any = None,
    config_include_keys: Any = None,
    allow_val_change: bool | None = None,
    sync_tensorboard: bool | None = None,
    **kwargs: Any,
) -> Run:
    """Start the trial's run: its config is ``config-defaults.yaml``, then ``config``, then the sweep's
    params (locked, so the script cannot override them), exactly as under W&B's agent."""
    global run, summary, _atexit_registered
    g = globals()
    if run is not None and not run._finished:
        warn("init-twice", "wandb.init() called while a run is active: returning that run")
        return run
    if sync_tensorboard:
        warn(
            "sync_tensorboard",
            "wandb.init(sync_tensorboard=True) is ignored by hypersweep's offline W&B capture: metrics "
            "written only to TensorBoard are not recorded; log them with wandb.log",
        )
    defaults = _load_config_file("config-defaults.yaml", must_exist=False)
    defaults.update(_parse_config(config, config_include_keys, config_exclude_keys))
    cfg = Config()
    cfg.update(defaults, allow_val_change=True)
    cfg.update_locked(_sweep_params(), user="sweep")
    if allow_val_change:
        object.__setattr__(cfg, "_allow_val_change", True)
    new = Run(
        cfg,
        name=name,
        run_id=id,
        project=project,
        entity=entity,
        group=group,
        job_type=job_type,
        tags=tags,
        notes=notes,
    )
    run = new
    g["config"] = cfg
    summary = new.summary
    if not _atexit_registered:
        atexit.register(_at_exit)
        _atexit_registered = True
    return new


def _current(what: str) -> Run:
    if run is None:
        raise UsageError(f"You must call wandb.init() before wandb.{what}()")
    return run


def log(
    data: Mapping[str, Any], step: int | None = None, commit: bool | None = None, sync: bool | None = None
) -> None:
    _current("log").log(data, step=step, commit=commit, sync=sync)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    if run is not None:
        run.finish(exit_code=exit_code, quiet=quiet)


def save(
    glob_str: str | os.PathLike[str] | None = None,
    base_path: str | os.PathLike[str] | None = None,
    policy: str = "live",
) -> list[str]:
    return _current("save").save(glob_str, base_path=base_path, policy=policy)


def log_artifact(
    artifact_or_path: Artifact | str | os.PathLike[str],
    name: str | None = None,
    type: str | None = None,  # noqa: A002 - W&B's signature
    aliases: list[str] | None = None,
    tags: list[str] | None = None,
) -> Artifact:
    return _current("log_artifact").log_artifact(artifact_or_path, name, type, aliases, tags)


def log_model(
    path: str | os.PathLike[str],
    name: str | None = None,
    aliases: list[str] | None = None,
    tags: list[str] | None = None,
) -> Artifact:
    return _current("log_model").log_model(path, name=name, aliases=aliases, tags=tags)


def define_metric(name: str, *args: Any, **kwargs: Any) -> _Metric:
    warn_ignored("wandb.define_metric", " (the last logged value of each metric is its final value)")
    return _Metric(name, **kwargs)


def watch(*args: Any, **kwargs: Any) -> None:
    warn_ignored("wandb.watch", " (gradients and parameters are not recorded)")


def unwatch(*args: Any, **kwargs: Any) -> None:
    warn_ignored("wandb.unwatch")


def alert(*args: Any, **kwargs: Any) -> None:
    warn_ignored("wandb.alert", " (no alert is sent)")


def login(*args: Any, **kwargs: Any) -> bool:
    warn_ignored("wandb.login", " (nothing is sent to W&B)")
    return True


def setup(*args: Any, **kwargs: Any) -> None:
    """Nothing to set up offline."""


def teardown(*args: Any, **kwargs: Any) -> None:
    """Nothing to tear down offline."""


def require(*args: Any, **kwargs: Any) -> None:
    """W&B feature flags (``wandb.require("core")``): nothing to enable offline."""


def mark_preempting() -> None:
    """Nothing to do offline."""


def termlog(string: str = "", newline: bool = True, repeat: bool = True, prefix: bool = True) -> None:
    sys.stderr.write(("wandb: " if prefix else "") + str(string) + ("\n" if newline else ""))


def termwarn(string: str = "", newline: bool = True, repeat: bool = True, prefix: bool = True) -> None:
    termlog(f"WARNING {string}", newline=newline, prefix=prefix)


def termerror(string: str = "", newline: bool = True, repeat: bool = True, prefix: bool = True) -> None:
    termlog(f"ERROR {string}", newline=newline, prefix=prefix)


def sweep(*args: Any, **kwargs: Any) -> str:
    raise UsageError(
        "wandb.sweep() is not available under hypersweep's offline W&B capture: hypersweep runs the sweep "
        "itself (`hypersweep run sweep.yaml` starts this script once per trial, with wandb.config set)"
    )


def agent(*args: Any, **kwargs: Any) -> None:
    raise UsageError(
        "wandb.agent() is not available under hypersweep's offline W&B capture: hypersweep runs the sweep "
        "itself (`hypersweep run sweep.yaml` starts this script once per trial, with wandb.config set)"
    )


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(f"module 'wandb' has no attribute {name!r}")
    raise unsupported(f"wandb.{name}")


class _UnsupportedSubmodules:
    """``import wandb.sdk`` (or any submodule the stand-in lacks) fails with the capture's message."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.startswith("wandb."):
            raise ModuleNotFoundError(unsupported(f"import {fullname}").args[0], name=fullname)
        return None


if __name__ == "wandb":  # imported as the stand-in (not as hypersweep.trial._wandb.wandb)
    sys.meta_path.append(_UnsupportedSubmodules())  # after the normal finders: real submodules load
