"""A trial that holds 200 MB for a few seconds, so the system monitor sees it."""

import time

import numpy as np


def hold(params: dict) -> dict:
    block = np.ones(200 * 1024 * 1024 // 8)  # 200 MB, touched
    time.sleep(params.get("hold", 3.0))
    return {"loss": float(block[0])}
