"""capture_environment(): complete, cached, fast; trial_placement(): host and visible GPUs."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
import time

import pytest

from hypersweep.provenance import _environment as environment
from hypersweep.provenance import capture_environment, environment_hash, trial_placement


def test_fields() -> None:
    env = capture_environment()
    assert env.python_version == platform.python_version()
    assert env.python_implementation == platform.python_implementation()
    assert env.os and env.kernel and env.cpu_model
    assert env.cpu_count == (os.cpu_count() or 1)
    assert env.packages["numpy"] == importlib.metadata.version("numpy")
    assert env.ml_packages["scikit-learn"] == importlib.metadata.version("scikit-learn")
    assert "hypersweep" in env.ml_packages and "sqlalchemy" not in env.ml_packages
    assert len(env.hash) == 64 and env.hash == environment_hash(env)
    assert isinstance(env.gpus, tuple)


def test_packages_match_importlib_metadata() -> None:
    expected: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        expected.setdefault(environment._normalise(dist.metadata["Name"]), dist.version)
    assert dict(capture_environment().packages) == expected


def test_cached_per_process() -> None:
    first = capture_environment()
    t = time.perf_counter()
    assert capture_environment() is first
    assert time.perf_counter() - t < 0.001


def test_first_capture_is_fast() -> None:
    code = (
        "import time; from hypersweep.provenance import capture_environment as c;"
        "t = time.perf_counter(); c(); print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) < 0.3


def test_hash_changes_with_any_field() -> None:
    env = capture_environment()
    other = type(env)(**{**env.__dict__, "packages": {**env.packages, "zz-extra": "1.0"}})
    assert environment_hash(other) != env.hash


def test_no_gpu_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(environment, "_gpus_pynvml", lambda: None)
    monkeypatch.setattr(environment.shutil, "which", lambda name: None)
    assert environment._gpus() == ([], None, None)


def test_nvidia_smi_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = {
        "--query-gpu=index,name,memory.total,driver_version": "0, NVIDIA H100 80GB HBM3, 81559, 550.54.15\n"
        "1, NVIDIA H100 80GB HBM3, 81559, 550.54.15\n",
        "": "| NVIDIA-SMI 550.54.15   Driver Version: 550.54.15   CUDA Version: 12.4 |",
    }
    monkeypatch.setattr(environment, "_gpus_pynvml", lambda: None)
    monkeypatch.setattr(environment, "_run", lambda argv: outputs["" if len(argv) == 1 else argv[1]])
    gpus, driver, cuda = environment._gpus()
    assert gpus == [
        {"index": 0, "name": "NVIDIA H100 80GB HBM3", "memory_mb": 81559},
        {"index": 1, "name": "NVIDIA H100 80GB HBM3", "memory_mb": 81559},
    ]
    assert (driver, cuda) == ("550.54.15", "12.4")


def test_run_survives_missing_and_hanging_programs(monkeypatch: pytest.MonkeyPatch) -> None:
    assert environment._run(["definitely-not-a-program-xyz"]) is None
    monkeypatch.setattr(environment, "_NVIDIA_SMI_TIMEOUT_S", 0.1)
    assert environment._run(["sleep", "5"]) is None


def test_trial_placement(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 3")
    p = trial_placement()
    assert p["hostname"] and p["cuda_visible_devices"] == "2, 3" and p["gpu_ids"] == ("2", "3")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert trial_placement()["gpu_ids"] == ()
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert trial_placement()["cuda_visible_devices"] is None
