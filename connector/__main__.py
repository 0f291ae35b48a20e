"""Lets `python -m connector` run the CLI."""

from connector.cli import main

main()
