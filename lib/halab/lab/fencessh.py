"""The fence path's far end: an sshd on the host's management address, inside the lab netns.

This is the seed's `kvmhost01`: fence_virsh on the nodes logs in here with the lab's fence key,
whose only allowed command is halab-fence-shell (virsh on this lab's domains).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from halab.lab import daemons, virt
from halab.lab.host import run
from halab.lab.paths import LabPaths
from halab.spec import LabSpec

FENCE_SHELL = Path(__file__).resolve().parents[1] / "data" / "host" / "halab-fence-shell"


def fence_log(paths: LabPaths) -> Path:
    """What the nodes' fence agents asked of the host, one line per command (halab-fence-shell)."""
    return paths.logs / "fence-shell.log"


def ensure_keys(paths: LabPaths) -> None:
    for key in (paths.ssh_key, paths.fence_key):
        if not key.exists():
            key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"halab-{paths.lab}", "-f", str(key)])


def _write_config(spec: LabSpec, paths: LabPaths) -> Path:
    d = paths.sshd_dir
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    host_key = d / "ssh_host_ed25519_key"
    if not host_key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)])
    domains = " ".join(shlex.quote(n.domain) for n in spec.nodes)
    command = f"{sys.executable} {FENCE_SHELL} --log {shlex.quote(str(fence_log(paths)))} {domains}"
    pub = Path(str(paths.fence_key) + ".pub").read_text().strip()
    auth = d / "authorized_keys"
    auth.write_text(f'restrict,pty,command="{command}" {pub}\n')
    auth.chmod(0o600)
    mgmt = spec.network(spec.storage.network)
    config = d / "sshd_config"
    config.write_text("\n".join([
        f"ListenAddress {mgmt.host}:22",
        f"HostKey {host_key}",
        f"AuthorizedKeysFile {auth}",
        f"PidFile {d / 'sshd.pid'}",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "UseDNS no",
        "LogLevel VERBOSE",
        "MaxStartups 50",
        "",
    ]))
    return config


def start(spec: LabSpec, paths: LabPaths) -> None:
    config = _write_config(spec, paths)
    Path("/run/sshd").mkdir(exist_ok=True)
    mgmt = spec.network(spec.storage.network)

    def listening() -> bool:
        res = run(["ss", "-Hltn", f"src {mgmt.host}:22"], netns=paths.netns, timeout=5, check=False)
        return bool(res.stdout.strip())

    # In the lab's libvirt view: the fence shell's virsh reaches this lab's libvirtd only.
    argv = virt.in_lab_view(paths, ("/usr/sbin/sshd", "-D", "-e", "-f", str(config)))
    daemons.start(daemons.Daemon("fence-sshd", argv, listening),
                  paths.netns, paths.pids, paths.logs)
