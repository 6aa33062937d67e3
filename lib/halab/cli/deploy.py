"""`halab deploy [--lab SPEC] [--stack S] [--dry-run]`: the deploy sequence of a lab, per node.

rgmanager has a printable plan (--dry-run) and runs it live on a lab that is up from the RHCS
image (`halab up --stack rgmanager`); on a user's RHEL 6 image the plan is printed for the user
to run. pacemaker is deployed live by the pytest fixtures, and ``--dry-run --stack pacemaker``
prints its plan: the design's files, their mapping onto the lab, corosync.conf and the CIB
sections as they will be loaded.
"""

from __future__ import annotations

import argparse

from halab.errors import HalabError
from halab.spec import STACKS, load_spec

HELP = {"deploy": "deploy a lab's rgmanager design live, or print its per-node commands (--dry-run)"}
PLANNED = ("rgmanager",)


class DeployError(HalabError):
    """A deploy this command cannot do here (it says where it is done instead)."""


def register(name: str, parser: argparse.ArgumentParser) -> None:
    del name
    parser.add_argument("--lab", default=None,
                        help="lab spec: a name under labs/ or a lab.toml path (default: seed)")
    parser.add_argument("--stack", choices=STACKS, default=None,
                        help="cluster stack (default: the spec's; --dry-run: rgmanager, which has a plan)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the exact per-node commands, run nothing")


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.lab)
    stack = args.stack or (PLANNED[0] if args.dry_run and spec.stack not in PLANNED else spec.stack)
    spec = spec.with_stack(stack)
    if stack == "pacemaker":
        if not args.dry_run:
            print("halab deploy: the pacemaker deploy runs live from the pytest fixtures "
                  "(--dry-run --stack pacemaker prints its plan)")
            return 0
        from halab.deploy.pacemaker import design_of
        from halab.deploy.pacemaker import render as render_pcmk

        print(render_pcmk(design_of(spec), spec))
        return 0
    from halab.deploy.rgmanager import platform_of, render, rgmanager_plan

    if args.dry_run:
        print(render(rgmanager_plan(spec)))
        return 0
    if platform_of(spec) != "debian":
        raise DeployError("rgmanager runs live only on halab's RHCS image; on a user's RHEL 6 image "
                          "--dry-run prints the plan to run there")
    from halab.deploy.rgmanager_live import deploy
    from halab.lab import lab as labmod

    lab = labmod.attach(spec)
    try:
        deploy(lab)
    finally:
        lab.close()
    return 0
