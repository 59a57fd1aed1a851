"""A stand-in training script for the spec tests (never run)."""
