"""rgmanager (cman, qdiskd, fenced) model: placeholder until the cluster.conf model lands."""

from __future__ import annotations

from collections.abc import Mapping

from halab.errors import ConfigError
from halab.oracle.model import Prediction
from halab.oracle.timeline import Slack
from halab.spec import LabSpec


def predict(spec: LabSpec, fault: str, target: str, owners: Mapping[str, str] | None, *,
            slack: Slack, daemon: str | None = None) -> Prediction:
    raise ConfigError("the rgmanager model is not there yet", str(spec.path))


def service_names(spec: LabSpec) -> tuple[str, ...]:
    raise ConfigError("the rgmanager model is not there yet", str(spec.path))
