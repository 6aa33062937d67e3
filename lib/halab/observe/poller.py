"""Status polls of every node, about once a second, each on its own thread with tight timeouts.

Why one thread per node: under TCG one `crm_mon` over SSH takes 0.5-2 s, and a frozen or fenced
node must not delay the view from the others. Each poll also says whether the data LUN is mounted
there, which is how "never mounted on two nodes" is checked.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from halab.errors import HalabError
from halab.lab.lab import Lab
from halab.observe.timeline import Timeline
from halab.stacks.base import StackAdapter

SEPARATOR = "@@HALAB-MOUNT@@"


POLL_TIMEOUT_S = 8.0  # one poll (status + mounts) at most: a slow node must not stall its thread long

@dataclass
class StatusPoller:
    lab: Lab
    timeline: Timeline
    adapter: StackAdapter
    mountpoint: str
    interval_s: float = 1.0
    command_timeout_s: float = POLL_TIMEOUT_S
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def command(self) -> str:
        status = self.adapter.commands.status
        return f"{status} 2>/dev/null; echo {SEPARATOR}; findmnt -rn -o SOURCE {self.mountpoint} || true"

    def poll_once(self, node: str) -> None:
        sent = self.timeline.clock()
        try:
            res = self.lab.remote(node).run(self.command(), timeout=self.command_timeout_s, connect_timeout=2)
        except HalabError as err:
            self.timeline.record("poll", node, "unreachable", str(err)[:200], t=sent)
            return
        status_text, _, mount_text = res.stdout.partition(SEPARATOR)
        t = (sent + self.timeline.clock()) / 2  # midpoint of the round trip
        try:
            status = self.adapter.read_status(status_text)
        except HalabError as err:
            self.timeline.record("poll", node, "no-status", str(err)[:200], mounted=bool(mount_text.strip()), t=t)
            return
        self.timeline.record("poll", node, "status", "", status=status, mounted=bool(mount_text.strip()), t=t)

    def _loop(self, node: str) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.poll_once(node)
            self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))

    def start(self) -> None:
        for node in self.lab.spec.nodes:
            thread = threading.Thread(target=self._loop, args=(node.name,), name=f"poll-{node.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.command_timeout_s + 10)
