"""``python -m recorder`` is ``obrec``."""

from recorder.cli import main

main()
