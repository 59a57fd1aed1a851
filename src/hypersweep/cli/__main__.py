"""``python -m hypersweep.cli``."""

from hypersweep.cli import main

main()
