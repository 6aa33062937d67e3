"""A node's identity for a user's own image, as data: the NoCloud seed and the overlay edits.

Why pure functions: a user image is never written and boots by firmware, so halab cannot put the
identity on the kernel command line as it does for its own image. It hands it over either as a
cloud-init NoCloud seed (meta-data, user-data, network-config on an ISO labelled `cidata`) or, for
images without cloud-init, as files written into the node's *overlay* before its first boot. Both
say the same things — host name, one static address per NIC matched by MAC and named svc/mgmt/hb,
/etc/hosts, the lab's SSH key for root, the iSCSI initiator name and the iSCSI login with the timing
profile's replacement_timeout — and both are built here, so the unit tests read exactly what a node
gets. The YAML files are written as JSON, which is YAML too: no YAML library is needed to write
them, and any YAML reader (cloud-init's included) reads them.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halab.lab.domains import hosts_file, iqn_for
from halab.lab.paths import NIC_BY_ROLE, mac_for
from halab.spec import LabSpec, Node

GUEST_DIR = Path(__file__).resolve().parents[1] / "data" / "guest"
ISCSI_SCRIPT = "/usr/local/sbin/halab-iscsi-login"
FIRSTBOOT_DONE = "/var/lib/halab-firstboot.done"  # the overlay-edit route's first boot is over
OS_FAMILIES = ("debian", "rhel")
# The seed's advice: a fenced node must not rejoin on its own. Both stacks' daemons, both init systems.
CLUSTER_UNITS = ("corosync", "pacemaker", "cman", "rgmanager", "qdiskd", "pcsd")


@dataclass(frozen=True)
class Nic:
    name: str  # svc | mgmt | hb: the name the guest gives it
    mac: str
    address: str  # ADDR/PREFIX


@dataclass(frozen=True)
class SeedFiles:
    """The three files of a NoCloud seed, as text."""

    meta_data: str
    user_data: str
    network_config: str

    def as_files(self) -> dict[str, str]:
        return {"meta-data": self.meta_data, "user-data": self.user_data, "network-config": self.network_config}


def hostname_of(node: Node) -> str:
    """The same host name as the built-in image: the service-network name, else the node's name."""
    for addr in node.addresses:
        if addr.network == "service":
            return addr.hostname
    return node.name


def nics_of(spec: LabSpec, node: Node) -> list[Nic]:
    """One NIC per network the node is on, with the MAC the domain XML gives it (paths.mac_for)."""
    out = []
    for addr in node.addresses:
        net = spec.network(addr.network)
        out.append(Nic(NIC_BY_ROLE[net.role][0], mac_for(spec, node.index, net.role),
                       f"{addr.address}/{net.prefixlen}"))
    return out


def portal_of(spec: LabSpec) -> str:
    host = spec.network(spec.storage.network).host
    if host is None:
        from halab.errors import SpecError

        raise SpecError(f"network {spec.storage.network!r} has no host address for the iSCSI target", str(spec.path))
    return str(host)


def iscsi_login_script(spec: LabSpec) -> str:
    """Discovery + login against the lab's target, replacement_timeout from the timing profile.

    Idempotent (a second run finds the session and stops), retried a few times because the node may
    boot before its management link is up, and it also writes the timeout into iscsid.conf so a
    rediscovery keeps it. Runs on Debian (systemd) and RHEL 6 (SysV init) alike.
    """
    portal = portal_of(spec)
    iqn = spec.storage.target
    rt = spec.timing.iscsi_replacement_timeout_s
    p, t = shlex.quote(portal), shlex.quote(iqn)
    return "\n".join([
        "#!/bin/sh",
        "# written by halab: log this node in to the lab's iSCSI target (idempotent)",
        "set -u",
        "conf=/etc/iscsi/iscsid.conf",
        "if [ -f $conf ]; then",
        "    sed -i '/^node.session.timeo.replacement_timeout/d; /^node.startup/d' $conf",
        f"    printf 'node.startup = automatic\\nnode.session.timeo.replacement_timeout = {rt}\\n' >> $conf",
        "fi",
        "systemctl restart iscsid 2>/dev/null || service iscsid restart >/dev/null 2>&1 || true",
        "i=0",
        f"until iscsiadm -m discovery -t sendtargets -p {p} >/dev/null; do",
        "    i=$((i+1)); [ $i -ge 12 ] && exit 1; sleep 5",
        "done",
        f"iscsiadm -m node -T {t} -p {p} -o update -n node.session.timeo.replacement_timeout -v {rt}",
        f"iscsiadm -m node -T {t} -p {p} -o update -n node.startup -v automatic",
        f"iscsiadm -m session 2>/dev/null | grep -q {t} || iscsiadm -m node -T {t} -p {p} --login",
        "",
    ])


def cluster_off_command() -> str:
    """Disable the cluster daemons at boot on systemd and SysV init (the seed's advice)."""
    units = " ".join(CLUSTER_UNITS)
    return (f"for s in {units}; do systemctl disable $s >/dev/null 2>&1 || chkconfig $s off >/dev/null 2>&1; "
            "done; true")


def lab_files(spec: LabSpec, node: Node) -> dict[str, tuple[str, int]]:
    """Files every node of the lab gets, whatever the route: path -> (content, mode).

    Besides the identity: the lab's application (the seed's myappl and its unit, which the
    pacemaker design starts as a resource) — it belongs to the lab, not to the user's image.
    """
    files = {
        "/etc/hosts": (hosts_file(spec), 0o644),
        "/etc/iscsi/initiatorname.iscsi": (f"InitiatorName={iqn_for(spec, node)}\n", 0o644),
        ISCSI_SCRIPT: (iscsi_login_script(spec), 0o755),
        "/usr/local/bin/myappl": ((GUEST_DIR / "myappl").read_text(), 0o755),
        "/etc/systemd/system/myappl.service": ((GUEST_DIR / "myappl.service").read_text(), 0o644),
    }
    return files


def mountpoints(spec: LabSpec) -> list[str]:
    return [lun.mountpoint for lun in spec.storage.luns if lun.mountpoint]


def instance_id(spec: LabSpec, node: Node, content: str) -> str:
    """Stable per lab and node, but new when the identity changes, so cloud-init applies it again."""
    return f"halab-{spec.name}-{node.name}-{hashlib.sha256(content.encode()).hexdigest()[:12]}"


def network_config(spec: LabSpec, node: Node) -> dict[str, Any]:
    """network-config v2: each NIC matched by its MAC, renamed svc/mgmt/hb, one static address."""
    ethernets = {
        nic.name: {"match": {"macaddress": nic.mac}, "set-name": nic.name, "addresses": [nic.address],
                   "dhcp4": False, "dhcp6": False}
        for nic in nics_of(spec, node)
    }
    return {"version": 2, "ethernets": ethernets}


def user_data(spec: LabSpec, node: Node, pubkey: str) -> dict[str, Any]:
    host = hostname_of(node)
    files = lab_files(spec, node)
    write_files = [{"path": path, "content": content, "permissions": f"0{mode:o}", "owner": "root:root"}
                   for path, (content, mode) in files.items()]
    runcmd: list[list[str]] = [
        ["sh", "-c", cluster_off_command()],
        ["sh", "-c", "systemctl daemon-reload 2>/dev/null; true"],
    ]
    if mountpoints(spec):
        runcmd.append(["mkdir", "-p", *mountpoints(spec)])
    runcmd.append([ISCSI_SCRIPT])
    return {
        "hostname": host,
        "fqdn": host,
        "preserve_hostname": False,
        "manage_etc_hosts": False,  # /etc/hosts is the spec's, written below
        "disable_root": False,  # the harness logs in as root with the lab's key
        "ssh_pwauth": False,
        "ssh_authorized_keys": [pubkey],
        "write_files": write_files,
        "runcmd": runcmd,
    }


def seed_files(spec: LabSpec, node: Node, pubkey: str) -> SeedFiles:
    """The NoCloud seed of one node: meta-data, user-data (#cloud-config) and network-config."""
    ud = "#cloud-config\n" + json.dumps(user_data(spec, node, pubkey), indent=2) + "\n"
    nc = json.dumps(network_config(spec, node), indent=2) + "\n"
    md = json.dumps({"instance-id": instance_id(spec, node, ud + nc), "local-hostname": hostname_of(node)},
                    indent=2) + "\n"
    return SeedFiles(md, ud, nc)


# --- the overlay-edit route (images without cloud-init) ----------------------------------------


def network_files(spec: LabSpec, node: Node, os_family: str) -> dict[str, tuple[str, int]]:
    """NIC names and static addresses in the image's own format, matched by MAC like the seed.

    debian: systemd-networkd .link (rename by MAC) + .network; rhel: ifcfg files with HWADDR plus a
    udev rule naming the NIC (RHEL 6's network scripts and RHEL 8+'s NetworkManager read both).
    """
    out: dict[str, tuple[str, int]] = {}
    nics = nics_of(spec, node)
    if os_family == "debian":
        for nic in nics:
            # Only the heartbeat NIC is optional for network-online: with no link required at all,
            # systemd-networkd-wait-online waits its full 2 minutes and delays iscsid (measured).
            optional = "\n[Link]\nRequiredForOnline=no\n" if nic.name == NIC_BY_ROLE["heartbeat"][0] else ""
            out[f"/etc/systemd/network/10-halab-{nic.name}.link"] = (
                f"[Match]\nMACAddress={nic.mac}\n\n[Link]\nName={nic.name}\n", 0o644)
            out[f"/etc/systemd/network/20-halab-{nic.name}.network"] = (
                f"[Match]\nMACAddress={nic.mac}\n\n[Network]\nAddress={nic.address}\nLinkLocalAddressing=no\n"
                f"IPv6AcceptRA=no\n{optional}", 0o644)
    elif os_family == "rhel":
        rules = []
        for nic in nics:
            addr, prefix = nic.address.split("/")
            out[f"/etc/sysconfig/network-scripts/ifcfg-{nic.name}"] = (
                f"DEVICE={nic.name}\nHWADDR={nic.mac}\nTYPE=Ethernet\nBOOTPROTO=none\nONBOOT=yes\n"
                f"IPADDR={addr}\nPREFIX={prefix}\nDEFROUTE=no\nIPV6INIT=no\n", 0o644)
            rules.append(f'SUBSYSTEM=="net", ACTION=="add", ATTR{{address}}=="{nic.mac}", NAME="{nic.name}"')
        out["/etc/udev/rules.d/70-persistent-net.rules"] = ("\n".join(rules) + "\n", 0o644)
    else:
        raise ValueError(f"os family {os_family!r} is not one of {', '.join(OS_FAMILIES)}")
    return out


def overlay_files(spec: LabSpec, node: Node, os_family: str) -> dict[str, tuple[str, int]]:
    """Every file the overlay-edit route writes into a node's overlay (the key goes by --ssh-inject)."""
    files = lab_files(spec, node)
    files.update(network_files(spec, node, os_family))
    if os_family == "rhel":
        files["/etc/sysconfig/network"] = (f"NETWORKING=yes\nHOSTNAME={hostname_of(node)}\n", 0o644)
    return files


def firstboot_script(spec: LabSpec) -> str:
    """What runs once at the node's first boot on the overlay-edit route (virt-customize --firstboot)."""
    dirs = " ".join(shlex.quote(m) for m in mountpoints(spec))
    return "\n".join([
        "#!/bin/sh",
        "# written by halab: first boot of a node edited offline",
        "systemctl daemon-reload 2>/dev/null",
        *([f"mkdir -p {dirs}"] if dirs else []),
        ISCSI_SCRIPT,
        f"touch {FIRSTBOOT_DONE}",
        "",
    ])


def virt_customize_cmd(overlay: Path, staging: Path, files: dict[str, tuple[str, int]], node: Node,
                       pubkey_file: Path, os_family: str) -> list[str]:
    """The one virt-customize call that edits a node's overlay (never the base image).

    `staging` holds each file under its guest path (staging/etc/hosts ...) and firstboot.sh;
    uploads keep the guest layout, so the command line reads like the list of files it writes.
    """
    cmd = ["virt-customize", "--quiet", "--no-network", "--format", "qcow2", "-a", str(overlay),
           "--hostname", hostname_of(node)]
    dirs = sorted({str(Path(p).parent) for p in files})
    for d in dirs:
        cmd += ["--mkdir", d]
    for path, (_content, mode) in sorted(files.items()):
        cmd += ["--upload", f"{staging}{path}:{path}", "--chmod", f"0{mode:o}:{path}"]
    # cloud-init without a seed would fall back to DHCP on the first NIC over these files; host keys
    # are made here, per overlay, because it was cloud-init that would have made them.
    cmd += ["--ssh-inject", f"root:file:{pubkey_file}",
            "--run-command", cluster_off_command(),
            "--run-command", "ssh-keygen -A >/dev/null 2>&1 || true",
            "--run-command", "if [ -d /etc/cloud ]; then touch /etc/cloud/cloud-init.disabled; fi",
            "--firstboot", str(staging / "firstboot.sh")]
    if os_family == "rhel":
        cmd.append("--selinux-relabel")
    return cmd
