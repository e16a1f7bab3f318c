"""``service.yaml``: which service this is, how risky it is, and where its other files live.

It is designed to grow: later versions add strategy, target, router, metrics provider and SLOs as
new optional sections, so existing files keep loading.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from safeship.config.validation import validate_model
from safeship.config.yaml_source import YamlDocument, read_yaml
from safeship.model.enums import RiskLevel

SERVICE_API_VERSION = "safeship/v1"


class ServiceFileModel(BaseModel):
    """The whole ``service.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    api_version: Literal["safeship/v1"] = Field(alias="apiVersion")
    kind: Literal["Service"]
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                      description="the service's name, as it appears in history and reports")
    risk: RiskLevel = Field(RiskLevel.MEDIUM, description="low | medium | high | critical")
    gates: str = Field("gates.yaml", description="gates file, relative to this file")
    canary: str = Field("canary-analysis.yaml",
                        description="canary-analysis file, relative to this file")


@dataclass(frozen=True)
class ServiceSpec:
    """A validated service file with its companion files made absolute."""

    source: str
    name: str
    risk: RiskLevel
    gates_path: Path
    canary_path: Path


def load_service_file(path: Path) -> ServiceSpec:
    """Read and validate the service file at ``path``."""
    return parse_service_document(read_yaml(path))


def parse_service_document(doc: YamlDocument) -> ServiceSpec:
    """Validate a parsed service document."""
    model = validate_model(ServiceFileModel, doc, doc.data)
    base = Path(doc.source).parent
    return ServiceSpec(doc.source, model.name, model.risk, base / model.gates, base / model.canary)
