"""hypersweep benchmarks: ``python -m benchmarks [NAME ...] [--quick]`` (see ``__main__``)."""
