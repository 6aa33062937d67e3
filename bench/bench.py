"""halab's figures: lab build and teardown, qemu memory, and the failover suite's overhead.

    .venv/bin/python bench/bench.py lab [--rebuild-image]       # image, up, down, RSS
    .venv/bin/python bench/bench.py failover [--faults seed] [--targets owner] [--timing fast] [--repeat 5]
    .venv/bin/python bench/bench.py failover --reset snapshot   # the same, the cluster saved at rest and loaded again
    .venv/bin/python bench/bench.py ranges                     # profile ranges from reports/phase-history.jsonl
    .venv/bin/python bench/bench.py rhcs [--rebuild]            # RHCS compile + image: time, sizes

Everything runs inside the lab (no traffic outside the lab netns); each figure is printed as
`name value unit`, ratios where a goal exists (harness overhead goal <= 1.15, up goal <= 90 s).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from halab import interrupt
from halab.deploy import pacemaker, rgmanager_live
from halab.errors import HalabError
from halab.faults import SEED_FAULTS
from halab.lab import domains, snapshot
from halab.lab import lab as labmod
from halab.lab.image import ensure_image
from halab.observe import records
from halab.report import allure_io
from halab.report.redact import redact, secrets_of_lab
from halab.scenario import FaultRun, LiveCluster, run_fault
from halab.spec import load_spec

PHASE_LOG = Path(__file__).resolve().parents[1] / "reports" / records.HISTORY_FILE
EVIDENCE_DIR = PHASE_LOG.parent / "bench-evidence"
# the live runs' records kept with the code: what the profiles' measured ranges rest on
MEASURED_LOG = Path(__file__).resolve().parent / "measured" / records.HISTORY_FILE
UP_BUDGET_S = 90.0
OVERHEAD_GOAL = 1.15


def _deploy(stack: str):  # type: ignore[no-untyped-def]
    return rgmanager_live.deploy if stack == "rgmanager" else pacemaker.deploy


def figure(name: str, value: float, unit: str, note: str = "") -> None:
    print(f"{name:<44} {value:>10.2f} {unit:<6} {note}", flush=True)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_lab(args: argparse.Namespace) -> int:
    spec = load_spec(args.lab)
    if args.rebuild_image:
        t = time.monotonic()
        ensure_image(spec.image.suite, rebuild=True, progress=lambda m: None)
        figure("image build (mmdebstrap -> qcow2)", time.monotonic() - t, "s")
    labmod.down(spec, progress=lambda m: None)
    t = time.monotonic()
    lab = labmod.up(spec, progress=lambda m: None)
    up_s = time.monotonic() - t
    figure("halab up, cached image -> nodes ready + LUNs", up_s, "s", f"budget {UP_BUDGET_S:.0f} s")
    figure("  ratio to budget", up_s / UP_BUDGET_S, "x", "<= 1 is within budget")
    for name, pid in domains.qemu_pids([n.domain for n in spec.nodes], lab.paths.nodes).items():
        figure(f"qemu RSS {name} ({lab.accel.kind})", rss_mib(pid), "MiB")
    lab.close()
    t = time.monotonic()
    labmod.down(spec, progress=lambda m: None)
    figure("halab down", time.monotonic() - t, "s")
    t = time.monotonic()
    labmod.down(spec, progress=lambda m: None)
    figure("halab down again (idempotent, nothing left)", time.monotonic() - t, "s")
    return 0


def bench_rhcs(args: argparse.Namespace) -> int:
    """The RHCS tree (compiled from upstream in a build chroot) and the RHCS image: build time
    (with --rebuild: from scratch; otherwise whatever is missing), the cached path, and sizes."""
    from halab.lab import rhcs, rhcsimage

    spec = load_spec(args.lab).with_stack("rgmanager")
    quiet = lambda m: None  # noqa: E731
    t = time.monotonic()
    tree = rhcs.ensure_tree(rebuild=args.rebuild, progress=quiet)
    figure("RHCS compile (mmdebstrap chroot + 4 tarballs)", time.monotonic() - t, "s",
           "from scratch" if args.rebuild else "cached unless missing")
    t = time.monotonic()
    image = rhcsimage.ensure_rhcs_image(spec.image.suite, rebuild=args.rebuild, progress=quiet)
    figure("RHCS image build (mmdebstrap -> qcow2)", time.monotonic() - t, "s",
           "from scratch" if args.rebuild else "cached unless missing")
    t = time.monotonic()
    rhcsimage.ensure_rhcs_image(spec.image.suite, progress=quiet)
    figure("RHCS image, second call (cache hit)", time.monotonic() - t, "s")
    figure("RHCS installed tree (tar.gz)", tree.tarball.stat().st_size / 2**20, "MiB")
    figure("RHCS image (compressed qcow2)", image.disk.stat().st_size / 2**20, "MiB")
    builtin = ensure_image(spec.image.suite, progress=quiet)
    figure("  ratio to the built-in image", image.disk.stat().st_size / builtin.disk.stat().st_size, "x")
    return 0


def say(message: str) -> None:
    """The harness's progress lines, timestamped on stderr: where a figure's seconds went."""
    print(f"# {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def timeline_lines(run: FaultRun) -> list[str]:
    """The run's history, one line per observation, a poll with what its status said."""
    out = []
    for o in run.timeline.items():
        said = [o.kind, o.detail[:160]]
        if o.status is not None:
            said += [f"online={','.join(sorted(o.status.online()))}",
                     ", ".join(f"{s.name} {s.state} on {s.owner}" for s in o.status.services)]
        if o.mounted is not None:
            said.append(f"mounted={o.mounted}")
        out.append(f"{o.t:9.2f} {o.source:8} {o.node or '-':8} " + " ".join(w for w in said if w))
    return out


def keep_evidence(run: FaultRun, lab: labmod.Lab, rnd: int) -> Path:
    """Every run keeps its verdict and every node's log under reports/bench-evidence/ (redacted),
    named by its verdict. Why: the next fault's reset throws the cluster's state away, and with it
    the only account of a run (session 9: service01 still "partial" 65.7 s after a fence, cause
    unknown because nothing was kept; session 10: a pass 0.6 s inside its window, after a group
    start of 97 s, the longest yet, and nothing kept because it passed)."""
    j = run.judgement
    verdict = "pass" if j and j.ok else "fail"
    out = EVIDENCE_DIR / f"round{rnd}-{run.fault}-{run.target}-{run.role}-{verdict}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join([j.headline() if j else "no verdict", *(str(c) for c in (j.checks if j else ())), "",
                      "--- timeline (seconds after t0)", *timeline_lines(run),
                      *(f"--- {log.node}\n{log.text or log.error}" for log in run.logs),
                      f"--- host fence path\n{run.fence_path_log}"])
    out.write_text(redact(text, secrets_of_lab(lab.paths)) + "\n")
    say(f"evidence of the run: {out}")
    history = allure_io.keep_history(run, EVIDENCE_DIR / "histories", secrets_of_lab(lab.paths))
    if history is not None:
        say(f"history of the run (halab judge FILE): {history}")
    return out


def bench_failover(args: argparse.Namespace) -> int:
    spec = load_spec(args.lab).with_stack(args.stack).with_timing(args.timing)
    faults = list(SEED_FAULTS) if args.faults == "seed" else args.faults.split(",")
    started = time.monotonic()
    lab = labmod.up(spec, progress=say)
    try:
        t = time.monotonic()
        live = LiveCluster(lab, _deploy(spec.stack)(lab, progress=say))
        figure("deploy + start cluster (all nodes together)", time.monotonic() - t, "s")
        if args.reset == "snapshot":
            saved = snapshot.take(lab, progress=say)
            live = replace(live, saved=saved)
            figure("cluster saved at rest (nodes paused together)", saved.taken_s, "s")
        for fault, role, rnd in ((f, r, i) for i in range(args.repeat) for f in faults
                                 for r in args.targets.split(",")):
            run = run_fault(live, fault, role, progress=say, phase_log=PHASE_LOG)
            j = run.judgement
            verdict = f"round {rnd + 1}: " + (("PASS" if j.ok else j.headline()) if j else "no verdict")
            figure(f"{fault}[{run.target}-{role}] test wall", run.wall_s, "s", verdict)
            figure("  cluster fault-to-healthy", run.cluster_s, "s")
            figure("  harness overhead", run.wall_s / max(run.cluster_s, 1e-3), "x", f"goal <= {OVERHEAD_GOAL}")
            if j and j.host:
                figure("  host: worst vCPU wait per token stretch", j.host.lag_s, "s",
                       f"on {j.host.node}, bound {j.host.bound_s:.2f}")
            keep_evidence(run, lab, rnd + 1)
            for p in j.phases if j else ():
                note = f"window [{p.earliest:.1f}, {p.latest:.1f}] {p.verdict}"
                figure(f"  {p.phase}", p.measured if p.measured is not None else float("nan"), "s", note)
    finally:
        lab.close()
        labmod.down(spec, progress=say)
    figure("whole matrix incl. lab up/down", time.monotonic() - started, "s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="what", required=True)
    lab_p = sub.add_parser("lab")
    lab_p.add_argument("--rebuild-image", action="store_true")
    fo = sub.add_parser("failover")
    fo.add_argument("--faults", default="seed")
    fo.add_argument("--targets", default="owner,standby")
    fo.add_argument("--timing", default="fast")
    fo.add_argument("--repeat", type=int, default=1, help="rounds of the whole matrix (false-alarm runs: 5)")
    fo.add_argument("--stack", default="pacemaker", choices=("pacemaker", "rgmanager"))
    fo.add_argument("--reset", default="restore", choices=("restore", "snapshot"),
                    help="how the cluster is put back after each fault (README: --reset)")
    rh = sub.add_parser("rhcs")
    rh.add_argument("--rebuild", action="store_true", help="compile and build the image from scratch")
    rg = sub.add_parser("ranges")
    rg.add_argument("--log", action="append", help=f"phase records (default: {PHASE_LOG.name} of "
                    "reports/ and bench/measured/)")
    for p in (lab_p, fo, rh, rg):
        p.add_argument("--lab", default="seed")
    args = parser.parse_args(argv)
    return {"lab": bench_lab, "failover": bench_failover, "rhcs": bench_rhcs, "ranges": bench_ranges}[args.what](args)


def bench_ranges(args: argparse.Namespace) -> int:
    """Measured ranges per stack, profile and accelerator: quantiles with the count they rest on
    (runs on a starved host are left out), then each profile range against what was measured.
    These replace the timing profiles' guessed ranges."""
    logs = [Path(p) for p in args.log] if args.log else [PHASE_LOG, MEASURED_LOG]
    rows = records.ranges(records.load_all(logs))
    if not rows:
        print(f"no phase records in {', '.join(map(str, logs))} (every live failover run appends to "
              f"reports/{records.HISTORY_FILE})")
        return 1
    qs = "/".join(f"p{int(q * 100)}" for q in records.QUANTILES)
    for (stack, profile, accel, name), (count, values) in rows.items():
        figure(f"{stack} {profile} {accel}: {name}"[:44], values[2], "s",
               f"n={count} {qs} = {', '.join(f'{v:g}' for v in values)}")
    spec = load_spec(args.lab)

    def upper_of(stack: str, profile: str, key: str) -> float | None:
        try:
            timing = spec.with_stack(stack).with_timing(profile).timing
        except HalabError:
            return None
        return float(getattr(timing, key)[1])

    for line in records.profile_gaps(rows, upper_of):
        print(line)
    return 0


if __name__ == "__main__":
    # SIGTERM/SIGINT/SIGHUP stop a bench like a test session: heal, tear the lab down (finally)
    interrupt.install(on_stop=interrupt.SESSION_ON_STOP)
    try:
        sys.exit(main())
    except (KeyboardInterrupt, interrupt.Interrupted) as stop:
        print(f"bench: stopped ({stop})", file=sys.stderr)
        sys.exit(130)
