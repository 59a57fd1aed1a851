"""Control of a study's driver from elsewhere: ``stop_sweep`` and ``detach_sweep`` (the driver as a Ray job)."""

from __future__ import annotations

import os
import re
import socket
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from hypersweep.errors import UsageError
from hypersweep.records import StudyRecord
from hypersweep.spec import load_spec
from hypersweep.store import Store, opened, resolve_store_url

__all__ = ["StopOutcome", "detach_sweep", "stop_sweep"]

_PASSWORD_IN_QUERY = re.compile(r"(?i)[?&](?:password|sslpassword)=")


def _refuse_password(url: str) -> None:
    """``--detach`` never sends a password to the cluster: Ray shows a job's entrypoint and runtime env
    (and keeps its working directory) where anyone who reaches the dashboard reads them."""
    from hypersweep.store import mask_url

    head = url.partition("://")[2].partition("?")[0].partition("/")[0]
    userinfo = head.rpartition("@")[0] if "@" in head else ""
    if ":" in userinfo or _PASSWORD_IN_QUERY.search(url):
        raise UsageError(
            f"--detach refuses a store URL with a password in it ({mask_url(url)}): the driver's job, "
            "its command and environment are shown by Ray's dashboard, `ray job list` and its logs, so "
            "the password would travel in plain text. Leave it out of the URL "
            "(postgresql+psycopg://USER@HOST/DB) and give it to the cluster's nodes by PostgreSQL's own "
            "means: a passfile (~/.pgpass, or PGPASSFILE in the environment `ray start` runs with), a "
            "service file (--store 'postgresql+psycopg:///?service=NAME' with PGSERVICEFILE), or "
            "PGPASSWORD set on the nodes. This machine needs the same to check the store. "
            "See docs/security.md."
        )


@dataclass(frozen=True)
class StopOutcome:
    """What ``stop_sweep`` did: ``asked`` is False when no live driver held the study (nothing was
    recorded, so a later ``resume`` is not stopped by it); ``message`` says so in words."""

    study: StudyRecord
    asked: bool
    message: str


def stop_sweep(name: str, *, store: str | Store | None = None) -> StopOutcome:
    """Ask the study's driver to stop starting trials; running ones finish, then it exits. With no live
    driver nothing is recorded. The next run that takes the lease clears the request."""
    with opened(store) as st:
        study = st.get_study(name)
        lease = st.get_lease(study.study_id)
        if lease is None or lease.expired:
            return StopOutcome(
                study, False, f"study {name!r} has no live driver: nothing to stop (nothing recorded)"
            )
        study = st.update_study(study.study_id, stop_requested=True)
        return StopOutcome(
            study,
            True,
            f"asked the driver of {name!r} (pid {lease.pid} on {lease.host}) to stop; "
            "running trials finish first",
        )


def detach_sweep(
    path: str | os.PathLike[str],
    *,
    address: str,
    store: str | None = None,
    name: str | None = None,
    trials: int | None = None,
    parallel: int | None = None,
    seed: int | None = None,
    overrides: Sequence[str] = (),
) -> dict[str, str]:
    """Start the sweep's driver on the Ray cluster at ``address`` as a Ray job, so this machine can sleep.
    Needs a server store the cluster can reach; ``studies``, ``leaderboard`` and ``stop`` follow it."""
    from hypersweep.executors._jobs import submit_driver
    from hypersweep.store import mask_url

    url = resolve_store_url(store)
    if url.startswith("sqlite"):
        raise UsageError(
            "--detach needs a server store (PostgreSQL) that the cluster can reach; "
            "pass --store postgresql+psycopg://USER@HOST/DB (the password in a passfile, see "
            "docs/security.md) or set HYPERSWEEP_STORE"
        )
    _refuse_password(url)
    spec = load_spec(path, overrides)  # validate here, before anything is submitted
    with opened(url, create=True) as st:
        st.check_writable()
    # the cluster's Python runs the driver: this interpreter when the cluster is this machine
    from hypersweep.executors._jobs import dashboard_url

    host = dashboard_url(address).split("://", 1)[1].rsplit(":", 1)[0]
    local = host in ("127.0.0.1", "localhost", socket.gethostname())
    python = os.environ.get("HYPERSWEEP_DETACH_PYTHON") or (sys.executable if local else "python")
    argv = [python, "-m", "hypersweep.cli", "run", os.path.basename(spec.file or str(path)), "--quiet"]
    argv += ["--store", url]  # no password in it (refused above); the nodes supply it
    for flag, value in (("--name", name), ("--trials", trials), ("--parallel", parallel), ("--seed", seed)):
        if value is not None:
            argv += [flag, str(value)]
    for o in overrides:
        argv += ["--set", o]
    study = name or spec.name
    job = submit_driver(
        address, spec.workdir, argv, submission_id=f"hypersweep-{study}-{uuid.uuid4().hex[:8]}"
    )
    return {"study": study, "job_id": job, "store": mask_url(url)}
