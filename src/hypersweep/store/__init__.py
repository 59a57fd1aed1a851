"""The tracking store: the ``Store`` interface and ``open_store``."""

from hypersweep.store._base import Store

__all__ = ["Store"]
