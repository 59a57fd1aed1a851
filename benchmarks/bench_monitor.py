"""Cost of the system-metrics sampler: CPU time per sample, as a share of one core at the default interval."""

from __future__ import annotations

import os
import time

from hypersweep.trial._monitor import SystemMonitor


def run(quick: bool = False) -> dict:
    seconds = 2.0 if quick else 10.0
    interval = 0.05
    points: list = []
    mon = SystemMonitor(os.getpid(), interval, [], points.extend).start()
    time.sleep(seconds)
    mon.stop()
    samples = len([p for p in points if p[0] == "sys/rss_mb"])
    per_sample_ms = 1000 * mon.cost_s / max(samples, 1)
    return {
        "samples": samples,
        "per_sample_ms": per_sample_ms,
        "core_share_at_2s_percent": per_sample_ms / 1000 / 2.0 * 100,
        "core_share_at_1s_percent": per_sample_ms / 1000 / 1.0 * 100,
    }


def render(results: dict) -> str:
    r = results
    return "\n".join(
        [
            "## System-metrics sampler cost",
            "",
            "CPU time the sampler thread spends per sample (process tree CPU and RSS, host memory; no GPU here),",
            "and the share of one core that costs at the default 2 s interval (target: under 1%).",
            "",
            "| samples | ms per sample | share of a core at 2 s | at 1 s |",
            "|---:|---:|---:|---:|",
            f"| {r['samples']} | {r['per_sample_ms']:.3f} | {r['core_share_at_2s_percent']:.3f}% "
            f"| {r['core_share_at_1s_percent']:.3f}% |",
            "",
        ]
    )
