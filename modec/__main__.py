"""``python -m modec`` runs the command line."""

from modec.cli import main

main()
