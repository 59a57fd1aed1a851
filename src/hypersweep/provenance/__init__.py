"""Provenance: the environment a trial ran in, and the identity of its code and data."""

from __future__ import annotations

from hypersweep.provenance._environment import (
    ML_PACKAGES,
    capture_environment,
    environment_hash,
    trial_placement,
)
from hypersweep.provenance._identity import code_file, file_hash, git_info, hash_data, spec_file_hash

__all__ = [
    "ML_PACKAGES",
    "capture_environment",
    "code_file",
    "environment_hash",
    "file_hash",
    "git_info",
    "hash_data",
    "spec_file_hash",
    "trial_placement",
]
