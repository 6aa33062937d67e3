"""The lifecycle watcher marks its stream's end: a connection that closes under the run (libvirtd
killed) is blindness the judge must see, and the watcher's own close is not."""

from __future__ import annotations

from typing import Any

import pytest

from halab.observe import lifecycle
from halab.observe.timeline import Timeline


class FakeConn:
    def __init__(self) -> None:
        self.close_cb: Any = None

    def domainEventRegisterAny(self, *_a: Any) -> int:
        return 1

    def domainEventDeregisterAny(self, _id: int) -> None:
        return None

    def registerCloseCallback(self, cb: Any, _opaque: Any) -> int:
        self.close_cb = cb
        return 0

    def close(self) -> int:
        if self.close_cb is not None:
            self.close_cb(self, 3, None)  # libvirt calls it on a client close too
        return 0


def test_a_stream_lost_under_the_run_is_marked_and_its_own_close_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = FakeConn()
    monkeypatch.setattr(lifecycle, "open_connection", lambda _uri: conn)
    tl = Timeline()
    watcher = lifecycle.LifecycleWatcher(tl, {"RHCSvm01": "node01"})
    watcher.start()
    conn.close_cb(conn, 0, None)  # libvirtd went away
    assert [o.kind for o in tl.items() if o.source == "libvirt"] == ["watching", "stream-closed"]
    watcher.stop()
    assert [o.kind for o in tl.items() if o.source == "libvirt"] == ["watching", "stream-closed"]
