"""`halab up | down | status | ssh`: the lab by hand, as the pytest session fixture does it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from halab.lab import lab as labmod
from halab.lab import target
from halab.lab.rhcsimage import ensure_stack_image
from halab.spec import STACKS, load_spec

HELP = {
    "up": "build the lab (networks, iSCSI target, fence sshd, nodes) and wait until every node is ready",
    "down": "remove everything of the lab (idempotent; also clears what a crashed run left); --all: every lab",
    "status": "nodes, addresses, LUNs seen from each node, accelerator, image",
    "ssh": "run a command on a node (or print how to reach it)",
    "image": "build the lab's guest image if it is not cached (or again with --rebuild-image)",
}


def register(name: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lab", default=None, help="lab spec name or lab.toml path (default: seed)")
    if name == "down":
        parser.add_argument("--all", action="store_true",
                            help="every halab lab on this host (one per xdist worker included)")
    if name == "up":
        parser.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    if name in ("up", "image"):
        parser.add_argument("--stack", choices=STACKS, default=None,
                            help="cluster stack (default: the spec's); rgmanager boots the RHCS image")
        parser.add_argument("--rebuild-image", action="store_true",
                            help="rebuild the guest image even if cached")
    if name == "image":
        parser.add_argument("--sources", type=Path, default=None,
                            help="rgmanager: directory of the upstream tarballs (default: ../shared/upstream)")
        parser.add_argument("--download", action="store_true",
                            help="rgmanager: fetch missing tarballs from their pinned URLs (sha256-checked)")
    if name == "ssh":
        parser.add_argument("node", help="node name, host name or domain name")
        parser.add_argument("cmd", nargs=argparse.REMAINDER, help="command to run (default: a health line)")


def run(args: argparse.Namespace) -> int:
    if args.command == "down" and args.all:
        gone = labmod.down_all()
        left = labmod.lab_names()
        print(f"all labs: down ({len(gone)} items removed)" + (f"; still there: {', '.join(left)}" if left else ""))
        return 1 if left else 0
    spec = load_spec(args.lab)
    if getattr(args, "stack", None):
        spec = spec.with_stack(args.stack)
    if args.command == "up":
        lab = labmod.up(spec, accel=args.accel, rebuild_image=args.rebuild_image)
        lab.close()
        return 0
    if args.command == "image":
        if spec.image.kind != "builtin":
            print(f"lab {spec.name}: uses the user image {spec.image.path}; nothing to build")
            return 0
        ensure_stack_image(spec.stack, spec.image.suite, rebuild=args.rebuild_image, source_dir=args.sources,
                           download=args.download)
        return 0
    if args.command == "down":
        gone = labmod.down(spec)
        print(f"lab {spec.name}: down ({len(gone)} items removed)")
        return 0
    if args.command == "status":
        return _status(spec)
    return _ssh(spec, args.node, args.cmd)


def _status(spec: object) -> int:
    from halab.spec import LabSpec

    assert isinstance(spec, LabSpec)
    lab = labmod.attach(spec)
    print(f"lab {spec.name}: accelerator {lab.accel.kind} ({lab.accel.reason}); netns {lab.paths.netns}")
    from halab.lab import domains

    for node in spec.nodes:
        addrs = ", ".join(f"{a.network} {a.address} ({a.hostname})" for a in node.addresses)
        state = domains.state(node.domain)
        luns = "-"
        if state == "running":
            try:
                res = lab.remote(node.name).run("ls /dev/disk/by-path/ | grep -o 'lun-[0-9]*$' | sort -u"
                                                " | tr '\\n' ' '",
                                                timeout=10, connect_timeout=3)
                luns = res.stdout.strip() or "none"
            except Exception as err:  # one unreachable node must not hide the others
                luns = f"unreachable ({err})"
        print(f"  {node.name} [{node.domain}] {state}: {addrs}; LUNs: {luns}")
    print("  target:", " ".join(target.show(lab.paths).split()[:3]) or "tgtd not answering")
    lab.close()
    return 0


def remote_command(cmd: list[str]) -> str:
    """What runs on the node, as ssh does it: the words joined by spaces and given to the remote
    shell, so `halab ssh node01 "crm_mon -1 | tail"` pipes on the node (quote what must stay one
    word twice, as with ssh)."""
    return " ".join(cmd) if cmd else "hostname; uptime; ip -br addr"


def _ssh(spec: object, node: str, cmd: list[str]) -> int:
    from halab.spec import LabSpec

    assert isinstance(spec, LabSpec)
    lab = labmod.attach(spec)
    command = remote_command(cmd)
    res = lab.remote(node).run(command, timeout=120)
    sys.stdout.write(res.stdout)
    sys.stderr.write(res.stderr)
    lab.close()
    return res.exit_code
