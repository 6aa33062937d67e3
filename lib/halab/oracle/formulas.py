"""Every timing rule of both stacks as a small pure function, each with its source on one line.

Source keys as in ../shared/reference/FACTS.md: A = cluster 3.0.12 tarball, B = cluster STABLE32,
C = corosync (version named). docs/timing-model.md gathers the same rules in prose. Times in
seconds unless a name ends in ``_ms``.
"""

from __future__ import annotations

from halab.oracle.timeline import Span

# --- corosync 3 (pacemaker stack) -------------------------------------------------------------

COROSYNC3_TOKEN_MS = 3000  # C 3.1.10 exec/totemconfig.c:68 (TOKEN_TIMEOUT)
COROSYNC3_TOKEN_COEFFICIENT_MS = 650  # C 3.1.10 exec/totemconfig.c:76 (TOKEN_COEFFICIENT)
# Reforming a membership after consensus: corosync.conf(5) "about 50 milliseconds"; FACTS §3.1 ε 50-200 ms.
TOTEM_FORM_S = Span(0.05, 0.2)


def corosync3_token_ms(token_ms: int, nodes: int,
                       coefficient_ms: int = COROSYNC3_TOKEN_COEFFICIENT_MS) -> int:
    """Effective token: token + (n-2)·coefficient for 3+ nodes (C 3.1.10 exec/totemconfig.c:318-358)."""
    return token_ms + max(0, nodes - 2) * coefficient_ms


def corosync3_consensus_ms(token_eff_ms: int) -> int:
    """consensus = 1.2 · effective token when not set (C 3.1.10 exec/totemconfig.c:318-358)."""
    return round(1.2 * token_eff_ms)


def membership_change(token_ms: float, consensus_ms: float, ring_pass_s: float = 0.0) -> Span:
    """Token loss (T − hold .. T after the fault, see ``token_loss``), consensus C, then the new
    ring forms (C v1.4.7 exec/totemsrp.c:1568-1581, 1895-1928). The early edge matters: the last
    token may have come one hold before the fault, and everything that follows the new membership
    (fence request, fence, take-over) can be that much early too (measured live: fence requested
    at 43.24 s against T + C = 44 s)."""
    return token_loss(token_ms, ring_pass_s) + (consensus_ms / 1000.0) + TOTEM_FORM_S


TOKEN_RETRANSMITS_BEFORE_LOSS = 4  # C totemconfig.c:69 (v1.x) / :68-76 (3.1.10); cman does not set it


def token_hold_ms(token_ms: float, retransmits: int = TOKEN_RETRANSMITS_BEFORE_LOSS) -> float:
    """How long an idle ring may hold the token at one node: 0.8 · token_retransmit, with
    token_retransmit = T / (retransmits + 0.2) (C v1.2.3 exec/totemconfig.c:517-526; the 1000/HZ
    term is left out, which only widens the bound)."""
    return 0.8 * token_ms / (retransmits + 0.2)


def token_loss(token_ms: float, ring_pass_s: float = 0.0) -> Span:
    """`A processor failed` is logged T after the *last token received* (C v1.4.7
    exec/totemsrp.c:1568-1581). On an idle ring that token may have arrived up to one token hold
    (at the representative) plus one pass round the rest of the ring before the fault, so the loss
    is declared between T − hold − pass and T after it. The pass is not configured: it is measured
    (timing profile ``ring_pass_s``; under TCG with T = 5 s, hold 0.95 s, losses came up to 1.5 s
    early)."""
    return Span(max(0.0, (token_ms - token_hold_ms(token_ms)) / 1000.0 - ring_pass_s), token_ms / 1000.0)


# --- cman / corosync 1.x (rgmanager stack) ----------------------------------------------------

# Consensus, quorum_dev_poll, qdisk tko/tko_up/master_wait defaults are derived by the cluster.conf
# model (halab.clusterconf.derived, same sources); the oracle reads them from there.


def cman_qdisk_lost(poll_ms: int) -> Span:
    """Device declared dead when last_hello + Q < now, checked every Q: between Q and 2Q
    (A cman/daemon/commands.c:1242-1259)."""
    return Span(poll_ms / 1000.0, 2 * poll_ms / 1000.0)


# --- qdiskd ------------------------------------------------------------------------------------

def qdisk_eviction(interval: float, tko: int) -> Span:
    """A peer is evicted when misses > tko, one miss per master cycle (A cman/qdisk/main.c:276-318).

    The last good write is within one interval before t0 and the master reads once per interval,
    so eviction falls in [tko·I, (tko+2)·I]: the seed's interval 1 × tko 10 gives [10, 12] s.
    """
    return Span(tko * interval, (tko + 2) * interval)


def qdisk_new_master(interval: float, master_wait: int, upgrade_wait: int) -> Span:
    """A dead master is replaced after I·(master_wait + upgrade_wait) more (A cman/qdisk/main.c:1041-1091)."""
    return Span(0.0, interval * (master_wait + upgrade_wait))


def qdisk_heuristic_down(h_interval: float, h_tko: int, interval: float) -> Span:
    """A heuristic is down after tko failed runs h_interval apart (A cman/qdisk/score.c, defaults :264-266);
    qdiskd sees the score at its next cycle and reboots (A cman/qdisk/main.c:986-1007)."""
    return Span(max(0, h_tko - 1) * h_interval, h_tko * h_interval + interval)


def qdisk_nanny_s(interval: float, tko: int) -> float:
    """The I/O nanny whines after I·tko/2 of a hung syscall
    (A cman/qdisk/iostate.c:104-109; B main.c:2026-2049)."""
    return interval * tko / 2.0


# --- fenced / rgmanager -------------------------------------------------------------------------

FENCED_POST_FAIL_DELAY_S = 0  # A fence/fenced/config.h:4-11
FENCED_RETRY_S = 5  # A fence/fenced/recover.c:391-396 (retry every 5 s)
# DLM lockspace recovery once fenced confirms the victim (FACTS §3.1 "D": sub-second to a few s).
DLM_RECOVERY_S = Span(0.0, 3.0)
RGMANAGER_STATUS_POLL_S = 10  # A rgmanager/include/resgroup.h:134 DEFAULT_CHECK_INTERVAL
IP_STATUS_S = 20  # ip.sh status depth 0 (address + monitor_link), A rgmanager/src/resources/ip.sh:107-123
FS_WRITE_TEST_S = 60  # fs.sh status depth 20 write test, A rgmanager/src/resources/fs.sh.in:158-178
FS_STOP_TIMEOUT_S = 30  # fs.sh stop timeout, A rgmanager/src/resources/fs.sh.in:158-178
SCRIPT_STATUS_S = 30  # script.sh status depth 0, A rgmanager/src/resources/script.sh:63-73
# rgmanager's watchdog parent reboots the node when the daemon dies of a signal (3 s grace after
# SIGKILL): cluster 3.x rgmanager/src/daemons/watchdog.c watchdog_init.
RG_WATCHDOG_GRACE_S = 3


def status_check(agent_interval_s: float, poll_s: float = RGMANAGER_STATUS_POLL_S) -> Span:
    """rgmanager runs a due check at its next poll: a failure is seen within agent interval + poll
    (A rgmanager/src/daemons/main.c:825-841 poll; agent intervals from the agents' meta-data)."""
    return Span(0.0, agent_interval_s + poll_s)


# --- pacemaker, sbd, fence_virsh, open-iscsi ----------------------------------------------------

STONITH_TIMEOUT_S = 60  # pacemaker 2.1.9 lib/common/options.c:259-265
SBD_WATCHDOG_S = 5  # sbd configure.ac:361-369 (SBD_WATCHDOG_TIMEOUT)
FS_START_TIMEOUT_S = 60  # resource-agents heartbeat/Filesystem meta-data: start timeout 60s
PCMK_INFINITY = 1000000  # pacemaker: migration-threshold default INFINITY (fail over never on count)
# open-iscsi usr/iscsi_settings.h DEF_NOOP_OUT_INTERVAL 5 / DEF_NOOP_OUT_TIMEO 5 (Debian 12 build).
ISCSI_NOOP_INTERVAL_S = 5
ISCSI_NOOP_TIMEOUT_S = 5


def sbd_msgwait_s(watchdog_s: float) -> float:
    """msgwait = 2 × watchdog timeout (sbd src/sbd-common.c:34-39)."""
    return 2.0 * watchdog_s


def iscsi_io_error(replacement_timeout_s: float,
                   noop_interval_s: float = ISCSI_NOOP_INTERVAL_S,
                   noop_timeout_s: float = ISCSI_NOOP_TIMEOUT_S) -> Span:
    """Hung I/O errors out replacement_timeout after the connection is found dead by a NOP-Out
    timeout (open-iscsi iscsid.conf; measured 24 s for 15, 130 s for 120: LAB-FINDINGS)."""
    return Span(float(replacement_timeout_s), replacement_timeout_s + noop_interval_s + noop_timeout_s)


def monitor_failure(interval_s: float, timeout_s: float, io_error: Span) -> Span:
    """A monitor that writes to a hung device fails when the I/O errors out or the op times out,
    whichever first; the first monitor after t0 starts within one interval (pacemaker executor).
    A run that did not hang on the cut (its write still went through) leaves the failure to the
    *next* run after the I/O error: up to one interval after it (measured live: 35.95 s with
    replacement_timeout 15 s and a 20 s interval)."""
    lo = min(io_error.lo, timeout_s)
    hi = min(interval_s + timeout_s, io_error.hi + interval_s)
    return Span(lo, max(lo, hi, interval_s))
