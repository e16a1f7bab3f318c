"""The command-line face of safeship (Typer). Only this package and ``report`` print."""
