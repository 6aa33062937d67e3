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
