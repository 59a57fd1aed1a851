"""hypersweep: hyperparameter sweeps from YAML on Ray, tracked in a shared SQL store."""
__version__ = "0.1.0"
