"""Where a lab keeps its state on the host: one folder per lab, one netns per lab."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from halab.spec import LabSpec

STATE_ROOT = Path("/var/lib/halab/labs")

# Interface names inside the guest, and the PCI slot that names them (see data/guest/10-halab-*.link).
NIC_BY_ROLE = {"service": ("svc", 0x0A), "management": ("mgmt", 0x0B), "heartbeat": ("hb", 0x0C)}


@dataclass(frozen=True)
class LabPaths:
    lab: str

    @property
    def netns(self) -> str:
        return f"halab-{self.lab}"

    @property
    def state(self) -> Path:
        return STATE_ROOT / self.lab

    @property
    def nodes(self) -> Path:
        return self.state / "nodes"

    @property
    def luns(self) -> Path:
        return self.state / "luns"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def pids(self) -> Path:
        return self.state / "pids"

    @property
    def ssh_key(self) -> Path:
        """The lab's own key: the harness logs into nodes with it."""
        return self.state / "keys" / "lab_ed25519"

    @property
    def fence_key(self) -> Path:
        """The fence key: nodes' fence_virsh logs into the host's fence sshd with it."""
        return self.state / "keys" / "fence_ed25519"

    @property
    def sshd_dir(self) -> Path:
        return self.state / "sshd"

    @property
    def state_file(self) -> Path:
        return self.state / "lab.json"

    def overlay(self, domain: str) -> Path:
        return self.nodes / f"{domain}.qcow2"

    def console(self, domain: str) -> Path:
        return self.logs / f"{domain}.console.log"

    def bridge(self, role: str) -> str:
        return f"br-{NIC_BY_ROLE[role][0]}"


def lab_byte(lab: str) -> int:
    return hashlib.sha256(lab.encode()).digest()[0]


def mac_for(spec: LabSpec, node_index: int, role: str) -> str:
    """Stable MAC per (lab, node, network): 52:54:00:<lab>:<network slot>:<node>."""
    slot = NIC_BY_ROLE[role][1]
    return f"52:54:00:{lab_byte(spec.name):02x}:{slot:02x}:{node_index:02x}"
