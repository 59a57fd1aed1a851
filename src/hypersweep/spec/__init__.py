"""Sweep files (native and W&B) -> validated, immutable ``SweepSpec``."""

from hypersweep.spec._space import Param, flatten, is_active, nest

__all__ = ["Param", "flatten", "is_active", "nest"]
