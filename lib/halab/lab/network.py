"""The lab's networks: one namespace, one bridge per spec network, host addresses, no route out."""

from __future__ import annotations

from pathlib import Path

from halab.lab.host import run
from halab.lab.paths import LabPaths
from halab.spec import LabSpec


def netns_exists(netns: str) -> bool:
    return Path(f"/run/netns/{netns}").exists()


def create(spec: LabSpec, paths: LabPaths) -> None:
    ns = paths.netns
    run(["ip", "netns", "add", ns], timeout=10)
    run(["ip", "link", "set", "lo", "up"], netns=ns, timeout=10)
    for net in spec.networks:
        br = paths.bridge(net.role)
        run(["ip", "link", "add", br, "type", "bridge", "stp_state", "0", "forward_delay", "0"], netns=ns)
        run(["ip", "link", "set", br, "up"], netns=ns)
        if net.host is not None:
            run(["ip", "addr", "add", f"{net.host}/{net.prefixlen}", "dev", br], netns=ns)
    # No default route: nothing in the lab can reach beyond its own subnets.
    run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=0"], netns=ns)


def delete(paths: LabPaths) -> str:
    """Delete the lab's netns; the error ('' when it is gone), so nobody claims it removed."""
    if not netns_exists(paths.netns):
        return ""
    res = run(["ip", "netns", "delete", paths.netns], timeout=20, check=False)
    if netns_exists(paths.netns):
        return (res.stderr or res.stdout).strip()[:200] or f"still there (exit {res.exit_code})"
    return ""


def bridge_ports(paths: LabPaths, role: str) -> list[str]:
    res = run(["ip", "-o", "link", "show", "master", paths.bridge(role)], netns=paths.netns, check=False)
    return [line.split(":")[1].strip().split("@")[0] for line in res.stdout.splitlines() if ":" in line]
