"""Environments by hash, owned by one run (an engine, a ``reproduce``), not by the module."""

from __future__ import annotations

import uuid

from hypersweep.records import EnvironmentRecord

__all__ = ["EnvironmentCache"]


class EnvironmentCache:
    """The environments one run's workers reported, by hash.

    A worker sends its full environment only with its first result of a run (the run is named by
    ``token``, which travels in every payload), and its hash with the later ones; this cache turns the
    hash back into the record."""

    def __init__(self) -> None:
        self.token = uuid.uuid4().hex
        self._by_hash: dict[str, EnvironmentRecord] = {}

    def add(self, env: EnvironmentRecord) -> None:
        self._by_hash[env.hash] = env

    def get(self, env_hash: str) -> EnvironmentRecord | None:
        return self._by_hash.get(env_hash)

    def __len__(self) -> int:
        return len(self._by_hash)
