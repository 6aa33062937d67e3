"""The host's fence log as evidence: every domain a fence agent destroyed goes on the history."""

from __future__ import annotations

from halab.observe.judge import FENCE_OFF, FENCE_PATH
from halab.observe.logs import read_fence_path
from halab.observe.timeline import Timeline
from halab.scenario import _record_fence_path
from halab.spec import load_spec

# halab-fence-shell's lines from the live double fence (session 11, heartbeat-down, fast profile)
DOUBLE = """2026-12-02T02:27:05.296Z 192.168.8.202 'virsh domstate RHCSvm01' rc=0 0.05s 'running'
2026-12-02T02:27:05.341Z 192.168.8.201 'virsh domstate RHCSvm02' rc=0 0.05s 'running'
2026-12-02T02:27:07.446Z 192.168.8.202 'virsh destroy RHCSvm01' rc=0 2.06s "Domain 'RHCSvm01' destroyed"
2026-12-02T02:27:07.464Z 192.168.8.201 'virsh destroy RHCSvm02' rc=0 2.06s "Domain 'RHCSvm02' destroyed"
"""


def test_the_fence_shell_log_reads_into_commands() -> None:
    cmds = read_fence_path(DOUBLE + "2026-12-02T02:27:08.000Z 192.168.8.9 'rm -rf /' rc=refused 0.00s 'no'\n")
    assert [(c.verb, c.domain, c.client, c.ok) for c in cmds] == [
        ("domstate", "RHCSvm01", "192.168.8.202", True), ("domstate", "RHCSvm02", "192.168.8.201", True),
        ("destroy", "RHCSvm01", "192.168.8.202", True), ("destroy", "RHCSvm02", "192.168.8.201", True)]
    assert cmds[2].wall == 1796178427.446


def test_each_destroy_is_a_fence_off_of_that_node_named_with_its_fencer() -> None:
    tl = Timeline()
    tl.wall_start = 1796178427.446 - 38.7  # t0 on the host clock, as in the live run
    _record_fence_path(tl, load_spec("seed"), DOUBLE)
    offs = [o for o in tl.items() if o.source == FENCE_PATH and o.kind == FENCE_OFF]
    assert [(o.node, o.detail) for o in offs] == [
        ("node01", "virsh destroy RHCSvm01 sent by node02"), ("node02", "virsh destroy RHCSvm02 sent by node01")]
    assert abs(offs[0].t - 38.7) < 0.01


def test_a_failed_destroy_or_a_foreign_domain_is_not_a_fence() -> None:
    tl = Timeline()
    stamp = "2026-12-02T02:27:07.446Z 192.168.8.202"
    _record_fence_path(tl, load_spec("seed"), f"{stamp} 'virsh destroy RHCSvm01' rc=1 0.1s 'error'\n"
                                              f"{stamp} 'virsh destroy other' rc=0 0.1s 'x'\n")
    assert not [o for o in tl.items() if o.source == FENCE_PATH]
