"""`run --detach` never sends the store password to the cluster (docs/security.md)."""

from __future__ import annotations

import json

import pytest

from hypersweep.errors import UsageError
from hypersweep.executors._jobs import driver_job
from hypersweep.orchestrate import detach_sweep


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://hs:s3cret@db.example:5432/hs",
        "postgresql://hs:s3cret@db.example/hs",
        "postgresql+psycopg://hs@db.example/hs?password=s3cret",
        "postgresql+psycopg:///?service=hs&sslpassword=s3cret",
    ],
)
def test_detach_with_a_password_in_the_url_is_refused_with_the_way_to_do_it(url, tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text("not even read")
    monkeypatch.setenv("HYPERSWEEP_STORE", url)
    for store in (url, None):  # given with --store or through HYPERSWEEP_STORE
        with pytest.raises(UsageError) as err:
            detach_sweep(tmp_path / "s.yaml", address="127.0.0.1:1", store=store)
        msg = str(err.value)
        assert "s3cret" not in msg
        assert (
            "passfile" in msg and "PGPASSFILE" in msg and "service=NAME" in msg and "docs/security.md" in msg
        )


def test_the_driver_job_carries_the_working_dir_and_no_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "s3cret")
    monkeypatch.setenv("HYPERSWEEP_STORE", "postgresql+psycopg://hs:s3cret@db/hs")
    (tmp_path / "train.py").write_text("")
    argv = ["python", "-m", "hypersweep.cli", "run", "s.yaml", "--store", "postgresql+psycopg://hs@db/hs"]
    job = driver_job(str(tmp_path), argv, "hypersweep-x-1")
    assert set(job) == {"entrypoint", "submission_id", "runtime_env"}
    assert set(job["runtime_env"]) == {"working_dir", "excludes"}
    assert job["runtime_env"]["working_dir"] == str(tmp_path.resolve())
    assert "s3cret" not in json.dumps(job)
    assert job["entrypoint"].endswith("--store postgresql+psycopg://hs@db/hs")
