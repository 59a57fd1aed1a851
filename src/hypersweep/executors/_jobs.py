"""``run --detach``: the driver itself runs on the Ray cluster as a Ray job (Ray's job submission API)."""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

from hypersweep.errors import ExecutorError, UsageError
from hypersweep.executors._shipping import working_dir_env

__all__ = ["dashboard_url", "driver_job", "submit_driver"]


def dashboard_url(address: str) -> str:
    """The job API's HTTP address for a cluster address: ``http://...`` as given, else the address's host
    on the dashboard port (``RAY_DASHBOARD_PORT``, default 8265); ``RAY_DASHBOARD_ADDRESS`` overrides."""
    if os.environ.get("RAY_DASHBOARD_ADDRESS"):
        return os.environ["RAY_DASHBOARD_ADDRESS"]
    if address.startswith(("http://", "https://")):
        return address
    host = urlparse(address if "://" in address else f"ray://{address}").hostname
    if not host:
        raise UsageError(
            f"cannot tell the Ray dashboard's host from --address {address!r}; "
            "pass --address http://HOST:8265"
        )
    return f"http://{host}:{os.environ.get('RAY_DASHBOARD_PORT', '8265')}"


def driver_job(working_dir: str, argv: Sequence[str], submission_id: str) -> dict[str, Any]:
    """The keyword arguments of Ray's ``submit_job`` for ``argv``: its entrypoint and a runtime env that
    holds the working directory (less what is never shipped, docs/security.md) and nothing else. No
    environment variable travels: Ray shows a job's entrypoint and runtime env to anyone who reaches its
    dashboard, so the caller must put no secret in ``argv``."""
    env = working_dir_env(working_dir)
    return {
        "entrypoint": shlex.join(argv),  # Ray runs entrypoints through a shell: every item is quoted
        "submission_id": submission_id,
        "runtime_env": env,
    }


def submit_driver(address: str, working_dir: str, argv: Sequence[str], submission_id: str) -> str:
    """Submit ``argv`` (a hypersweep command) as a Ray job running in a copy of ``working_dir``."""
    job = driver_job(working_dir, argv, submission_id)
    try:
        from ray.job_submission import JobSubmissionClient
    except ImportError as e:  # ray[default] is a dependency; a slimmed install may lack it
        raise ExecutorError("run --detach needs Ray's job submission API: pip install 'ray[default]'") from e
    url = dashboard_url(address)
    try:
        client = JobSubmissionClient(url)
        return str(client.submit_job(**job))
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise ExecutorError(f"could not submit the driver as a Ray job to {url}: {e}") from e
