"""``run_sweep`` and ``resume_sweep``: wire spec + store + strategy + executor + engine for one run."""

from __future__ import annotations

import dataclasses
import getpass
import os
import random
import shlex
import socket
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypersweep.engine import (
    STORE_RETRY_S,
    Engine,
    EngineOptions,
    Progress,
    RunSummary,
    queue_ahead,
)
from hypersweep.errors import (
    ResumeConflictError,
    RunInterrupted,
    SpecError,
    StoreUnavailableError,
    StudyExistsError,
    SweepNotFoundError,
    UsageError,
)
from hypersweep.orchestrate._budget import budget_trials
from hypersweep.provenance import code_file, file_hash, git_info, hash_data
from hypersweep.query import leaderboard_rows
from hypersweep.records import EndReason, NewStudy, StudyRecord, StudyStatus, TrialState
from hypersweep.spec import (
    GP_INSTALL,
    SweepSpec,
    auto_options,
    auto_strategy,
    gp_available,
    load_spec,
    parse_spec,
)
from hypersweep.store import Store, opened, resolve_store_url

__all__ = ["RunResult", "resume_sweep", "run_sweep"]


@dataclass
class RunResult:
    """What ``run_sweep``/``resume_sweep`` return: the study and how the run ended."""

    study: StudyRecord
    summary: RunSummary
    store_url: str  # masked
    top: list[dict[str, Any]]

    @property
    def status(self) -> StudyStatus:
        return self.summary.status


# -- helpers -------------------------------------------------------------------------------------------
def _stored_spec(study: StudyRecord) -> SweepSpec | None:
    try:
        return parse_spec(study.spec_text, file=study.spec_path, workdir=study.workdir, check_files=False)
    except SpecError:
        return None


def _diff_keys(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            keys.extend(_diff_keys(a, b, f"{prefix}{k}."))
        elif a != b:
            keys.append(f"{prefix}{k}")
    return keys


def _check_resume(study: StudyRecord, spec: SweepSpec, seed: int | None) -> None:
    old = _stored_spec(study)
    if old is None:
        return
    changed = _diff_keys(old.resume_key(), spec.resume_key())
    if seed is not None and seed != study.seed:
        changed.append("seed")
    if spec.seed is not None and spec.seed != study.seed and "seed" not in changed:
        changed.append("seed")
    if changed:
        raise ResumeConflictError(
            f"study {study.name!r} exists and the sweep file changed what trials compute: "
            f"{', '.join(changed)}. Run it as a new study with --name NEW_NAME, or restore those keys "
            "to resume it.",
            keys=changed,
        )


def _resolve_auto(spec: SweepSpec, trials: int | None) -> SweepSpec:
    """``auto`` resolved with the budget this run gives (``--trials`` included), once, for a new study."""
    if spec.strategy.requested != "auto" or trials is None or trials == spec.budget.trials:
        return spec
    name, reason = auto_strategy(spec.parameters, trials, spec.objective is not None, len(spec.objectives))
    options = auto_options(name, spec.parameters)
    strategy = dataclasses.replace(spec.strategy, name=name, options=options, reason=reason)
    return dataclasses.replace(spec, strategy=strategy)


def _recorded_strategy(spec: SweepSpec, study: StudyRecord) -> SweepSpec:
    """An existing study runs the strategy it recorded when it was created (``auto`` and W&B's
    ``bayes`` are never resolved again; studies created before ``auto`` keep tpe or random)."""
    if study.strategy == "gp" and not gp_available():
        raise UsageError(
            f"study {study.name!r} runs strategy gp, which needs torch (not installed): {GP_INSTALL}"
        )
    if spec.strategy.name == study.strategy:
        return spec
    # auto's options belong to what it picks now: the recorded strategy gets the ones auto gives it (gp's
    # start-up; the others' defaults)
    options = (
        auto_options(study.strategy, spec.parameters)
        if spec.strategy.requested == "auto"
        else spec.strategy.options
    )
    strategy = dataclasses.replace(
        spec.strategy, name=study.strategy, options=options, reason="recorded when the study was created"
    )
    return dataclasses.replace(spec, strategy=strategy)


def _check_objectives(spec: SweepSpec) -> None:
    """A strategy whose traits say it optimises one objective cannot run a study with several."""
    from hypersweep.strategies import strategy_traits

    if spec.several_objectives and not strategy_traits(spec.strategy.name).multi_objective:
        raise UsageError(
            f"strategy {spec.strategy.name} optimises one objective, and the study has "
            f"{len(spec.objectives)}: choose a strategy for several objectives (nsga2, tpe, auto)"
        )


def _store_retry_s() -> float:
    """``HYPERSWEEP_STORE_RETRY_S``: how long a driver retries an unavailable store before it stops."""
    raw = os.environ.get("HYPERSWEEP_STORE_RETRY_S")
    if raw is None or not raw.strip():
        return STORE_RETRY_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise UsageError(f"HYPERSWEEP_STORE_RETRY_S must be a number of seconds >= 0, not {raw!r}")
    return value


def _start_engine(
    st: Store,
    spec: SweepSpec,
    study: StudyRecord,
    *,
    trials: int | None,
    parallel: int | None,
    executor: str,
    address: str | None,
    retry_failed: bool,
    on_progress: Callable[[Progress], None] | None,
    artifact_root: str | None = None,
) -> RunSummary:
    from hypersweep.executors import ResourceRequest, make_executor
    from hypersweep.strategies import HistoryTrial, make_strategy

    _check_objectives(spec)
    retry_s = _store_retry_s()
    owner = uuid.uuid4().hex
    st.acquire_lease(study.study_id, owner, socket.gethostname(), os.getpid())
    status = StudyStatus.INTERRUPTED
    end_reason: EndReason | None = None
    ended = False
    try:
        st.mark_interrupted(study.study_id)  # what a dead driver left running
        strategy = make_strategy(spec, study.seed)
        for other in spec.strategy.options.get("warm_start", ()) or ():
            o = st.get_study(other)
            hist = [HistoryTrial(t) for t in st.get_trials(o.study_id, states=[TrialState.COMPLETE])]
            strategy.warm_start(hist)
        root = _artifact_root(st, spec, study, artifact_root)
        ex = make_executor(
            executor,
            address=address,
            working_dir=study.workdir,
            store_url=st.url_masked,  # SQLite: the file (no password); never shipped, nor the root
            artifact_root=root,
        )
        try:
            r = spec.resources
            fit = ex.check_resources(
                ResourceRequest(float(r.cpus), float(r.gpus), r.accelerator_type, dict(r.custom))
            )
            n_parallel = max(1, parallel or spec.budget.parallel or fit)
            ahead = queue_ahead(strategy.traits, n_parallel, fit, cluster_queues=ex.reports_starts)
            opts = EngineOptions(
                artifact_root=root,
                trials=trials,
                parallel=n_parallel,
                queue_ahead=ahead,
                max_failures=spec.budget.max_failures,
                retries=spec.budget.retries,
                timeout_s=spec.budget.timeout_s,
                target=spec.objective.target if spec.objective is not None else None,
                patience=spec.budget.patience,
                retry_failed=retry_failed,
                lease_owner=owner,
                store_retry_s=retry_s,
            )
            engine = Engine(spec, study, st, strategy, ex, opts, on_progress=on_progress)
            summary = engine.run()
            status = summary.status
            end_reason = _END_REASONS.get(summary.reason.name)
            ended = True
            return summary
        finally:
            ex.close()
    except KeyboardInterrupt:
        end_reason = EndReason.INTERRUPT
        raise
    finally:
        try:
            st.release_lease(study.study_id, owner, status, end_reason)
        except StoreUnavailableError:
            # the run already failed (the store went down): keep that error, which says how to resume;
            # the lease expires by itself, and a resume on this host takes over a dead driver's at once
            if ended:
                raise


# the engine's StopReason (by name) -> the study's recorded end_reason
_END_REASONS = {
    "BUDGET": EndReason.BUDGET,
    "EXHAUSTED": EndReason.BUDGET,
    "TARGET": EndReason.TARGET,
    "TIMEOUT": EndReason.TIMEOUT,
    "STOPPED": EndReason.STOP,
    "FAILURES": EndReason.FAILURES,
    "INTERRUPTED": EndReason.INTERRUPT,
    "PATIENCE": EndReason.PATIENCE,
}


def _artifact_root(st: Store, spec: SweepSpec, study: StudyRecord, cli_root: str | None) -> str:
    """``--artifact-root``, else the spec's ``artifacts.root``, else ``artifacts/`` beside a SQLite store
    (``./hypersweep-artifacts`` with a warning for a server store)."""
    import warnings

    from hypersweep.artifacts import default_root

    spec_root = (spec.artifacts or {}).get("root") if isinstance(spec.artifacts, Mapping) else None
    # a SQLite URL has no password, so the masked URL names the same file
    root, warning = default_root(st.url_masked, spec_root, cli_root, spec_dir=study.workdir)
    if warning:
        warnings.warn(warning, stacklevel=2)
    return root


def _prestart(executor: str, address: str | None, spec: SweepSpec, url: str, cli_root: str | None) -> None:
    """Start the executor early, with the arguments ``_start_engine`` will give it for a new study."""
    import warnings

    from hypersweep.artifacts import default_root
    from hypersweep.executors import prestart_executor
    from hypersweep.store import mask_url

    spec_root = (spec.artifacts or {}).get("root") if isinstance(spec.artifacts, Mapping) else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # _start_engine warns, once
        root, _ = default_root(mask_url(url), spec_root, cli_root, spec_dir=spec.workdir)
    prestart_executor(
        executor, address=address, working_dir=spec.workdir, store_url=mask_url(url), artifact_root=root
    )


def _result(st: Store, study: StudyRecord, summary: RunSummary) -> RunResult:
    study = st.get_study_by_id(study.study_id)
    top = leaderboard_rows(st, [study.name], top=5)
    return RunResult(study=study, summary=summary, store_url=st.url_masked, top=top)


def _interrupted(
    st: Store, study: StudyRecord, store: str | None, executor: str, address: str | None
) -> RunInterrupted:
    """The ``RunInterrupted`` of a run that Ctrl-C stopped: what the store holds, the resume command
    (with the ``--store``, ``--executor`` and ``--address`` this run was given; a password masked)."""
    try:
        counts: dict[str, int] | None = {s.value: n for s, n in st.study_counts(study.study_id).items()}
    except Exception:  # noqa: BLE001 - the message must come out even when the store went away
        counts = None
    cmd = ["hypersweep", "resume", study.name]
    if store is not None:
        cmd += ["--store", st.url_masked]
    if executor != "ray":
        cmd += ["--executor", executor]
    if address:
        cmd += ["--address", address]
    return RunInterrupted(study.name, counts, shlex.join(cmd))


def _drive(
    st: Store,
    spec: SweepSpec,
    study: StudyRecord,
    store: str | None,
    executor: str,
    address: str | None,
    parallel: int | None,
    retry_failed: bool,
    on_progress: Callable[[Progress], None] | None,
    artifact_root: str | None,
) -> RunResult:
    """Run the engine on ``study`` to its budget; a Ctrl-C becomes ``RunInterrupted`` (what was recorded
    and the resume command)."""
    try:
        summary = _start_engine(
            st,
            spec,
            study,
            trials=study.budget_trials,
            parallel=parallel,
            executor=executor,
            address=address,
            retry_failed=retry_failed,
            on_progress=on_progress,
            artifact_root=artifact_root,
        )
    except KeyboardInterrupt as e:
        raise _interrupted(st, study, store, executor, address) from e
    return _result(st, study, summary)


# -- run / resume / stop -------------------------------------------------------------------------------
def run_sweep(
    path_or_spec: str | os.PathLike[str] | SweepSpec,
    *,
    store: str | None = None,
    name: str | None = None,
    trials: int | None = None,
    parallel: int | None = None,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    executor: str = "ray",
    address: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    artifact_root: str | None = None,
    start_early: bool = False,
) -> RunResult:
    """Run a sweep file to completion (or resume its study when it exists and nothing that decides what
    trials compute changed). Returns the study, how the run ended and the top-5 leaderboard.

    ``start_early``: join or start Ray in the background while the store is opened, so the first trial
    starts sooner (the CLI does; a run that fails before its first trial leaves that Ray up until the
    process exits)."""
    spec = path_or_spec if isinstance(path_or_spec, SweepSpec) else load_spec(path_or_spec, overrides)
    study_name = name or spec.name
    url = resolve_store_url(store)
    if start_early:  # Ray starts while the store is opened and the study recorded
        _prestart(executor, address, spec, url, artifact_root)
    with opened(url, create=True) as st:
        st.check_writable()
        try:
            study = st.get_study(study_name)
        except SweepNotFoundError:
            study = None
        if study is not None:
            _check_resume(study, spec, seed)
            spec = _recorded_strategy(spec, study)
            budget = (
                budget_trials(spec, trials)
                if trials is not None or spec.budget.trials
                else study.budget_trials
            )
            study = st.update_study(study.study_id, budget_trials=budget)
        else:
            _check_objectives(spec)  # before the study is created
            commit, dirty, diff_hash = git_info(spec.workdir)
            code = code_file(spec.trial, spec.workdir)
            spec = _resolve_auto(spec, trials)
            if spec.strategy.requested == "bayes" and spec.strategy.name == "tpe" and spec.strategy.reason:
                warnings.warn(spec.strategy.reason, stacklevel=2)  # W&B bayes without torch
            study_seed = seed if seed is not None else spec.seed
            if study_seed is None:
                study_seed = random.SystemRandom().randrange(2**31)
            try:
                study = st.create_study(
                    NewStudy(
                        name=study_name,
                        spec_text=spec.text,
                        spec_hash=spec.spec_hash,
                        spec_format=spec.format,
                        strategy=spec.strategy.name,
                        objective_metric=spec.objective.metric if spec.objective else None,
                        direction=spec.objective.direction if spec.objective else None,
                        directions=tuple(o.direction for o in spec.objectives),
                        budget_trials=budget_trials(spec, trials),
                        seed=study_seed,
                        workdir=spec.workdir,
                        spec_path=spec.file,
                        description=spec.description,
                        git_commit=commit,
                        git_dirty=dirty,
                        git_diff_hash=diff_hash,
                        launched_by=getpass.getuser(),
                        launched_host=socket.gethostname(),
                        code_hash=file_hash(code) if code else None,
                        data_hashes=hash_data(spec.trial.data, spec.workdir),
                    )
                )
            except StudyExistsError:  # another driver created it a moment ago
                study = st.get_study(study_name)
                spec = _recorded_strategy(spec, study)
        return _drive(st, spec, study, store, executor, address, parallel, False, on_progress, artifact_root)


def resume_sweep(
    name: str,
    *,
    store: str | None = None,
    trials: int | None = None,
    retry_failed: bool = False,
    parallel: int | None = None,
    executor: str = "ray",
    address: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    artifact_root: str | None = None,
    overrides: Sequence[str] = (),
) -> RunResult:
    """Continue a study until its budget is met, from what the store recorded. ``overrides``
    (``KEY=VALUE``) change keys that do not change what trials compute, for this run (e.g.
    ``budget.patience`` of a study that ended on patience); others are a ``ResumeConflictError``."""
    url = resolve_store_url(store)
    with opened(url, create=False) as st:
        st.check_writable()
        study = st.get_study(name)
        if not Path(study.workdir).is_dir():
            raise UsageError(
                f"study {name!r} ran from {study.workdir}, which no longer exists"
                + (f" (recorded git commit {study.git_commit})" if study.git_commit else "")
                + "; restore that folder to resume it"
            )
        spec = parse_spec(
            study.spec_text,
            file=study.spec_path,
            workdir=study.workdir,
            check_files=False,
            overrides=overrides,
        )
        if overrides:
            _check_resume(study, spec, None)
        spec = _recorded_strategy(spec, study)
        if trials is not None:
            study = st.update_study(study.study_id, budget_trials=trials)
        return _drive(
            st, spec, study, store, executor, address, parallel, retry_failed, on_progress, artifact_root
        )
