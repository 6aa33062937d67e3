"""Shared builders for the report tests: a seed prediction, phases, timelines, a fake allure listener."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import allure_commons

from halab.observe.timeline import PhaseResult, Timeline
from halab.oracle import Prediction, Window, predict
from halab.spec import load_spec

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Looks like an OpenSSH private key; random filler, not a key.
FAKE_KEY = """-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBmYWtlZmFrZWZha2VmYWtlZmFrZWZha2VmYWtlZmFrZQAAAJgAAAAAAAAA
-----END OPENSSH PRIVATE KEY-----
"""


def seed_prediction(fault: str = "heartbeat-down", target: str = "node01") -> Prediction:
    return predict(load_spec("seed"), fault, target)


def small_prediction(alternatives: tuple[Prediction, ...] = ()) -> Prediction:
    """A hand-made prediction: independent of the oracle's current numbers."""
    return Prediction(
        stack="pacemaker", fault="power-off", target="node01", fenced=("node01",), fenced_by="node02",
        self_reboot=(), services={"service01": "node02"}, quorate=True, members_after=("node02",),
        windows={"detect": Window(19.5, 47.2), "fence-done": Window(13.6, 42.2),
                 "service-started": Window(20.0, 70.0)},
        reasoning=("detect: token T = 20 s", "fence-done: detect + agent [3, 20] s"),
        alternatives=alternatives,
    )


def phases() -> list[PhaseResult]:
    """One phase of each verdict."""
    return [
        PhaseResult("detect", 21.3, 19.5, 47.2),
        PhaseResult("fence-done", 12.0, 13.6, 42.2, "fence history: node01 rebooted"),
        PhaseResult("service-started", 80.25, 20.0, 70.0),
        PhaseResult("node-rejoined", None, 86.5, 295.2),
    ]


def full_timeline() -> Timeline:
    """Probes that move from node01 to node02, polls, a fenced node's lifecycle, healed at 90 s."""
    tl = Timeline()
    tl.mark_t0()
    for t in range(-4, 100, 2):
        answer = "probe-fail" if 20 < t < 60 else "probe-ok"
        tl.record("probe", None, answer, "node01" if t < 40 else "node02", t=t)
        tl.record("poll", "node02", "status", t=t)
        tl.record("poll", "node01", "unreachable" if 30 < t < 80 else "status", t=t)
    events = ((31.0, "stopped"), (33.0, "started"), (50.0, "suspended"), (51.0, "resumed"), (52.0, "odd"))
    for when, what in events:
        tl.record("libvirt", "node01", "lifecycle", what, t=when)
    tl.t_healed = 90.0
    return tl


@dataclass
class AllureSpy:
    """An allure_commons plugin recording what the wrappers hand to allure."""

    attachments: list[tuple[str, str]] = field(default_factory=list)  # (name, body)
    files: list[tuple[str, str]] = field(default_factory=list)  # (name, source)
    steps: list[str] = field(default_factory=list)
    step_errors: dict[str, BaseException | None] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    _titles: dict[str, str] = field(default_factory=dict)

    @allure_commons.hookimpl
    def attach_data(self, body: Any, name: str, attachment_type: Any, extension: Any) -> None:
        self.attachments.append((name, body if isinstance(body, str) else body.decode()))

    @allure_commons.hookimpl
    def attach_file(self, source: str, name: str, attachment_type: Any, extension: Any) -> None:
        self.files.append((name, source))

    @allure_commons.hookimpl
    def start_step(self, uuid: str, title: str, params: Any) -> None:
        self.steps.append(title)
        self._titles[uuid] = title

    @allure_commons.hookimpl
    def stop_step(self, uuid: str, exc_type: Any, exc_val: BaseException | None, exc_tb: Any) -> None:
        self.step_errors[self._titles[uuid]] = exc_val

    @allure_commons.hookimpl
    def add_parameter(self, name: str, value: object, excluded: Any, mode: Any) -> None:
        self.parameters[name] = repr(value)

    def names(self) -> list[str]:
        return [n for n, _ in self.attachments]

    def body(self, name: str) -> str:
        return next(b for n, b in self.attachments if n == name)

    def everything(self) -> str:
        bodies = (f"{n}\n{b}" for n, b in self.attachments)
        return "\n".join([*self.steps, *self.parameters.values(), *bodies])
