"""An app that uses the provider needs neither the store nor the server nor the CLI."""

from __future__ import annotations

import subprocess
import sys

_FORBIDDEN = ("safeship.store", "safeship.server", "safeship.cli", "safeship.engine",
              "safeship.api", "sqlalchemy", "starlette", "uvicorn")


def test_importing_the_provider_loads_no_store_or_server() -> None:
    probe = ("import sys, safeship.openfeature; "
             "print('\\n'.join(sorted(m for m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=True)
    loaded = result.stdout.split()
    for forbidden in _FORBIDDEN:
        assert not [m for m in loaded if m == forbidden or m.startswith(forbidden + ".")], (
            f"importing safeship.openfeature loads {forbidden}")
