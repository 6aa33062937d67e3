"""corosync.conf reading: totem, knet links, nodelist, votequorum, qdevice; bad files one line."""

from __future__ import annotations

import pytest

from halab.cib import read_corosync
from halab.errors import ConfigError

CONF = """# a comment
totem {
    version: 2
    cluster_name: c1
    transport: knet
    token: 10000
    interface {
        linknumber: 0
    }
    interface {
        linknumber: 1
        knet_link_priority: 2
    }
}
nodelist {
    node {
        ring0_addr: 10.0.0.1
        ring1_addr: 10.1.0.1
        name: a
        nodeid: 1
    }
    node {
        ring0_addr: 10.0.0.2
        ring1_addr: 10.1.0.2
        name: b
        nodeid: 2
    }
}
quorum {
    provider: corosync_votequorum
    device {
        model: net
        votes: 1
        net {
            host: 192.168.8.1
            algorithm: ffsplit
        }
    }
}
logging {
    to_syslog: yes
}
"""


def test_everything_halab_uses_is_read() -> None:
    c = read_corosync(CONF)
    assert (c.cluster_name, c.transport, c.token_ms, c.consensus_ms) == ("c1", "knet", 10000, None)
    assert [lk.number for lk in c.links] == [0, 1]
    assert c.links[1].options["knet_link_priority"] == "2"
    assert c.node_names == ("a", "b")
    assert dict(c.nodes[1].addrs) == {0: "10.0.0.2", 1: "10.1.0.2"}
    assert not c.two_node
    assert c.quorum_provider == "corosync_votequorum"
    assert c.qdevice["model"] == "net"
    assert c.qdevice["net.host"] == "192.168.8.1"


@pytest.mark.parametrize(("text", "says"), [
    ("quorum {\n}\n", "no totem"),
    ("totem {\n token: soon\n}\n", "not an integer"),
    ("totem {\n version: 2\n", "never closed"),
    ("}\n", "without an open section"),
    ("totem {\n}\nnodelist {\n node {\n ring0_addr: 1.2.3.4\n }\n}\n", "needs nodeid"),
    ("totem {\n}\ntotem {\n}\n", "a second totem"),
    ("totem {\n interface {\n linknumber: 0\n }\n}\nnodelist {\n node {\n ring1_addr: x\n name: a\n"
     " nodeid: 1\n }\n}\n", "linknumber 1"),
    ("totem {\n garbage\n}\n", "expected 'key: value'"),
    ("\x00\x00", "binary"),
])
def test_bad_files_are_one_line(text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as err:
        read_corosync(text, "c.conf")
    assert "\n" not in str(err.value)


def test_the_quorum_device_is_read_with_qdevices_defaults() -> None:
    d = read_corosync(CONF).device
    assert d is not None
    assert (d.host, d.port, d.algorithm, d.tie_breaker, d.votes, d.tls) == ("192.168.8.1", 5403, "ffsplit",
                                                                          "lowest", 1, "on")
    assert (d.timeout_ms, d.sync_timeout_ms) == (10000, 30000)
    assert d.tie_winner({"a": 1, "b": 2}) == "a"
    assert read_corosync(CONF.replace("algorithm: ffsplit", "tie_breaker: 2")).device.tie_winner(  # type: ignore[union-attr]
        {"a": 1, "b": 2}) == "b"
    lms = read_corosync(CONF.replace("votes: 1\n", "").replace("ffsplit", "lms")).device
    assert lms is not None
    assert lms.votes is None
    assert lms.vote_count(5) == 4
    assert read_corosync(CONF.replace("device {", "x {")).device is None


@pytest.mark.parametrize(("old", "new", "says"), [
    ("model: net", "model: disk", "only the net model"),
    ("host: 192.168.8.1", "port: 5403", "has no host"),
    ("algorithm: ffsplit", "algorithm: 2nodelms", "qdevice's own tests"),
    ("algorithm: ffsplit", "tie_breaker: middle", "lowest, highest or a node id"),
    ("algorithm: ffsplit", "tls: maybe", "tls 'maybe'"),
    ("votes: 1", "votes: 0", "must be positive"),
    ("votes: 1", "votes: one", "not an integer"),
])
def test_a_device_qdevice_would_refuse_is_one_line(old: str, new: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as info:
        read_corosync(CONF.replace(old, new))
    assert "\n" not in str(info.value)
