"""``seed_everything``: seed Python's ``random``, NumPy and, when installed, PyTorch."""

from __future__ import annotations

import importlib.util
import os
import random

__all__ = ["seed_everything"]


def seed_everything(seed: int | None = None, *, deterministic: bool = True) -> int:
    """Seed every RNG a trial is likely to use and return the seed.

    ``seed`` defaults to the running trial's seed (``hypersweep.trial_seed()``), else 0. Seeds Python's
    ``random``, ``PYTHONHASHSEED`` for child processes, NumPy's global RNG, and PyTorch when it is
    installed (CPU and all CUDA devices). With ``deterministic`` (the default) it also asks PyTorch for
    deterministic kernels: ``torch.use_deterministic_algorithms(True, warn_only=True)``,
    ``torch.backends.cudnn.deterministic = True``, ``torch.backends.cudnn.benchmark = False`` and
    ``CUBLAS_WORKSPACE_CONFIG=:4096:8``. Some GPU kernels have no deterministic version; PyTorch warns
    about them, and their results may still differ between runs.
    """
    if seed is None:
        from hypersweep.trial._context import _CURRENT

        ctx = _CURRENT.get()
        seed = ctx.info.seed if ctx is not None else int(os.environ.get("HYPERSWEEP_SEED", "0"))
    seed = int(seed) & 0xFFFFFFFF
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if importlib.util.find_spec("numpy") is not None:
        import numpy as np

        np.random.seed(seed)
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
        if deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
    return seed
