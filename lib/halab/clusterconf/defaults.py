"""Values cman, qdiskd, fenced and rgmanager use when cluster.conf is silent.

Every constant names its source (see /work/shared/reference/FACTS.md section 1c; A = cluster
3.0.12, B = STABLE32, C = corosync). The schema's rha:default values and cman.5 are wrong for some
of these, so nothing here is taken from them.
"""

from __future__ import annotations

from enum import StrEnum


class Flavor(StrEnum):
    """Which cman decides the consensus default: it changed between upstream 3.0.12 and RHEL 6.0."""

    RHEL6 = "rhel6"  # RHEL >= 6.0 (rhbz#618534 patch; upstream in B cman-preconfig.c:1081-1117)
    PRISTINE_3_0_12 = "3.0.12"  # upstream tarball, A cman-preconfig.c:709-718


DEFAULT_FLAVOR = Flavor.RHEL6  # the seed lab ran RHEL 6.1 (../shared/seed/DIGEST.md)

# --- totem as cman configures corosync 1.x ---------------------------------------------------
TOKEN_MS = 10000  # A cman/daemon/cman.h:14 DEFAULT_TOKEN_TIMEOUT, applied in cman-preconfig.c:691-697
JOIN_MS = 60  # A cman-preconfig.c:700-708
FAIL_RECV_CONST = 2500  # A cman-preconfig.c:700-708
TOKEN_RETRANSMITS_BEFORE_LOSS_CONST = 4  # not set by cman -> corosync default, C totemconfig.c:69
CONSENSUS_2NODE_MIN_MS = 200  # RHEL6 2-node clamp(0.2*T, 200, 2000), B cman-preconfig.c:1081-1117
CONSENSUS_2NODE_MAX_MS = 2000  # same clamp, upper bound
CONSENSUS_2NODE_FACTOR = 0.2  # same clamp, factor of the token
CONSENSUS_MANY_NODES_EXTRA_MS = 2000  # RHEL6 >2 nodes: C = T + 2000, B cman-preconfig.c:1081-1117
CONSENSUS_PRISTINE_FACTOR = 2  # pristine 3.0.12: C = 2*T, A cman-preconfig.c:709-718 (bz#544482)

# --- cman and the quorum device ---------------------------------------------------------------
QUORUMDEV_POLL_FALLBACK_MS = 10000  # A cman.h:15 DEFAULT_QUORUMDEV_POLL (Q = T otherwise, ais.c:185-197)
NODE_VOTES = 1  # cman: a clusternode without votes= counts 1 (cluster.rng clusternode votes default)

# --- qdiskd (A cman/qdisk/main.c) ---------------------------------------------------------------
QDISK_INTERVAL_S = 1  # A main.c:1791-1800 initial default (interval < 1 is raised to 1)
QDISK_TKO_MIN = 3  # A main.c get_static_config_data: tko < 3 is raised to 3
QDISK_TKO_WARN_BELOW = 4  # A main.c:1643-1654 "Quorum disk TKO (%d) is too low!"
QDISK_TKO_UP_MIN = 2  # A main.c:1661-1669 tko_up = max(2, K/3)
QDISK_TKO_UP_DIVISOR = 3  # A main.c:1661-1669
QDISK_UPGRADE_WAIT = 2  # A main.c:1673-1680 (minimum 1)
QDISK_UPGRADE_WAIT_MIN = 1  # A main.c:1673-1680
QDISK_MASTER_WAIT_DIVISOR = 2  # A main.c:1684-1691 master_wait = K/2, raised to tko_up+1
QDISK_MIN_TOKEN_MS = 10000  # A main.c:1633-1638 "Token timeout %d is too fast to use with qdiskd!"
QDISK_REBOOT = True  # A main.c:1791-1800 flags RF_REBOOT | RF_ALLOW_KILL | RF_UPTIME
QDISK_ALLOW_KILL = True  # same line
QDISK_IO_TIMEOUT = False  # A main.c:1478-1537 default off
QDISK_MASTER_WINS = False  # off unless auto-enabled, A main.c:1826-1836
HEURISTIC_INTERVAL_S = 2  # A cman/qdisk/score.c:264-266
HEURISTIC_TKO = 1  # A score.c:264-266
HEURISTIC_SCORE = 1  # A score.c:264-266

# --- fenced (A fence/fenced/config.h:4-11) ----------------------------------------------------------
POST_FAIL_DELAY_S = 0  # A fence/fenced/config.h:4-11
POST_JOIN_DELAY_S = 6  # A fence/fenced/config.h:4-11

# --- rgmanager ------------------------------------------------------------------------------------
SERVICE_AUTOSTART = True  # rgmanager service.sh meta-data: autostart default 1
SERVICE_RECOVERY = "restart"  # rgmanager service.sh meta-data: recovery default restart
# Start levels of typed children, from each agent's <special tag="rgmanager"><child .../>: rgmanager
# starts a parent, then its children level by level, then untyped children in config order
# (restree.c _res_op_by_level). service.sh and fs.sh/clusterfs.sh of rgmanager 3.0.12.
CHILD_START_LEVELS: dict[str, dict[str, int]] = {
    "service": {"lvm": 1, "fs": 2, "clusterfs": 3, "netfs": 4, "nfsexport": 5, "nfsclient": 6,
                "ip": 7, "smb": 8, "script": 9},
    "fs": {"fs": 1, "clusterfs": 1, "nfsexport": 3},
    "clusterfs": {"fs": 1, "clusterfs": 1, "nfsexport": 3},
}
# The attribute that names a resource of each type (rgmanager agents' primary="1" parameter).
PRIMARY_ATTR: dict[str, str] = {"ip": "address"}  # every other agent in rgmanager 3.0.12: "name"
