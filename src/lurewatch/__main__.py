"""`python -m lurewatch` runs the CLI."""

from lurewatch.cli import main

main()
