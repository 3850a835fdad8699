"""``python -m modec`` runs the command line."""

from modec.cli.program import main

main()
