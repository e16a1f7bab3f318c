"""safeship: safe, automated deployments from commit to production.

The package is layered (see ``design.md``): ``cli`` on top, then ``api``, ``registry``, ``engine``,
the plugin families (``gates``, ``store``, ``report``), ``config``, ``_internal`` and finally
``model`` and ``errors`` at the bottom.
"""

from __future__ import annotations

__version__ = "0.1.0"
