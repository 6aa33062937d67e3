"""One interface over two cluster stacks, chosen by name from a registry (data, not branches).

Tests and the oracle never hold a stack's own strings: they ask `get_adapter(spec.stack)` for
the command to run and for a reader of its output, and get the same result types
(halab.stacks.types) from rgmanager and from pacemaker.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol

from halab.errors import ConfigError
from halab.stacks.types import ClusterStatus, Event, FenceAction, Votes


@dataclass(frozen=True)
class Commands:
    """Shell commands of one stack, as templates for ``str.format`` with {service} {node} {since}.

    Cluster start is per node (``start_local``) but must be run on every node *at the same time*
    (the seed's clstart_all): a node started alone fences the others once its join delay ends.
    """

    status: str  # machine-readable status, read by StackAdapter.read_status
    status_text: str  # what a human (or a fallback reader) looks at
    votes: str  # read by StackAdapter.read_votes
    start_local: str
    stop_local: str
    enable_service: str  # {service} {node}
    relocate_service: str  # {service} {node}
    disable_service: str  # {service}
    fence_history: str  # read by StackAdapter.read_fence_history; "" when only logs tell
    logs_since: str  # {since}: "YYYY-MM-DD HH:MM:SS" (node clock); read by read_events
    support_bundle: str
    # Added after the interface was fixed (defaults keep older callers whole):
    nodes: str = ""  # membership with node ids
    quorum_device: str = ""  # quorum disk / sbd device listing ({device} where it needs one)
    ring_status: str = ""  # totem ring / knet link status
    start_together: bool = True  # start_local must run on all nodes at once
    # fence_history prints what this node itself ran (fenced.log), not the cluster's record: the
    # evidence is every node's, merged (a node that fenced its peer and was then fenced holds the
    # only record of its claim)
    fence_history_per_node: bool = False
    # Used by the cluster restore after a fault:
    stack_running: str = ""  # exits 0 exactly when the whole stack runs on the node
    clear_failures: str = ""  # forget resource failures so placement follows the design again
    clear_relocation: str = ""  # {service}: remove what relocate_service left behind (a move constraint)
    settled: str = ""  # exits 0 when the cluster has nothing left to do ("" when the stack cannot say)
    # why start_local failed on a node: its units' last lines (a RHEL 6 node has no journalctl)
    start_failed_log: str = ("journalctl -n 25 --no-pager -o short-iso -u cman -u rgmanager -u corosync "
                             "-u pacemaker 2>/dev/null || tail -n 25 /var/log/messages")
    settle_limit_s: float = 90.0  # how long deploy and restore let `settled` say "busy" before going on
    # A cluster whose `settled` says "busy" this long without a break, every member online and the
    # service not home, is stuck: the restore stops waiting for it (0: the stack cannot tell stuck
    # from slow).
    stuck_after_s: float = 0.0


class StackAdapter(Protocol):
    """What every stack provides: its commands, and readers into the shared result types.

    Readers raise halab.errors.ParseError (kind + line) on garbled or truncated input, never a
    traceback and never a partial answer dressed as a whole one.
    """

    name: str
    commands: Commands

    def read_status(self, text: str) -> ClusterStatus:
        """The output of ``commands.status``."""
        ...

    def read_votes(self, text: str) -> Votes:
        """The output of ``commands.votes``."""
        ...

    def read_events(self, text: str, reporter: str | None = None, year: int | None = None) -> list[Event]:
        """The output of ``commands.logs_since``; ``year`` for syslog lines that carry none."""
        ...

    def read_fence_history(self, text: str) -> tuple[FenceAction, ...]:
        """The output of ``commands.fence_history`` (empty for a stack that has none)."""
        ...


# stack name -> "module:attribute" of its adapter instance; imported on first use
ADAPTERS: dict[str, str] = {
    "pacemaker": "halab.stacks.pacemaker:ADAPTER",
    "rgmanager": "halab.stacks.rgmanager:ADAPTER",
}


def get_adapter(name: str) -> StackAdapter:
    """The adapter of stack ``name`` ("pacemaker" or "rgmanager")."""
    target = ADAPTERS.get(name)
    if target is None:
        raise ConfigError(f"unknown stack {name!r} (one of {', '.join(sorted(ADAPTERS))})")
    module_name, attr = target.split(":")
    adapter: StackAdapter = getattr(importlib.import_module(module_name), attr)
    return adapter
