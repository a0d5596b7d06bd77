"""`python -m nscpy` runs the CLI."""

from nscpy.commands.cli import main

main()
