"""Entry point for ``python -m safeship``."""

from __future__ import annotations

from safeship.cli.app import main

if __name__ == "__main__":
    main()
