"""Deterministic trials for leaderboard tests: the metrics are a function of the params."""

import hypersweep


def score(params: dict) -> dict:
    x, kind = params["x"], params["kind"]
    out = {"acc": x / 10.0, "loss": 1.0 - x / 10.0}
    if kind == "b":
        out["extra"] = float(x)  # only some trials report `extra`: missing values sort last
    if x == 7:
        raise RuntimeError("seven is unlucky")
    if x == 2:
        hypersweep.report(0, acc=0.2)
        raise hypersweep.Pruned("pruned by hand")
    return out
