"""Status polls of every node, about once a second, each on its own thread with tight timeouts.

Why one thread per node: under TCG one `crm_mon` over SSH takes 0.5-2 s, and a frozen or fenced
node must not delay the view from the others. Each poll also says whether the data LUN is mounted
there, which is how "never mounted on two nodes" is checked.

Why the mount first and the status command bounded on the node: measured live (iscsi-block on the
owner), `crm_mon` on the node whose storage was cut ran into the poll's SSH timeout for 20 s, and
the mount answer, printed after it, was lost with it: the safety checks called themselves blind
exactly where they mattered. `findmnt` reads /proc and answers at once; the status command gets
what is left of the poll's time and a kill.

Why the service IP too: measured live (rgmanager, iscsi-block on the owner), `clustat` answered
on neither node for 12 s while node02 fenced node01 (rgmanager waits for the fence before it
answers), so "never two owners" had no evidence. Whether a node holds the service's IP and its
data mount is read from the node's own kernel in milliseconds; a node seen holding neither does
not serve the service, whatever its status command would have said.
"""

from __future__ import annotations

import shlex
import threading
import time
from dataclasses import dataclass, field

from halab.errors import HalabError
from halab.lab.lab import Lab
from halab.observe.timeline import Timeline
from halab.stacks.base import StackAdapter

SEPARATOR = "@@HALAB-MOUNT@@"
IP_HELD = "@@HALAB-IP-HELD@@"


POLL_TIMEOUT_S = 8.0  # one poll (status + mounts) at most: a slow node must not stall its thread long
# The status command is killed on the node this long before the poll's SSH timeout, and a poll
# that has to reconnect waits this long for sshd's banner. Measured live (rgmanager, seed timings,
# heartbeat-down on the owner, two TCG guests on 2 cores): one poll per node ran into the 8 s SSH
# timeout right after the token loss (clustat's 5 s kill plus findmnt, ip and bash on a guest busy
# with fenced and DLM recovery), the dropped connection was reopened with a 2 s banner timeout, and
# sshd on both guests could not send its banner that fast for 20 s: both nodes unseen, NO EVIDENCE
# on both safety checks of a correct cluster, while the client probe answered every second.
STATUS_MARGIN_S = 3.5
POLL_CONNECT_TIMEOUT_S = 5.0

MOUNTS = "/proc/self/mounts"
LOCAL_ADDRESSES = "/proc/net/fib_trie"  # "|-- <address>" then "/32 host LOCAL" for each local address


def physical_command(mountpoint: str, service_ip: str = "", mounts: str = MOUNTS,
                     fib: str = LOCAL_ADDRESSES) -> str:
    """The poll's first part in bash builtins only: the data LUN's source where it is mounted on
    ``mountpoint``, and IP_HELD when ``service_ip`` is one of the node's own addresses. Why no
    findmnt, ip and grep: measured on a TCG guest, those three cost 0.34 s of a 1.1 s poll (the
    SSH session 0.3 s, crm_mon 0.47 s); reading /proc with `read` forks nothing."""
    mount = (f"while read -r d p _; do [ \"$p\" = {shlex.quote(mountpoint)} ] && echo \"$d\"; "
             f"done < {mounts}; ")
    if not service_ip:
        return mount
    ip = (f"a=; while read -r x y z _; do [ \"$x\" = /32 ] && [ \"$y $z\" = 'host LOCAL' ] && "
          f"[ \"$a\" = {shlex.quote(service_ip)} ] && {{ echo {IP_HELD}; break; }}; "
          f"[ \"$x\" = '|--' ] && a=$y; done < {fib}; ")
    return mount + ip


def start_offsets(nodes: int, interval_s: float) -> list[float]:
    """When each node's first poll goes out: spread over one interval. Why: the polls are the
    heaviest thing a TCG guest does at rest (about a second of vCPU each); all nodes polled at once
    ask the host for every guest's vCPU in the same second."""
    return [i * interval_s / nodes for i in range(nodes)]


@dataclass
class StatusPoller:
    lab: Lab
    timeline: Timeline
    adapter: StackAdapter
    mountpoint: str
    service_ip: str = ""  # "" = do not look for it (holds_ip stays unknown)
    interval_s: float = 1.0
    command_timeout_s: float = POLL_TIMEOUT_S
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def command(self) -> str:
        status = self.adapter.commands.status
        inner = max(1, int(self.command_timeout_s - STATUS_MARGIN_S))
        return (f"{physical_command(self.mountpoint, self.service_ip)}echo {SEPARATOR}; "
                f"timeout -k 1 {inner} {status} 2>/dev/null")

    def _physical(self, text: str) -> tuple[bool, bool | None]:
        """(data LUN mounted, service IP held) from the part before the separator."""
        lines = [ln for ln in text.split("\n") if ln.strip()]
        held = (IP_HELD in lines) if self.service_ip else None
        return any(ln != IP_HELD for ln in lines), held

    def poll_once(self, node: str) -> None:
        sent = self.timeline.clock()
        try:
            res = self.lab.remote(node).run(self.command(), timeout=self.command_timeout_s,
                                            connect_timeout=POLL_CONNECT_TIMEOUT_S)
        except HalabError as err:
            self.timeline.record("poll", node, "unreachable", str(err)[:200], t=sent)
            return
        physical_text, _, status_text = res.stdout.partition(SEPARATOR)
        mounted, holds_ip = self._physical(physical_text)
        t = (sent + self.timeline.clock()) / 2  # midpoint of the round trip
        try:
            status = self.adapter.read_status(status_text)
        except HalabError as err:
            self.timeline.record("poll", node, "no-status", str(err)[:200], mounted=mounted, holds_ip=holds_ip, t=t)
            return
        self.timeline.record("poll", node, "status", "", status=status, mounted=mounted, holds_ip=holds_ip, t=t)

    def _loop(self, node: str, offset_s: float = 0.0) -> None:
        self._stop.wait(offset_s)
        while not self._stop.is_set():
            started = time.monotonic()
            self.poll_once(node)
            self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))

    def start(self) -> None:
        nodes = self.lab.spec.nodes
        for node, offset in zip(nodes, start_offsets(len(nodes), self.interval_s), strict=True):
            thread = threading.Thread(target=self._loop, args=(node.name, offset), name=f"poll-{node.name}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.command_timeout_s + 10)
