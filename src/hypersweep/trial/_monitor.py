"""System metrics of a running trial, sampled in the worker by a background thread.

Every ``interval`` seconds: CPU percent and RSS of the trial's process tree (RSS as measured and its
rise since the trial started, since Ray reuses workers), host memory, and per assigned GPU the
utilisation, memory used/total, power and temperature (pynvml when installed, else ``nvidia-smi``;
without GPUs those series are absent). Points go out with the trial's other reports under the reserved
``sys/`` prefix; ``stop()`` returns the per-trial summary (peak RSS, mean CPU, mean GPU utilisation,
GPU-hours) as final metrics.
"""

from __future__ import annotations

import os
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


_PROCS: dict[int, psutil.Process] = {}  # psutil handles reused across trials (Ray reuses workers)


def _process(pid: int) -> psutil.Process:
    proc = _PROCS.get(pid)
    if proc is None:
        proc = _PROCS[pid] = psutil.Process(pid)
    return proc


class _Sampler:
    """One daemon thread per process samples every active monitor when it is due, so a trial costs
    no thread start and stop of its own."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active: dict[int, SystemMonitor] = {}
        self._thread: threading.Thread | None = None

    def add(self, mon: SystemMonitor) -> None:
        with self._cond:
            self._active[id(mon)] = mon
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="hypersweep-monitor", daemon=True)
                self._thread.start()
            self._cond.notify()

    def remove(self, mon: SystemMonitor) -> None:
        with self._cond:
            self._active.pop(id(mon), None)
        with mon.sampling:  # a sample in progress finishes before the summary is taken
            pass

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._active:
                    self._cond.wait()
                now = time.monotonic()
                due = [m for m in self._active.values() if m.next_due <= now]
                wait = min(m.next_due for m in self._active.values()) - now
                if not due:
                    self._cond.wait(timeout=max(wait, 0.01))
                    continue
            for m in due:
                m.next_due = time.monotonic() + m.interval_s
                with m.sampling:
                    if id(m) in self._active:
                        m.sample()


_SAMPLER = _Sampler()


class SystemMonitor:
    """Samples a trial's process tree every ``interval_s`` seconds (on the process's sampler thread)."""

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
        self._start_rss: float | None = None
        self._peak_rss = 0.0
        self._cpu: list[float] = []
        self._gpu_util: dict[int, list[float]] = {}
        self._step = 0
        self._t0 = time.monotonic()
        self._last: tuple[float, float] | None = None  # (wall, cpu seconds)
        self.next_due = self._t0 + interval_s
        self.sampling = threading.Lock()
        self.cost_s = 0.0  # CPU time spent sampling, for the overhead measurement

    def _pid(self) -> int | None:
        return self._root() if callable(self._root) else self._root

    def _tree(self) -> list[psutil.Process]:
        pid = self._pid()
        if pid is None:
            return []
        try:
            root = _process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def _rss_and_cpu(self, procs: list[psutil.Process]) -> tuple[float, float]:
        rss = cpu = 0.0
        for p in procs:
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
        if pid is not None:
            try:
                root = _process(pid)
                self._start_rss = root.memory_info().rss / _MB
                if pid == os.getpid():
                    cpu = time.process_time()  # a system call, no /proc read
                else:
                    t = root.cpu_times()
                    cpu = t.user + t.system
                self._last = (time.monotonic(), cpu)
            except psutil.Error:
                self._start_rss = None
        _SAMPLER.add(self)
        return self

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
        _SAMPLER.remove(self)
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
