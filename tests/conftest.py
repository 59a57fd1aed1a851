"""Shared fixtures: one local Ray per test session, temp stores, the PostgreSQL URL."""

from __future__ import annotations

import os

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# hypothesis profiles, for every fuzz test (tests/fuzz/): `ci` (derandomized, modest, no deadline) when $CI is
# set, `dev` otherwise; HYPOTHESIS_PROFILE=name picks another one
settings.register_profile("ci", derandomize=True, max_examples=40, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("long", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray cluster for the whole session (2 CPUs, as on CI)."""
    import ray

    if not ray.is_initialized():
        # address="local": always a fresh cluster of our own, never one a `ray start` left behind
        ray.init(
            address="local", num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False
        )
    yield ray
    ray.shutdown()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'store.db'}"


# hypothesis in CI: derandomized, a small fixed number of examples, no deadline (a loaded runner is slow)
try:
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # hypothesis is in the `test` extra
    pass
else:
    _hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, max_examples=50)
    if os.environ.get("CI"):
        _hypothesis_settings.load_profile("ci")
