"""GPU and accelerator tags on a simulated cluster (no real GPUs): its own process, its own Ray."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(r"""
    import json, os, sys
    os.environ["RAY_AUTH_MODE"] = "disabled"
    import ray
    from ray.cluster_utils import Cluster
    from hypersweep.orchestrate import run_sweep
    from hypersweep.store import opened

    folder, url = sys.argv[1], sys.argv[2]
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
    gpu_node = cluster.add_node(num_cpus=8, num_gpus=2, resources={"accelerator_type:A100": 1})
    ray.init(address=cluster.address)
    cluster.wait_for_nodes()
    out = {"gpu_node": gpu_node.node_id}
    for name, gpus, n in (("whole", 1, 4), ("half", 0.5, 8)):
        path = os.path.join(folder, name + ".yaml")
        with open(path, "w") as f:
            f.write(f'''
    name: {name}
    objective: {{metric: loss, goal: minimize}}
    strategy: grid
    budget: {{parallel: 8}}
    trial: {{function: "fns:gpu_probe"}}
    resources: {{cpus: 1, gpus: {gpus}, accelerator_type: A100}}
    parameters:
      x: {{type: int, low: 1, high: {n}, step: 1}}
    ''')
        run_sweep(path, store=url)
        with opened(url) as st:
            study = st.get_study(name)
            out[name] = [
                {"node": t.ray_node_id, "gpus": list(t.gpu_ids), "start": t.started_at.timestamp(),
                 "end": t.finished_at.timestamp(), "n_visible": t.metrics["n_visible"]}
                for t in st.get_trials(study.study_id)
            ]
    print("RESULT " + json.dumps(out))
    ray.shutdown()
    cluster.shutdown()
""")


def _max_overlap(rows):
    events = sorted(
        [(r["start"], 1) for r in rows] + [(r["end"], -1) for r in rows], key=lambda e: (e[0], e[1])
    )
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


@pytest.mark.slow
def test_gpu_trials_land_only_on_the_gpu_node_and_pack_by_fraction(tmp_path):
    import shutil
    from pathlib import Path

    shutil.copy(Path(__file__).parent / "trials" / "fns.py", tmp_path / "fns.py")
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    env = dict(os.environ, RAY_AUTH_MODE="disabled")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), url],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(line[len("RESULT ") :])
    whole, half = out["whole"], out["half"]
    assert {r["node"] for r in whole + half} == {out["gpu_node"]}
    # gpus: 1 -> each trial sees exactly one GPU, at most two at once
    assert all(len(r["gpus"]) == 1 and r["n_visible"] == 1 for r in whole)
    assert _max_overlap(whole) <= 2
    # gpus: 0.5 -> four at once on 2 GPUs
    assert _max_overlap(half) <= 4
    assert _max_overlap(half) >= 3
