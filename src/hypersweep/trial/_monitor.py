"""System metrics of a running trial, sampled in the worker by a background thread.

Every ``interval`` seconds: CPU percent and RSS of the trial's process tree (RSS as measured and its
rise since the trial started, since Ray reuses workers), host memory, and per assigned GPU the
utilisation, memory used/total, power and temperature (pynvml when installed, else ``nvidia-smi``;
without GPUs those series are absent). Points go out with the trial's other reports under the reserved
``sys/`` prefix; ``stop()`` returns the per-trial summary (peak RSS, mean CPU, mean GPU utilisation,
GPU-hours) as final metrics.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence

import psutil

__all__ = ["SystemMonitor", "gpu_samples"]

_MB = 1024 * 1024
Point = tuple[str, int, float]


def _nvml_samples(indices: Sequence[int]) -> list[dict[str, float]] | None:
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        out = []
        for i in indices:
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            util = pynvml.nvmlDeviceGetUtilizationRates(h)
            mem = pynvml.nvmlDeviceGetMemoryInfo(h)
            sample = {"util": float(util.gpu), "mem_used_mb": mem.used / _MB, "mem_total_mb": mem.total / _MB}
            try:
                sample["power_w"] = pynvml.nvmlDeviceGetPowerUsage(h) / 1000.0
                sample["temp_c"] = float(pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU))
            except pynvml.NVMLError:
                pass
            out.append(sample)
        return out
    except pynvml.NVMLError:
        return None


def _smi_samples(indices: Sequence[int]) -> list[dict[str, float]] | None:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    fields = "index,utilization.gpu,memory.used,memory.total,power.draw,temperature.gpu"
    try:
        out = subprocess.run(
            [exe, f"--query-gpu={fields}", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    rows: dict[int, dict[str, float]] = {}
    for line in out.stdout.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 6:
            continue

        def num(s: str) -> float | None:
            try:
                return float(s)
            except ValueError:
                return None  # "[N/A]"

        idx = int(parts[0])
        values = dict(
            zip(
                ("util", "mem_used_mb", "mem_total_mb", "power_w", "temp_c"), map(num, parts[1:]), strict=True
            )
        )
        rows[idx] = {k: v for k, v in values.items() if v is not None}
    return [rows[i] for i in indices if i in rows]


def gpu_samples(indices: Sequence[int]) -> list[dict[str, float]]:
    """One sample per GPU index: pynvml when present, else nvidia-smi; empty without GPUs."""
    if not indices:
        return []
    return _nvml_samples(indices) or _smi_samples(indices) or []


class SystemMonitor:
    """Samples a process tree every ``interval_s`` seconds in a daemon thread."""

    def __init__(
        self,
        root_pid: int | Callable[[], int | None],
        interval_s: float,
        gpu_indices: Sequence[int],
        emit: Callable[[list[Point]], None],
    ) -> None:
        self._root = root_pid
        self.interval_s = interval_s
        self.gpus = list(gpu_indices)
        self._emit = emit
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_rss: float | None = None
        self._peak_rss = 0.0
        self._cpu: list[float] = []
        self._gpu_util: dict[int, list[float]] = {}
        self._step = 0
        self._t0 = time.monotonic()
        self._last: tuple[float, float] | None = None  # (wall, cpu seconds)
        self._procs: dict[int, psutil.Process] = {}
        self.cost_s = 0.0  # CPU time spent sampling, for the overhead measurement

    def _pid(self) -> int | None:
        return self._root() if callable(self._root) else self._root

    def _tree(self) -> list[psutil.Process]:
        pid = self._pid()
        if pid is None:
            return []
        try:
            root = self._procs.get(pid) or psutil.Process(pid)
            self._procs[pid] = root
            procs = [root]
            for child in root.children(recursive=True):
                procs.append(self._procs.setdefault(child.pid, child))
            return procs
        except psutil.Error:
            return []

    def _rss_and_cpu(self, procs: list[psutil.Process] | None = None) -> tuple[float, float]:
        rss = cpu = 0.0
        for p in self._tree() if procs is None else procs:
            try:
                with p.oneshot():
                    rss += p.memory_info().rss
                    t = p.cpu_times()
                    cpu += t.user + t.system
            except psutil.Error:
                continue
        return rss / _MB, cpu

    def start(self) -> SystemMonitor:
        # baseline from the root process alone: cheap, so short trials pay almost nothing
        pid = self._pid()
        try:
            root = self._procs.get(pid) or psutil.Process(pid) if pid is not None else None
            if root is not None:
                self._procs[root.pid] = root
                t = root.cpu_times()
                self._start_rss = root.memory_info().rss / _MB
                self._last = (time.monotonic(), t.user + t.system)
        except psutil.Error:
            self._start_rss = None
        self._thread = threading.Thread(target=self._loop, name="hypersweep-monitor", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def sample(self) -> None:
        c0 = time.thread_time()
        procs = self._tree()
        if not procs:  # the process tree is gone (a command trial that ended)
            return
        rss, cpu = self._rss_and_cpu(procs)
        now = time.monotonic()
        points: list[Point] = []
        step = self._step
        self._step += 1
        if self._last is not None and now > self._last[0]:
            pct = 100.0 * max(cpu - self._last[1], 0.0) / (now - self._last[0])
            self._cpu.append(pct)
            points.append(("sys/cpu_percent", step, pct))
        self._last = (now, cpu)
        self._peak_rss = max(self._peak_rss, rss)
        points.append(("sys/rss_mb", step, rss))
        points.append(("sys/rss_rise_mb", step, rss - (self._start_rss or 0.0)))
        points.append(("sys/host_mem_percent", step, float(psutil.virtual_memory().percent)))
        for i, g in zip(self.gpus, gpu_samples(self.gpus), strict=False):
            for k, v in g.items():
                points.append((f"sys/gpu{i}/{k}", step, v))
            if "util" in g:
                self._gpu_util.setdefault(i, []).append(g["util"])
        self.cost_s += time.thread_time() - c0
        self._emit(points)

    def stop(self) -> dict[str, float]:
        """Stop sampling; the per-trial summary as final metrics."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 1)
        elapsed = time.monotonic() - self._t0
        if self._step == 0 and elapsed > 0.2:
            self.sample()  # a short trial still gets one sample
        if self._step == 0:
            return {}
        out = {
            "sys/peak_rss_mb": self._peak_rss,
            "sys/rss_rise_mb": self._peak_rss - (self._start_rss or 0.0),
        }
        if self._cpu:
            out["sys/cpu_percent_mean"] = sum(self._cpu) / len(self._cpu)
        for i, utils in self._gpu_util.items():
            out[f"sys/gpu{i}/util_mean"] = sum(utils) / len(utils)
        if self.gpus:
            out["sys/gpu_hours"] = len(self.gpus) * elapsed / 3600.0
        return out
