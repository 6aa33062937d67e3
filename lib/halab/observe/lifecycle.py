"""libvirt lifecycle events (stopped, started, suspended, resumed ...) stamped on host time.

Why events, not polls: a fence_virsh reboot is a destroy and a start a second or two apart; only
the event stream sees both, with host timestamps, whatever the guest's own clock says.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from halab.observe.timeline import Timeline

_EVENT_NAMES = {0: "defined", 1: "undefined", 2: "started", 3: "suspended", 4: "resumed", 5: "stopped",
                6: "shutdown", 7: "pmsuspended", 8: "crashed"}
_loop_lock = threading.Lock()
_loop_state = {"started": False}


def _ensure_event_loop() -> None:
    """libvirt's default event loop, registered once per process and run on a daemon thread."""
    import libvirt

    with _loop_lock:
        if _loop_state["started"]:
            return
        libvirt.virEventRegisterDefaultImpl()

        def run() -> None:
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run, name="libvirt-events", daemon=True).start()
        _loop_state["started"] = True


@dataclass
class LifecycleWatcher:
    timeline: Timeline
    domain_to_node: dict[str, str]
    _conn: Any = None
    _callback_id: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _on_event(self, _conn: Any, dom: Any, event: int, detail: int, _opaque: Any) -> None:
        name = dom.name()
        node = self.domain_to_node.get(name)
        if node is None:
            return
        self.timeline.record("libvirt", node, "lifecycle", f"{_EVENT_NAMES.get(event, str(event))}:{detail}")

    def start(self) -> None:
        import libvirt

        _ensure_event_loop()
        from halab.lab import virt

        self._conn = libvirt.open(virt.current_uri())  # this process's lab's own libvirtd
        self._conn.setKeepAlive(5, 3)
        self._callback_id = self._conn.domainEventRegisterAny(
            None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_event, None)

    def stop(self) -> None:
        if self._conn is None:
            return
        try:
            if self._callback_id is not None:
                self._conn.domainEventDeregisterAny(self._callback_id)
            self._conn.close()
        except Exception:  # noqa: S110 - a closed connection is what we want either way
            pass
        self._conn = None
