"""What a trial ran on: :func:`capture_environment` and :func:`trial_placement`.

The *environment* is what many trials share -- interpreter, OS and kernel, CPU model and count, GPU
models, driver and CUDA version, installed packages -- captured once per worker process (cached) and
deduplicated in the store by its sha256 ``hash`` over every field. Where one trial ran (host, GPU ids)
changes per trial and comes from :func:`trial_placement`; the git commit belongs to the study and is
taken by the driver.

Standard library only (plus ``pynvml`` when installed). GPUs are found through
``pynvml``, else ``nvidia-smi`` run as an argv list with a timeout; a machine without GPUs gets an empty
``gpus``, never an error. The first capture takes well under 300 ms; later calls return the cached record.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
from typing import Any

from hypersweep.records import EnvironmentRecord

__all__ = ["ML_PACKAGES", "capture_environment", "environment_hash", "trial_placement"]

ML_PACKAGES: tuple[str, ...] = (
    "torch",
    "torchvision",
    "tensorflow",
    "keras",
    "jax",
    "jaxlib",
    "scikit-learn",
    "numpy",
    "pandas",
    "scipy",
    "optuna",
    "ray",
    "xgboost",
    "lightgbm",
    "catboost",
    "transformers",
    "lightning",
    "pytorch-lightning",
    "hypersweep",
)
"""Distribution names (normalised) reported in ``EnvironmentRecord.ml_packages`` when installed."""

_NVIDIA_SMI_TIMEOUT_S = 5.0


def _normalise(name: str) -> str:
    """PEP 503 name normalisation: ``Scikit_Learn`` -> ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _read_name_version(meta: str) -> tuple[str | None, str | None]:
    """``Name`` and ``Version`` from the head of a METADATA/PKG-INFO file (no full RFC 822 parse:
    ``importlib.metadata``'s parser costs ~2 ms a package)."""
    name = version = None
    try:
        with open(meta, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    break  # end of the headers
                if line.startswith("Name:"):
                    name = line[5:].strip()
                elif line.startswith("Version:"):
                    version = line[8:].strip()
                if name and version:
                    break
    except OSError:
        return None, None
    return name, version


def _installed_packages() -> dict[str, str]:
    """Every installed distribution on ``sys.path``, name -> version (the first one found wins, as
    imports do)."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            items = sorted(os.scandir(entry or "."), key=lambda d: d.name)
        except OSError:
            continue
        for item in items:
            if item.name.endswith(".dist-info"):
                meta = os.path.join(item.path, "METADATA")
            elif item.name.endswith(".egg-info"):
                meta = os.path.join(item.path, "PKG-INFO") if item.is_dir() else item.path
            else:
                continue
            name, version = _read_name_version(meta)
            if name:
                found.setdefault(_normalise(name), version or "")
    return dict(sorted(found.items()))


def _os_name() -> str:
    system = platform.system()
    if system == "Linux":
        try:
            info = platform.freedesktop_os_release()
        except OSError:
            return "Linux"
        return info.get("PRETTY_NAME") or info.get("NAME") or "Linux"
    if system == "Darwin":
        return f"macOS {platform.mac_ver()[0]}".strip()
    if system == "Windows":
        return f"Windows {platform.release()} ({platform.version()})"
    return system or "unknown"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "cpu model", "Processor"):
                    return value.strip()
    except OSError:
        pass
    if platform.system() == "Darwin":
        out = _run(["sysctl", "-n", "machdep.cpu.brand_string"])
        if out:
            return out.strip()
    return platform.processor() or platform.machine() or "unknown"


def _run(argv: list[str]) -> str | None:
    """stdout of ``argv``, or None when it is missing, fails or times out."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=_NVIDIA_SMI_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _gpus_pynvml() -> tuple[list[dict[str, Any]], str | None, str | None] | None:
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - pynvml raises NVMLError for "no driver"; fall back to nvidia-smi
        return None
    try:
        driver = pynvml.nvmlSystemGetDriverVersion()
        cuda_int = pynvml.nvmlSystemGetCudaDriverVersion_v2()
        gpus = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle).total // (1024 * 1024)
            gpus.append(
                {
                    "index": i,
                    "name": name.decode() if isinstance(name, bytes) else str(name),
                    "memory_mb": int(memory),
                }
            )
    except Exception:  # noqa: BLE001 - any NVML failure means "ask nvidia-smi instead"
        return None
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:  # noqa: BLE001
            pass
    driver_s = driver.decode() if isinstance(driver, bytes) else str(driver)
    cuda = f"{cuda_int // 1000}.{(cuda_int % 1000) // 10}" if cuda_int else None
    return gpus, driver_s, cuda


def _gpus_nvidia_smi() -> tuple[list[dict[str, Any]], str | None, str | None]:
    out = _run(
        ["nvidia-smi", "--query-gpu=index,name,memory.total,driver_version", "--format=csv,noheader,nounits"]
    )
    if not out:
        return [], None, None
    gpus: list[dict[str, Any]] = []
    driver = None
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 4:
            continue
        try:
            gpus.append({"index": int(parts[0]), "name": parts[1], "memory_mb": int(float(parts[2]))})
        except ValueError:
            continue
        driver = parts[3]
    cuda = None
    banner = _run(["nvidia-smi"])
    if banner:
        m = re.search(r"CUDA Version:\s*([0-9.]+)", banner)
        cuda = m.group(1) if m else None
    return gpus, driver, cuda


def _gpus() -> tuple[list[dict[str, Any]], str | None, str | None]:
    """(gpus, driver version, CUDA version); empty on a machine without NVIDIA GPUs."""
    return _gpus_pynvml() or _gpus_nvidia_smi()


def _hash(fields: dict[str, Any]) -> str:
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@functools.cache
def capture_environment() -> EnvironmentRecord:
    """This process's environment (captured once, then cached for the life of the process)."""
    packages = _installed_packages()
    gpus, driver, cuda = _gpus()
    fields: dict[str, Any] = {
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "os": _os_name(),
        "kernel": f"{platform.system()} {platform.release()} {platform.machine()}".strip(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count() or 1,
        "ml_packages": {name: packages[name] for name in ML_PACKAGES if name in packages},
        "packages": packages,
        "gpus": gpus,
        "gpu_driver": driver,
        "cuda_version": cuda,
    }
    return EnvironmentRecord(
        hash=_hash(fields),
        python_version=fields["python_version"],
        python_implementation=fields["python_implementation"],
        os=fields["os"],
        kernel=fields["kernel"],
        cpu_model=fields["cpu_model"],
        cpu_count=fields["cpu_count"],
        ml_packages=fields["ml_packages"],
        packages=packages,
        gpus=tuple(gpus),
        gpu_driver=driver,
        cuda_version=cuda,
    )


def environment_hash(env: EnvironmentRecord) -> str:
    """Recompute the hash of ``env``'s fields (equals ``env.hash`` for a captured record)."""
    return _hash(
        {
            "python_version": env.python_version,
            "python_implementation": env.python_implementation,
            "os": env.os,
            "kernel": env.kernel,
            "cpu_model": env.cpu_model,
            "cpu_count": env.cpu_count,
            "ml_packages": dict(env.ml_packages),
            "packages": dict(env.packages),
            "gpus": [dict(g) for g in env.gpus],
            "gpu_driver": env.gpu_driver,
            "cuda_version": env.cuda_version,
        }
    )


def trial_placement() -> dict[str, Any]:
    """Where this trial runs: ``hostname``, raw ``cuda_visible_devices`` (None when unset) and the parsed
    ``gpu_ids`` (a tuple of strings, empty when unset or ``""``)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    gpu_ids = tuple(g.strip() for g in visible.split(",") if g.strip()) if visible else ()
    return {"hostname": socket.gethostname(), "cuda_visible_devices": visible, "gpu_ids": gpu_ids}


if __name__ == "__main__":  # pragma: no cover - a debugging aid: python -m hypersweep.provenance._environment
    json.dump(capture_environment().summary(), sys.stdout, indent=2)
    sys.stdout.write("\n")
