"""The oracle: what a correct cluster must do after a fault, and in which time window.

``predict(spec, fault, target)`` reads the cluster's own configuration (the lab spec's
``[stacks.pacemaker]`` design or its cluster.conf) and timing profile, and returns a frozen
``Prediction``: who is fenced, where each service ends, quorum, and a window per phase, with the
reasoning (formulas and numbers) for the report. See docs/timing-model.md.
"""

from halab.oracle.model import FAILED, PHASES, Prediction, Window
from halab.oracle.predict import predict
from halab.oracle.timeline import Slack, Span

__all__ = ["FAILED", "PHASES", "Prediction", "Slack", "Span", "Window", "predict"]
