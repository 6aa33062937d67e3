"""Stop a node's cluster stack before a deploy afresh; a stop that hangs resets the node.

Why: a deploy afresh follows a broken cluster too (a mutant's revert, a run stopped halfway).
Measured live: after the stonith-disabled mutant's split brain, `systemctl stop pacemaker` on the
old owner did not end in 120 s (a resource stop that cannot finish, and nothing to fence it), and
the deploy failed with the mutant still in the CIB; on rgmanager, `service rgmanager stop` hung
on a node whose peer had relocated its service. A reset node boots without the stack (it is not
enabled at boot), without the data mount and the service IP; it is logged in to the target
again, and the deploy writes everything else afresh.
"""

from __future__ import annotations

from collections.abc import Callable

from halab.lab import domains
from halab.lab.lab import Lab, iscsi_login
from halab.lab.remote import Unreachable


def stopped_or_reset(lab: Lab, node: str, stop: str, timeout_s: float, progress: Callable[[str], None],
                     then: str = "") -> None:
    """Run ``stop`` (then ``then``) on ``node``; when it does not end within ``timeout_s``, reset
    the node, wait for SSH and the target, and run ``then`` there."""
    try:
        lab.remote(node).run(f"{stop}; {then}" if then else stop, timeout=timeout_s)
        return
    except Unreachable as err:
        progress(f"deploy: {node}: the stack did not stop ({err}); resetting the node")
    domains.act(lab.spec.node(node).domain, "reset")
    remote = lab.remote(node)
    remote.wait_ssh(lab.spec.timing.node_boot_s[1])
    iscsi_login(lab, lab.spec.node(node))
    if then:
        remote.run(then, timeout=30, check=True)
