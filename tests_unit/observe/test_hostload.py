"""The host-load sentinel's math and its /proc reading, on a hand-made /proc (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from halab.observe.hostload import HostSampler, host_lag, lag_bound, parse, qemu_pid, run_delay
from halab.observe.timeline import Observation, Timeline


def fake_proc(root: Path, pid: int, domain: str, threads: dict[int, tuple[str, int]],
              disk: str = "/var/lib/halab/labs/seed/nodes/x.qcow2") -> None:
    """/proc/<pid> of a qemu process: cmdline with -name guest=<domain>, tasks with comm and schedstat."""
    proc = root / str(pid)
    proc.mkdir(parents=True)
    args = ["/usr/bin/qemu-system-x86_64", "-name", f"guest={domain},debug-threads=on", "-m", "1024",
            "-blockdev", f'{{"driver":"file","filename":"{disk}"}}']
    (proc / "cmdline").write_bytes("\0".join(args).encode() + b"\0")
    for tid, (comm, delay_ns) in threads.items():
        task = proc / "task" / str(tid)
        task.mkdir(parents=True)
        (task / "comm").write_text(comm + "\n")
        (task / "schedstat").write_text(f"123456 {delay_ns} 42\n")


def test_the_bound_is_half_a_token_over_a_token_long_stretch() -> None:
    assert lag_bound(5000) == (1.0, 5.0)
    assert lag_bound(20000) == (4.0, 20.0)


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
    assert o.detail.endswith("pid=4242")


def test_only_this_labs_qemu_is_sampled(tmp_path: Path) -> None:
    """A same-named domain of another lab (or another tool) on the host is never sampled."""
    fake_proc(tmp_path, 4242, "dom1", {4243: ("CPU 0/TCG", 2_000_000_000)}, disk="/elsewhere/dom1.qcow2")
    fake_proc(tmp_path, 5252, "dom1", {5253: ("CPU 0/TCG", 1_000_000_000)},
              disk="/var/lib/halab/labs/seed/nodes/RHCSvm01.qcow2")
    tl = Timeline()
    HostSampler(tl, {"dom1": "node01"}, proc=tmp_path, nodes_dir=Path("/var/lib/halab/labs/seed/nodes")).sample()
    (o,) = tl.items()
    assert o.detail.endswith("pid=5252")


def samples(node: str, cumulative: list[float], vcpus: int = 1, start: float = 0.0) -> list[Observation]:
    return [Observation(start + i, "host", node, "cpu", f"run_delay_s={c} vcpus={vcpus}")
            for i, c in enumerate(cumulative)]


def test_lag_is_the_worst_per_vcpu_wait_over_a_stretch() -> None:
    # node01 waits 0.8 s a second for 4 s (3.2 s in total), node02 stays idle
    busy = samples("node01", [0.0, 0.1, 0.9, 1.7, 2.5, 3.3, 3.4, 3.5])
    idle = samples("node02", [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07])
    lag = host_lag(busy + idle, 0.0, 7.0, bound_s=2.5, stretch_s=5.0)
    assert lag is not None
    assert lag.node == "node01"
    assert lag.lag_s == pytest.approx(3.3)  # e.g. 0.0 -> 3.3 within 5 s
    assert lag.starved
    quiet = host_lag(idle, 0.0, 7.0, bound_s=2.5, stretch_s=5.0)
    assert quiet is not None
    assert not quiet.starved


def test_lag_is_per_vcpu_and_ignores_a_restarted_process() -> None:
    two = samples("node01", [0.0, 1.0, 2.0], vcpus=2)
    assert host_lag(two, 0.0, 2.0, bound_s=2.5, stretch_s=5.0).lag_s == pytest.approx(1.0)  # type: ignore[union-attr]
    fenced = samples("node02", [50.0, 50.2, 0.1, 0.2])  # a fence restarted qemu: counters begin again
    assert host_lag(fenced, 0.0, 3.0, bound_s=2.5, stretch_s=5.0).lag_s == pytest.approx(0.2)  # type: ignore[union-attr]


def test_a_node_s_samples_stop_counting_at_its_end() -> None:
    busy_late = samples("node01", [0.0, 0.01, 0.02, 0.9, 1.8, 2.7, 3.6])
    assert host_lag(busy_late, 0.0, 7.0, bound_s=2.5, stretch_s=5.0).starved  # type: ignore[union-attr]
    cut = host_lag(busy_late, 0.0, 7.0, bound_s=2.5, stretch_s=5.0, ends={"node01": 2.5})
    assert cut is not None
    assert cut.lag_s == pytest.approx(0.02)


def test_samples_of_another_qemu_or_another_thread_count_are_not_compared() -> None:
    # a fence restarted qemu (pid 7), which named its vCPU threads only after its first sample
    # (all 5 threads summed: 0.3 s), then 2 vCPUs at 8 s in total: no wait in any stretch
    obs = [Observation(0.0, "host", "node01", "cpu", "run_delay_s=40.0 vcpus=2 pid=5"),
           Observation(1.0, "host", "node01", "cpu", "run_delay_s=0.3 vcpus=5 pid=7"),
           Observation(2.0, "host", "node01", "cpu", "run_delay_s=8.0 vcpus=2 pid=7"),
           Observation(3.0, "host", "node01", "cpu", "run_delay_s=8.1 vcpus=2 pid=7")]
    lag = host_lag(obs, 0.0, 3.0, bound_s=1.0, stretch_s=5.0)
    assert lag is not None
    assert lag.lag_s == pytest.approx(0.05)
    assert not lag.starved


def test_lag_counts_the_sample_just_before_the_window_and_none_without_two_samples() -> None:
    obs = samples("node01", [0.0, 3.0], start=-0.5)
    assert host_lag(obs, 0.0, 10.0, bound_s=2.5, stretch_s=5.0).lag_s == pytest.approx(3.0)  # type: ignore[union-attr]
    assert host_lag(samples("node01", [0.0]), 0.0, 10.0, bound_s=2.5, stretch_s=5.0) is None
    assert host_lag([], 0.0, 10.0, bound_s=2.5, stretch_s=5.0) is None


def _policies(pid: int) -> set[int]:
    import os

    return {os.sched_getscheduler(int(t.name)) for t in Path(f"/proc/{pid}/task").iterdir()}


def test_starvation_puts_every_qemu_thread_under_sched_idle_and_stop_undoes_it(tmp_path: Path) -> None:
    """Real processes: a two-thread stand-in named qemu with -name guest=dom; the hogs are stress-ng."""
    import os
    import subprocess
    import sys
    import time

    from halab.observe.hostload import Starvation

    code = "import threading, time; threading.Thread(target=time.sleep, args=(60,)).start(); time.sleep(60)"
    fake = subprocess.Popen(["bash", "-c", f"exec -a qemu-system-x86_64 {sys.executable} -c '{code}' "
                                           "-name guest=RHCSvm09,debug-threads=on"], start_new_session=True)
    starve = Starvation(("RHCSvm09",), hogs=1)
    try:
        deadline = time.monotonic() + 5
        while qemu_pid("RHCSvm09") != fake.pid or len(_policies(fake.pid)) == 0:
            assert time.monotonic() < deadline, "the stand-in never showed up as qemu"
            time.sleep(0.05)
        while len(list(Path(f"/proc/{fake.pid}/task").iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        starve.start(timeout_s=30)
        hog = starve._hog
        assert hog is not None
        assert hog.poll() is None
        assert _policies(fake.pid) == {os.SCHED_IDLE}, "every thread, not only the main one"
        starve.stop()
        assert _policies(fake.pid) == {os.SCHED_OTHER}
        assert hog.poll() is not None, "the hogs end with stop()"
        starve.stop()  # idempotent
    finally:
        starve.stop()
        fake.kill()
        fake.wait(10)


def test_starvation_without_the_lab_qemu_is_a_clear_error_and_starts_no_hog() -> None:
    from halab.errors import LabError
    from halab.observe.hostload import Starvation

    starve = Starvation(("no-such-domain-halab",), hogs=1)
    with pytest.raises(LabError, match=r"no qemu process for \['no-such-domain-halab'\]"):
        starve.start(timeout_s=5)
    assert starve._hog is None


def test_a_domain_reset_during_the_fault_boots_idle_until_the_heal(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured on web3 (3 TCG guests, 2 cores): the fenced node's boot took 84 % of a core and the
    survivors waited 4.0-4.7 s per 10 s. A domain back under a new qemu yields to the survivors
    until the heal; the qemu it ran at the start, and any qemu after the heal, keep their policy."""
    import os
    import shutil

    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "sched_setscheduler", lambda tid, policy, _param: calls.append((tid, policy)))
    fake_proc(tmp_path, 4242, "dom1", {4243: ("CPU 0/TCG", 1_000_000_000)})
    tl = Timeline()
    sampler = HostSampler(tl, {"dom1": "node01"}, proc=tmp_path, yield_resets=True)
    sampler.sample()
    assert calls == []  # the domain's own qemu at the start is left alone
    shutil.rmtree(tmp_path / "4242")  # the fence: the domain goes off ...
    sampler.sample()
    fake_proc(tmp_path, 5151, "dom1", {5152: ("CPU 0/TCG", 0)})  # ... and boots under a new qemu
    sampler.sample()
    assert calls == [(5152, os.SCHED_IDLE)]
    sampler.release()
    assert calls[-1] == (5152, os.SCHED_OTHER)
    sampler.release()  # idempotent
    shutil.rmtree(tmp_path / "5151")
    sampler.sample()
    fake_proc(tmp_path, 6161, "dom1", {6162: ("CPU 0/TCG", 0)})  # a reset after the heal
    sampler.sample()
    assert calls == [(5152, os.SCHED_IDLE), (5152, os.SCHED_OTHER)]


def test_without_yield_resets_no_policy_is_touched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import shutil

    calls: list[int] = []
    monkeypatch.setattr(os, "sched_setscheduler", lambda tid, _policy, _param: calls.append(tid))
    fake_proc(tmp_path, 4242, "dom1", {4243: ("CPU 0/TCG", 1)})
    sampler = HostSampler(Timeline(), {"dom1": "node01"}, proc=tmp_path)
    sampler.sample()
    shutil.rmtree(tmp_path / "4242")
    sampler.sample()
    fake_proc(tmp_path, 5151, "dom1", {5152: ("CPU 0/TCG", 0)})
    sampler.sample()
    sampler.stop()
    assert calls == []
