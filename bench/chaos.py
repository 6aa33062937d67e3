"""A chaos run of the harness itself: interrupt fault runs at random moments, then do what a user does next.

    .venv/bin/python bench/chaos.py [--rounds 20] [--seed N] [--lab seed] [--timing fast]

Each round starts a failover run (pytest -m failover, one fault on the owner, --keep-lab) on the
live lab, and at a random moment interrupts it: SIGINT (Ctrl-C), SIGTERM (CI cancel), SIGKILL of
its process group, a frozen node (virsh suspend), a killed libvirtd or a killed tgtd. Then it runs
the next command a user would: pytest with --reuse-lab (always the suspend fault, the one
measured to pass on this host, so its failure means the previous round spoiled it), or `halab down`. It counts what
halab promises never happens: faults left in place, labs or processes left behind, verdicts
spoiled by the previous round, runs that hung. It prints one line per round, the table and the
seed. It takes the machine's live-lab lock itself (waiting a bounded time) and leaves the lab down.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from halab.errors import HalabError
from halab.faults.hostside import tap_of
from halab.lab import daemons, domains, virt
from halab.lab import lab as labmod
from halab.lab.host import run
from halab.lab.lab import FENCE_KEY_ON_NODE
from halab.lab.paths import LabPaths
from halab.proc import file_lock, kill_group, start_group, wait_group
from halab.spec import LabSpec, load_spec

ROOT = Path(__file__).resolve().parents[1]
LIVE_LOCK = Path("/tmp/halab-live.lock")
KINDS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGINT-twice", "SIGKILL", "freeze-node", "kill-libvirtd", "kill-tgtd")
HEALING_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")  # halab promises these heal before the run ends
STOPPING_SIGNALS = (*HEALING_SIGNALS, "SIGINT-twice", "SIGKILL")  # the run must end within STOP_BOUND_S
MOMENTS = ("any", "fault")  # a random moment of the whole run, or one after the fault went in
INJECTED = ": injecting; expect"  # the run's progress line when the fault goes in
FAULTS = ("heartbeat-down", "iscsi-block", "suspend")  # what the interrupted run injects
NEXT_FAULT = "suspend"  # the next run's fault: the one that passes here, so a failure means spoiled
STOP_BOUND_S = 90.0  # after SIGINT/SIGTERM the run must end within this (heal is bounded well below)
RUN_BOUND_S = 1500.0  # a whole run (build + deploy + one fault) ends within this, whatever happened
DOWN_BOUND_S = 300.0
BOOT_BOUND_S = 240.0  # a fenced node boots again within this under TCG (measured 60-150 s)


@dataclass
class Round:
    n: int
    kind: str
    fault: str
    delay_s: float
    moment: str = "any"
    stop_s: float = 0.0
    first_exit: int | None = None
    left_after_interrupt: list[str] = field(default_factory=list)
    next_cmd: str = ""
    next_exit: int | None = None
    next_s: float = 0.0
    left_after_next: list[str] = field(default_factory=list)
    behind: list[str] = field(default_factory=list)
    spoiled: bool = False
    starved: int = 0  # next runs the host starved (INCONCLUSIVE, no verdict) and that were run again
    hung: bool = False

    def line(self) -> str:
        return (f"{self.n:>3} {self.kind:<13} {self.fault:<15} {self.delay_s:>6.0f} s {self.moment:<5} "
                f"exit {self.first_exit!s:<5}"
                f" stop {self.stop_s:>5.0f} s | next: {self.next_cmd:<12} exit {self.next_exit!s:<5}"
                f" {self.next_s:>5.0f} s | in place {len(self.left_after_interrupt)}/{len(self.left_after_next)}"
                f" behind {len(self.behind)} spoiled {int(self.spoiled)} starved {self.starved} hung {int(self.hung)}")


def pytest_argv(fault: str, lab: str, timing: str, reuse: bool) -> list[str]:
    return [sys.executable, "-m", "pytest", "-m", "failover",
            "tests_failover/test_failover.py::TestSeedCluster::test_failover", "--lab", lab, "--faults", fault,
            "--targets", "owner", "--timing", timing,
            "--keep-lab", "-p", "no:cacheprovider", "-q", "-x", *(["--reuse-lab"] if reuse else [])]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "lib")}


def lab_is_up(spec: LabSpec) -> bool:
    """Up and whole: a lab whose build was interrupted is not up (--reuse-lab rebuilds it)."""
    paths = LabPaths(spec.name)
    try:
        phase = json.loads(paths.state_file.read_text()).get("phase")
    except (OSError, ValueError):
        return False
    return phase == "up" and Path(f"/run/netns/{paths.netns}").exists()


def faults_in_place(spec: LabSpec) -> list[str]:
    """What a fault leaves behind, looked at from outside the harness: paused or stopped domains,
    tagged firewall rules, NICs down, a management tap down, a wrong fence key."""
    if not lab_is_up(spec):
        return []
    try:
        lab = labmod.attach(spec)
    except HalabError as err:
        return [f"lab not attachable: {err}"]
    found: list[str] = []
    good_key = hashlib.sha256(lab.paths.fence_key.read_bytes()).hexdigest()
    try:
        for node in spec.nodes:
            found += _node_faults(lab, node.name, node.domain, good_key)
    finally:
        lab.close()
    return found


def _node_faults(lab: labmod.Lab, node: str, domain: str, good_key: str, waited: bool = False) -> list[str]:
    try:
        state = domains.state(domain)
    except HalabError as err:
        return [f"{node}: libvirt: {err}"]
    if state != "running":
        return [f"{node}: domain {state}"]
    out = []
    try:
        tap = tap_of(lab, node, "management")
        if "state DOWN" in run(["ip", "link", "show", tap], netns=lab.paths.netns, timeout=10, check=False).stdout:
            out.append(f"{node}: management tap down")
        res = lab.remote(node).run(
            "iptables -S | grep -c halab-fault; ip -br link show hb; ip -br link show svc; "
            f"sha256sum {FENCE_KEY_ON_NODE} | cut -d' ' -f1", timeout=20, connect_timeout=5)
    except HalabError as err:
        if waited:
            return [*out, f"{node}: unreachable after {BOOT_BOUND_S:.0f} s ({str(err)[:60]})"]
        # a node the cluster fenced boots again: unreachable for a while is not a fault left in place
        try:
            lab.remote(node).wait_ssh(BOOT_BOUND_S)
        except HalabError as late:
            return [*out, f"{node}: unreachable after {BOOT_BOUND_S:.0f} s ({str(late)[:60]})"]
        return _node_faults(lab, node, domain, good_key, waited=True)
    lines = res.stdout.split("\n")
    if lines and lines[0].strip() not in ("", "0"):
        out.append(f"{node}: {lines[0].strip()} firewall rule(s)")
    out += [f"{node}: {ln.split()[0]} down" for ln in lines[1:3] if " DOWN " in f" {ln} "]
    if len(lines) > 3 and lines[3].strip() != good_key:
        out.append(f"{node}: wrong fence key")
    return out


def behind_after_down(spec: LabSpec) -> list[str]:
    out = labmod.leftovers(spec)
    out += [f"qemu pid {p}" for p in domains.qemu_pids([n.domain for n in spec.nodes], LabPaths(spec.name).nodes)
            .values()]
    others = other_labs_daemons(spec.name)  # another lab's daemons are not this lab's leftovers
    for name in ("tgtd", "libvirtd", "virtlogd"):  # zombies are gone, only not yet reaped (PID 1 here is lazy)
        out += [f"{name} pid {p}" for p in run(["pgrep", "-x", name], timeout=10, check=False).stdout.split()
                if int(p) not in others and daemons.identity_of(int(p), with_cmdline=False) is not None]
    return sorted(set(out))


def other_labs_daemons(name: str) -> set[int]:
    """The daemons other halab labs on this host run (by their PID files, still theirs)."""
    out: set[int] = set()
    for other in labmod.lab_names():
        if other == name:
            continue
        for pid_file in LabPaths(other).pids.glob("*.pid"):
            ident = daemons.Identity.from_json(pid_file.read_text(errors="replace"))
            if ident is not None and daemons.same(ident):
                out.add(ident.pid)
    return out


def disturb(kind: str, proc_pid: int, spec: LabSpec, rng: random.Random) -> None:
    """The interruption itself."""
    paths = LabPaths(spec.name)
    if kind in HEALING_SIGNALS:
        os.kill(proc_pid, getattr(signal, kind))
    elif kind == "SIGINT-twice":  # a person pressing Ctrl-C twice: stop at once, the lab left as it is
        os.kill(proc_pid, signal.SIGINT)
        time.sleep(1.0)
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc_pid, signal.SIGINT)
    elif kind == "SIGKILL":
        os.killpg(proc_pid, signal.SIGKILL)
    elif kind == "freeze-node":
        virt.select(paths)  # this lab's own libvirtd
        domains.act(rng.choice(spec.nodes).domain, "suspend")
    else:
        name = kind.removeprefix("kill-")
        pid_file = daemons.pid_file(paths.pids, name)
        ident = daemons.Identity.from_json(pid_file.read_text()) if pid_file.exists() else None
        if ident is not None and daemons.same(ident):
            os.kill(ident.pid, signal.SIGKILL)


CHILDREN: list[subprocess.Popen[str]] = []  # the runs this chaos run started: the only ones it signals


def tracked(proc: subprocess.Popen[str]) -> subprocess.Popen[str]:
    CHILDREN.append(proc)
    return proc


def stop_children() -> None:
    """Ctrl-C on the chaos run: SIGINT each failover run it started (each heals and ends), bounded."""
    live = [p for p in CHILDREN if p.poll() is None]
    for proc in live:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGINT)
    for proc in live:
        if wait_group(proc, STOP_BOUND_S) is None:
            kill_group(proc)


def wait_for_fault(proc: subprocess.Popen[str], log: Path, bound_s: float) -> float:
    """Seconds until the run's log says the fault went in (or the run ended, or the bound)."""
    started = time.monotonic()
    while time.monotonic() - started < bound_s and proc.poll() is None:
        if INJECTED in log.read_text(errors="replace"):
            break
        time.sleep(1.0)
    return time.monotonic() - started


def one_round(n: int, spec: LabSpec, args: argparse.Namespace, rng: random.Random, logs: Path) -> Round:
    """Half the rounds interrupt at a random moment of the whole run (most land in the lab build or
    the deploy, which take 3-4 min here); the other half a random moment after the fault went in,
    so interruptions of a fault in place are not left to chance."""
    kind, fault, moment = rng.choice(KINDS), rng.choice(FAULTS), rng.choice(MOMENTS)
    reuse = lab_is_up(spec)
    # a run on a reused lab takes 2-4 min here (TCG); one that builds the lab 2 min more
    after = rng.uniform(0.0, 90.0) if moment == "fault" else rng.uniform(5.0, 150.0 if reuse else 260.0)
    log = logs / f"round{n:02d}.log"
    proc = tracked(start_group(pytest_argv(fault, args.lab, args.timing, reuse), log, env(), ROOT))
    waited = wait_for_fault(proc, log, RUN_BOUND_S) if moment == "fault" else 0.0
    rnd = Round(n, kind, fault, waited + after, moment=moment)
    rnd.first_exit = wait_group(proc, after)
    if rnd.first_exit is None:  # still running: interrupt it now
        disturbed = time.monotonic()
        try:
            disturb(kind, proc.pid, spec, rng)
        except (HalabError, OSError) as err:
            print(f"    round {n}: {kind} could not be done: {err}", flush=True)
        bound = STOP_BOUND_S if kind in STOPPING_SIGNALS else RUN_BOUND_S
        rnd.first_exit = wait_group(proc, bound)
        rnd.stop_s = time.monotonic() - disturbed
        if rnd.first_exit is None:
            rnd.hung = True
            kill_group(proc)
    if kind in HEALING_SIGNALS:  # halab promises these heal before they end
        rnd.left_after_interrupt = faults_in_place(spec)
    next_is_down = kind in ("kill-libvirtd", "kill-tgtd") or rng.random() < 0.4 or not lab_is_up(spec)
    started = time.monotonic()
    if next_is_down:
        rnd.next_cmd = "halab down"
        done = start_group([sys.executable, "-m", "halab.cli", "down", "--lab", args.lab], log, env(), ROOT)
        rnd.next_exit = wait_group(done, DOWN_BOUND_S)
        rnd.behind = behind_after_down(spec)
    else:
        rnd.next_cmd = "reuse-lab run"
        for _ in range(2):  # a run the host starved made no verdict: run it once more (measured: 2 of 2)
            offset = log.stat().st_size if log.exists() else 0
            again = tracked(start_group(pytest_argv(NEXT_FAULT, args.lab, args.timing, True), log, env(), ROOT))
            rnd.next_exit = wait_group(again, RUN_BOUND_S)
            if rnd.next_exit == 0 or not starved_only(log, offset):
                break
            rnd.starved += 1
        rnd.spoiled = rnd.next_exit != 0
        rnd.left_after_next = faults_in_place(spec)
        done = again
    rnd.next_s = time.monotonic() - started
    if rnd.next_exit is None:
        rnd.hung = True
        kill_group(done)
    return rnd


STARVED = "INCONCLUSIVE: host starved"
JUDGED_FAILURE = re.compile(r"^(E\s|ERROR|UNSAFE|WRONG OUTCOME|TOO SLOW|TOO EARLY|NO EVIDENCE|HARNESS)", re.M)


def starved_only(log: Path, offset: int) -> bool:
    """The run logged from ``offset`` on failed only because the host starved its lab (the verdict's
    host-load sentinel): no verdict was made, so it says nothing about the previous round."""
    with log.open("rb") as fh:
        fh.seek(offset)
        text = fh.read().decode(errors="replace")
    return STARVED in text and not JUDGED_FAILURE.search(text)


def _as_keyboard_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/chaos.py", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--lab", default="seed")
    parser.add_argument("--timing", default="fast")
    parser.add_argument("--lock-wait", type=float, default=1800.0, help="seconds to wait for the live-lab lock")
    parser.add_argument("--stop-by", type=float, default=0.0,
                        help="epoch seconds: start no round that could end after this (0: no limit)")
    parser.add_argument("--round-estimate", type=float, default=480.0, help="seconds one round takes at most, usually")
    args = parser.parse_args(argv)
    # a CI cancel or a closed terminal stops the chaos run like Ctrl-C: its runs are interrupted too.
    # SIGINT is set here as well: a shell starts a background job with SIGINT ignored, and Python
    # then keeps it ignored (measured: a chaos run started with `nohup ... &` did not stop on SIGINT)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _as_keyboard_interrupt)
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    spec = load_spec(args.lab)
    logs = ROOT / "reports" / f"chaos-{seed}"
    logs.mkdir(parents=True, exist_ok=True)
    print(f"chaos: seed {seed}, {args.rounds} rounds, logs in {logs}", flush=True)
    rounds: list[Round] = []
    with file_lock(LIVE_LOCK, args.lock_wait, "the live-lab lock"):
        first = start_group([sys.executable, "-m", "halab.cli", "down", "--lab", args.lab], logs / "first-down.log",
                            env(), ROOT)
        if wait_group(first, DOWN_BOUND_S) != 0:  # a lab someone left up: start from nothing, or not at all
            print(f"chaos: the first `halab down` failed; see {logs / 'first-down.log'}", flush=True)
            return 2
        try:
            for n in range(1, args.rounds + 1):
                if args.stop_by and time.time() + args.round_estimate > args.stop_by:
                    print(f"chaos: stopping before round {n}: it could end after --stop-by", flush=True)
                    break
                try:
                    rnd = one_round(n, spec, args, rng, logs)
                except KeyboardInterrupt:
                    stop_children()
                    print(f"chaos: interrupted in round {n}; the round's run was interrupted too (it heals)",
                          flush=True)
                    break
                rounds.append(rnd)
                print(rnd.line(), flush=True)
                for what in rnd.left_after_interrupt + rnd.left_after_next + rnd.behind:
                    print(f"      {what}", flush=True)
        finally:
            done = start_group([sys.executable, "-m", "halab.cli", "down", "--lab", args.lab], logs / "final.log",
                               env(), ROOT)
            wait_group(done, DOWN_BOUND_S)
    print_table(rounds, seed)
    bad = sum(bool(r.left_after_interrupt or r.left_after_next or r.behind or r.spoiled or r.hung) for r in rounds)
    return 1 if bad else 0


def print_table(rounds: list[Round], seed: int) -> None:
    print(f"\nchaos summary (seed {seed}): {len(rounds)} rounds")
    print(f"{'interruption':<14} {'rounds':>6} {'faults left':>12} {'left behind':>12} {'spoiled':>8} {'hung':>5} "
          f"{'starved, run again':>19}")
    for kind in KINDS:
        rs = [r for r in rounds if r.kind == kind]
        if rs:
            print(f"{kind:<14} {len(rs):>6} {sum(bool(r.left_after_interrupt or r.left_after_next) for r in rs):>12} "
                  f"{sum(bool(r.behind) for r in rs):>12} {sum(r.spoiled for r in rs):>8} {sum(r.hung for r in rs):>5} "
                  f"{sum(r.starved for r in rs):>19}")
    clean = sum(not (r.left_after_interrupt or r.left_after_next or r.behind or r.spoiled or r.hung) for r in rounds)
    print(f"{'all':<14} {len(rounds):>6}   clean rounds {clean}/{len(rounds)}; longest stop after a signal "
          f"{max((r.stop_s for r in rounds if r.kind.startswith('SIG')), default=0):.0f} s")


if __name__ == "__main__":
    sys.exit(main())
