"""A small PyTorch MLP on scikit-learn's bundled digits (no download), trained epoch by epoch.

Each epoch is reported with ``hypersweep.report``, so the median pruner stops trials that fall behind.
It runs on the CPU, and on CUDA when the trial was given a GPU (``--set resources.gpus=1``).
torch is imported inside the trial, so ``hypersweep validate`` works without it installed
(``pip install 'hypersweep[examples]'`` brings it).
"""

from __future__ import annotations

import os
from typing import Any

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import hypersweep


def _device(torch: Any) -> Any:
    """CUDA when a GPU is visible and was assigned to this trial, else the CPU."""
    if not torch.cuda.is_available():
        return torch.device("cpu")
    try:
        import ray

        if ray.is_initialized():  # a Ray worker: Ray knows which GPUs this trial holds
            return torch.device("cuda" if ray.get_gpu_ids() else "cpu")
    except ImportError:
        pass
    return torch.device("cuda" if os.environ.get("CUDA_VISIBLE_DEVICES") else "cpu")


def train(params: dict) -> dict:
    import torch
    from torch import nn

    seed = hypersweep.seed_everything()  # random, NumPy and torch, with deterministic kernels
    torch.set_num_threads(1)  # one CPU per trial (resources.cpus): no oversubscription
    device = _device(torch)

    X, y = load_digits(return_X_y=True)
    X_tr, X_val, y_tr, y_val = train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y)
    X_tr, X_val = (torch.tensor(a, dtype=torch.float32, device=device) for a in (X_tr, X_val))
    y_tr, y_val = (torch.tensor(a, dtype=torch.long, device=device) for a in (y_tr, y_val))

    layers: list[nn.Module] = []
    width = X_tr.shape[1]
    for _ in range(params["layers"]):
        layers += [nn.Linear(width, params["hidden"]), nn.ReLU(), nn.Dropout(params["dropout"])]
        width = params["hidden"]
    model = nn.Sequential(*layers, nn.Linear(width, 10)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=params["lr"], weight_decay=params["weight_decay"])
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)

    val_loss = val_acc = float("nan")
    for epoch in range(params["epochs"]):
        model.train()
        order = torch.randperm(len(X_tr), generator=gen).to(device)
        for start in range(0, len(order), params["batch_size"]):
            idx = order[start : start + params["batch_size"]]
            opt.zero_grad()
            loss_fn(model(X_tr[idx]), y_tr[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            logits = model(X_val)
            val_loss = float(loss_fn(logits, y_val))
            val_acc = float((logits.argmax(1) == y_val).float().mean())
        hypersweep.report(epoch, val_loss=val_loss, val_accuracy=val_acc)  # raises Pruned when told to stop
    return {"val_loss": val_loss, "val_accuracy": val_acc}
