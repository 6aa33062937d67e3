"""libvirt lifecycle events (stopped, started, suspended, resumed ...) stamped on host time.

Why events, not polls: a fence_virsh reboot is a destroy and a start a second or two apart; only
the event stream sees both, with host timestamps, whatever the guest's own clock says.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any

from halab.lab.domains import open_connection
from halab.observe.timeline import Timeline
from halab.proc import bounded

_EVENT_NAMES = {0: "defined", 1: "undefined", 2: "started", 3: "suspended", 4: "resumed", 5: "stopped",
                6: "shutdown", 7: "pmsuspended", 8: "crashed"}
@dataclass
class LifecycleWatcher:
    timeline: Timeline
    domain_to_node: dict[str, str]
    _conn: Any = None
    _callback_ids: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: bool = False

    def _on_close(self, _conn: Any, reason: int, _opaque: Any) -> None:
        """The connection closed under the run (libvirtd killed, keepalive lost): from here on no
        event does not mean nothing happened; the judge reads this mark as blindness."""
        if not self._stopping:
            self.timeline.record("libvirt", None, "stream-closed", f"connection closed (reason {reason})")

    def _on_event(self, _conn: Any, dom: Any, event: int, detail: int, _opaque: Any) -> None:
        name = dom.name()
        node = self.domain_to_node.get(name)
        if node is None:
            return
        self.timeline.record("libvirt", node, "lifecycle", f"{_EVENT_NAMES.get(event, str(event))}:{detail}")

    def _on_reboot(self, _conn: Any, dom: Any, _opaque: Any) -> None:
        """A guest-initiated reset (watchdog, self-fence, reboot -f): no stop/start, its own event."""
        node = self.domain_to_node.get(dom.name())
        if node is not None:
            self.timeline.record("libvirt", node, "reboot", "reboot")

    def start(self) -> None:
        import libvirt

        from halab.lab import virt

        self._conn = open_connection(virt.current_uri())  # this process's lab's own libvirtd
        conn = self._conn
        self._callback_ids = [
            bounded(lambda: conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_event, None), 10, "libvirt event registration"),
            bounded(lambda: conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, self._on_reboot, None), 10, "libvirt event registration")]
        with contextlib.suppress(Exception):  # older bindings: the stream's end then goes unseen
            bounded(lambda: conn.registerCloseCallback(self._on_close, None), 10, "libvirt close callback")
        # The judge needs to know the stream was on: no event then means nothing happened.
        self.timeline.record("libvirt", None, "watching", "lifecycle and reboot events")

    def stop(self) -> None:
        if self._conn is None:
            return
        conn, callbacks = self._conn, list(self._callback_ids)
        self._stopping = True  # our own close is not the stream lost

        def close() -> None:
            for callback_id in callbacks:
                conn.domainEventDeregisterAny(callback_id)
            conn.close()

        with contextlib.suppress(Exception):  # a closed connection is what we want either way
            bounded(close, 5, "libvirt close")
        self._conn = None
