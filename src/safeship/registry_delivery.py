"""Name -> class tables of progressive delivery: routers, targets and rollout strategies.

Adding a backend means one new module named after its YAML ``type:`` and one line here. Kept
apart from ``registry.py`` (gates) so the gate pipeline does not import the proxy's stack.
"""

from __future__ import annotations

from safeship.routers.embedded import EmbeddedRouter
from safeship.routers.feature_flag import FeatureFlagRouter
from safeship.routers.haproxy import HaproxyRouter
from safeship.routers.interface import Router
from safeship.routers.nginx import NginxRouter
from safeship.strategies.blue_green import BlueGreenStrategy
from safeship.strategies.canary import CanaryStrategy
from safeship.strategies.feature_flag import FeatureFlagStrategy, FeatureFlagUndoStrategy
from safeship.strategies.recreate import RecreateStrategy
from safeship.strategies.rolling import RollingStrategy
from safeship.strategies.undo import UndoStrategy
from safeship.targets.interface import Target
from safeship.targets.local import LocalTarget

ROUTERS: dict[str, type[Router]] = {
    "embedded": EmbeddedRouter,
    "haproxy": HaproxyRouter,
    "nginx": NginxRouter,
    "feature_flag": FeatureFlagRouter,
}

TARGETS: dict[str, type[Target]] = {
    "local": LocalTarget,
}

STRATEGIES: dict[str, type[object]] = {
    "recreate": RecreateStrategy,
    "rolling": RollingStrategy,
    "blue_green": BlueGreenStrategy,
    "canary": CanaryStrategy,
    "undo": UndoStrategy,
    "feature_flag": FeatureFlagStrategy,
    "feature_flag_undo": FeatureFlagUndoStrategy,
}
