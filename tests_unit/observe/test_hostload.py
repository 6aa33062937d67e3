"""The host-load sentinel's math and its /proc reading, on a hand-made /proc (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from halab.observe.hostload import HostSampler, host_lag, lag_bound, parse, qemu_pid, run_delay
from halab.observe.timeline import Observation, Timeline


def fake_proc(root: Path, pid: int, domain: str, threads: dict[int, tuple[str, int]]) -> None:
    """/proc/<pid> of a qemu process: cmdline with -name guest=<domain>, tasks with comm and schedstat."""
    proc = root / str(pid)
    proc.mkdir(parents=True)
    args = ["/usr/bin/qemu-system-x86_64", "-name", f"guest={domain},debug-threads=on", "-m", "1024"]
    (proc / "cmdline").write_bytes("\0".join(args).encode() + b"\0")
    for tid, (comm, delay_ns) in threads.items():
        task = proc / "task" / str(tid)
        task.mkdir(parents=True)
        (task / "comm").write_text(comm + "\n")
        (task / "schedstat").write_text(f"123456 {delay_ns} 42\n")


def test_the_bound_is_a_quarter_token_over_a_token_long_stretch() -> None:
    assert lag_bound(5000) == (1.25, 5.0)
    assert lag_bound(20000) == (5.0, 20.0)


def test_qemu_pid_and_vcpu_run_delay_from_proc(tmp_path: Path) -> None:
    fake_proc(tmp_path, 4242, "halab-seed-node01", {4242: ("qemu-system-x86", 9_000_000_000),
                                                    4243: ("CPU 0/TCG", 1_500_000_000),
                                                    4244: ("CPU 1/TCG", 500_000_000)})
    fake_proc(tmp_path, 5151, "halab-seed-node02", {5151: ("qemu-system-x86", 1)})
    (tmp_path / "self").mkdir()
    assert qemu_pid("halab-seed-node01", tmp_path) == 4242
    assert qemu_pid("halab-seed-node03", tmp_path) is None
    assert run_delay(4242, tmp_path) == (2.0, 2)  # vCPU threads only, summed
    assert run_delay(5151, tmp_path) == (pytest.approx(1e-9), 1)  # unnamed threads: all count
    assert run_delay(9999, tmp_path) is None


def test_the_sampler_puts_samples_on_the_timeline(tmp_path: Path) -> None:
    fake_proc(tmp_path, 4242, "dom1", {4243: ("CPU 0/TCG", 2_000_000_000)})
    tl = Timeline()
    HostSampler(tl, {"dom1": "node01", "gone": "node02"}, proc=tmp_path).sample()
    (o,) = tl.items()
    assert (o.source, o.node, o.kind) == ("host", "node01", "cpu")
    assert parse(o) == (2.0, 1)


def samples(node: str, cumulative: list[float], vcpus: int = 1, start: float = 0.0) -> list[Observation]:
    return [Observation(start + i, "host", node, "cpu", f"run_delay_s={c} vcpus={vcpus}")
            for i, c in enumerate(cumulative)]


def test_lag_is_the_worst_per_vcpu_wait_over_a_stretch() -> None:
    # node01 waits 0.5 s a second for 4 s (2 s in total), node02 stays idle
    busy = samples("node01", [0.0, 0.1, 0.6, 1.1, 1.6, 2.1, 2.2, 2.3])
    idle = samples("node02", [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07])
    lag = host_lag(busy + idle, 0.0, 7.0, bound_s=1.25, stretch_s=5.0)
    assert lag is not None
    assert lag.node == "node01"
    assert lag.lag_s == pytest.approx(2.1)  # e.g. 0.0 -> 2.1 within 5 s
    assert lag.starved
    quiet = host_lag(idle, 0.0, 7.0, bound_s=1.25, stretch_s=5.0)
    assert quiet is not None
    assert not quiet.starved


def test_lag_is_per_vcpu_and_ignores_a_restarted_process() -> None:
    two = samples("node01", [0.0, 1.0, 2.0], vcpus=2)
    assert host_lag(two, 0.0, 2.0, bound_s=1.25, stretch_s=5.0).lag_s == pytest.approx(1.0)  # type: ignore[union-attr]
    fenced = samples("node02", [50.0, 50.2, 0.1, 0.2])  # a fence restarted qemu: counters begin again
    assert host_lag(fenced, 0.0, 3.0, bound_s=1.25, stretch_s=5.0).lag_s == pytest.approx(0.2)  # type: ignore[union-attr]


def test_lag_counts_the_sample_just_before_the_window_and_none_without_two_samples() -> None:
    obs = samples("node01", [0.0, 3.0], start=-0.5)
    assert host_lag(obs, 0.0, 10.0, bound_s=1.25).lag_s == pytest.approx(3.0)  # type: ignore[union-attr]
    assert host_lag(samples("node01", [0.0]), 0.0, 10.0, bound_s=1.25) is None
    assert host_lag([], 0.0, 10.0, bound_s=1.25) is None
