"""`halab expect`: print the oracle's prediction for one fault on one node of a lab."""

from __future__ import annotations

import argparse
import json

from halab.errors import SpecError
from halab.faults import REGISTRY
from halab.oracle import Prediction, predict
from halab.oracle.model import HARNESS_PHASES
from halab.spec import STACKS, LabSpec, load_spec

HELP = {"expect": "predict who is fenced, where services end and each phase's time window after a fault"}


def register(name: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lab", default=None,
                        help="lab spec: a name under labs/ or a lab.toml path (default: seed)")
    parser.add_argument("--stack", choices=STACKS, default=None, help="cluster stack (default: the spec's)")
    parser.add_argument("--timing", default=None, help="timing profile of the lab spec (default: the spec's)")
    parser.add_argument("--fault", required=True, choices=list(REGISTRY), help="fault id")
    parser.add_argument("--target", required=True, metavar="NODE", help="node name, host name or domain")
    parser.add_argument("--owner", action="append", default=[], metavar="[SERVICE=]NODE",
                        help="where a service runs at t0 (default: its preferred node); repeatable")
    parser.add_argument("--daemon", default=None, help="kill-daemon: which daemon (default: corosync)")
    parser.add_argument("--qdisk-master", default=None, metavar="NODE",
                        help="rgmanager: the quorum-disk master at t0 (default: every possibility)")
    parser.add_argument("--dc", default=None, metavar="NODE",
                        help="pacemaker: the Designated Controller at t0 (default: not known, so losing "
                             "the target may cost a DC election)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--cib", default=None, metavar="FILE",
                        help="a CIB with its status (cibadmin -Q): who is fenced and where every resource "
                             "ends up after the target is lost, from pacemaker's own scheduler")


def run_cib(args: argparse.Namespace) -> int:
    """Placement and fencing after a node loss on a user's CIB, from crm_simulate (offline)."""
    from pathlib import Path

    from halab.cib import load_cib
    from halab.cib import simulate as sim
    from halab.cib.corosync import load_corosync
    from halab.errors import NotApplicable
    from halab.faults import effect_of, node_loss_faults

    if not effect_of(args.fault).loses_node:  # what the fault does, not its name
        raise NotApplicable(f"--cib: {args.fault} is not a node loss; on a CIB alone halab predicts "
                            f"{', '.join(node_loss_faults())}")
    path = Path(args.cib)
    cfg = load_cib(path)  # unsupported constructs named in one line
    coro_path = path.parent / "corosync.conf"
    quorate = None
    if coro_path.is_file():
        coro = load_corosync(coro_path)
        quorate = sim.quorate_after_loss(len(cfg.node_names), 1, coro.two_node, coro.device)
    raw = path.read_bytes()
    if args.target not in sim.online_nodes(raw, str(path)):  # a design without a live status:
        from halab.cib.lab import healthy  # start from where pacemaker places everything

        raw = sim.settle(healthy(raw, cfg.node_names), where=str(path))
    t = sim.after_node_loss(raw, args.target, quorate=quorate, where=str(path))
    if args.json:
        print(json.dumps({"target": args.target, "fenced": list(t.fenced),
                          "placement": {k: list(v) for k, v in t.roles.items()}}, indent=2))
    else:
        print(sim.render(t, args.target, tuple(p.id for p in cfg.primitives())))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.cib:
        return run_cib(args)
    spec = load_spec(args.lab)
    if args.timing:
        spec = spec.with_timing(args.timing)
    if args.stack:
        spec = spec.with_stack(args.stack)
    owners = _owners(spec, args.owner)
    pred = predict(spec, args.fault, args.target, owners or None, daemon=args.daemon,
                   qdisk_master=args.qdisk_master, dc=args.dc)
    print(json.dumps(pred.to_json(), indent=2) if args.json else render(pred))
    return 0


def _owners(spec: LabSpec, given: list[str]) -> dict[str, str]:
    """``--owner NODE`` applies to every service; ``--owner SVC=NODE`` to one."""
    out: dict[str, str] = {}
    for item in given:
        svc, sep, node = item.rpartition("=")
        if not sep:
            out.update(dict.fromkeys(_services(spec), node))
        elif not svc or not node:
            raise SpecError(f"--owner {item!r}: want NODE or SERVICE=NODE")
        else:
            out[svc] = node
    return out


def _services(spec: LabSpec) -> tuple[str, ...]:
    from halab.oracle.predict import service_names

    return service_names(spec)


def render(pred: Prediction, indent: str = "") -> str:
    """Plain text for a terminal: outcome, window table, reasoning, then each alternative."""
    lines = [
        f"{indent}{pred.stack}: {pred.fault} on {pred.target}",
        f"{indent}fenced:       {', '.join(pred.fenced) or 'nobody'}"
        + (f" (by {pred.fenced_by})" if pred.fenced_by else ""),
        f"{indent}self-reboot:  {', '.join(pred.self_reboot) or 'nobody'}",
        f"{indent}services:     " + "; ".join(f"{k} -> {_place(v)}" for k, v in pred.services.items()),
        f"{indent}quorate:      {'yes' if pred.quorate else 'no'}; "
        f"members after: {', '.join(pred.members_after)}",
        f"{indent}{'phase':<18}{'earliest':>10}{'latest':>10}",
    ]
    lines += [f"{indent}{p:<18}{w.earliest:>10.1f}{w.latest:>10.1f}"
              + ("  (s after the harness's restore)" if p in HARNESS_PHASES else "")
              for p, w in pred.windows.items()]
    lines.append(f"{indent}reasoning:")
    lines += [f"{indent}  - {r}" for r in pred.reasoning]
    for i, alt in enumerate(pred.alternatives, 1):
        lines += ["", f"{indent}alternative {i}:", render(alt, indent + "  ")]
    return "\n".join(lines)


def _place(v: str | tuple[str, ...]) -> str:
    return " or ".join(v) if isinstance(v, tuple) else v
