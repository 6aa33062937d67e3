"""RHCS cluster.conf as a typed, immutable model: read, derive, write back.

Public API (stable; the oracle and the checks import it)::

    conf = load_cluster_conf("labs/seed/cluster.conf")   # ConfigError if unusable
    conf.effective_token_ms                 # T
    conf.effective_consensus_ms("rhel6")    # C, or Flavor.PRISTINE_3_0_12 for upstream 3.0.12
    conf.quorum_dev_poll_ms                 # Q
    conf.qdisk_effective()                  # QdiskTiming | None: interval_s, tko, tko_up, ...
    conf.post_fail_delay_s, conf.post_join_delay_s
    conf.effective_expected_votes, conf.quorum_votes, conf.two_node
    conf.nodes, conf.fence_devices, conf.services, conf.domains, conf.rm
    service.start_order()                   # resources in rgmanager's start order
    to_xml(conf) / write_cluster_conf(conf, path)   # round trip, unmodeled content kept
"""

from halab.clusterconf.attrs import Attrs
from halab.clusterconf.defaults import DEFAULT_FLAVOR, Flavor
from halab.clusterconf.derived import QdiskTiming
from halab.clusterconf.jsonify import to_dict
from halab.clusterconf.model import (
    ClusterConf,
    ClusterNode,
    Cman,
    DeviceRef,
    DomainMember,
    Element,
    FailoverDomain,
    FenceDaemon,
    FenceDevice,
    FenceMethod,
    Heuristic,
    Problem,
    Quorumd,
    Resource,
    Rm,
    Service,
    Totem,
)
from halab.clusterconf.reader import load_cluster_conf, parse_cluster_conf
from halab.clusterconf.writer import to_xml, write_cluster_conf

__all__ = [
    "DEFAULT_FLAVOR",
    "Attrs",
    "ClusterConf",
    "ClusterNode",
    "Cman",
    "DeviceRef",
    "DomainMember",
    "Element",
    "FailoverDomain",
    "FenceDaemon",
    "FenceDevice",
    "FenceMethod",
    "Flavor",
    "Heuristic",
    "Problem",
    "QdiskTiming",
    "Quorumd",
    "Resource",
    "Rm",
    "Service",
    "Totem",
    "load_cluster_conf",
    "parse_cluster_conf",
    "to_dict",
    "to_xml",
    "write_cluster_conf",
]
