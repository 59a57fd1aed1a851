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

import atexit
import glob as _glob
import json
import os
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from . import errors, plot
from ._artifact import Artifact, _artifact_dir, _in_dir
from ._config import _RESERVED, Config, Summary, _load_config_file, _parse_config, _PreInit
from ._media import (
    AlertLevel,
    Audio,
    Histogram,
    Html,
    Image,
    Molecule,
    Object3D,
    Plotly,
    Settings,
    Table,
    Video,
    _Metric,
)
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
    cfg.merge_locked(_sweep_params(), user="sweep")
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
