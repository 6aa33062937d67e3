# ruff: noqa: E501 -- one table row per line reads better than wrapped regexes
"""Log patterns of corosync 3 (2.x where identical) and pacemaker 2.x (1.1 names where cheap).

Messages as the sources print them (KEY_FORMATS.md sections 7-8, FACTS.md 3.3, the real
samples), and as Pacemaker's own CTS patterns (python/pacemaker/_cts/patterns.py) match them.
Results of resource operations name the *primitive*: mapping it to its group is the caller's,
who knows the design.
"""

from __future__ import annotations

import re

from halab.stacks.logs import Pattern, pattern
from halab.stacks.types import EventKind as K

COROSYNC = ("corosync",)
FENCED = ("pacemaker-fenced", "stonith-ng", "stonithd")
CONTROLD = ("pacemaker-controld", "crmd")
SCHEDULERD = ("pacemaker-schedulerd", "pengine")
IDS = r"\d+(?: \d+)*"
_MEMBERSHIP = r"^A new membership \([^)]*\) was formed\. Members"

MEMBERSHIP: tuple[Pattern, ...] = (
    pattern(K.TOKEN_WARNING, r"^Token has not been received in \d+ ms\s*$", *COROSYNC, node_is_reporter=True),
    pattern(K.TOKEN_LOST, r"^A processor failed, forming new configuration(?:: token timed out .*|\.)\s*$",
            *COROSYNC),
    pattern(K.MEMBERSHIP, r"^A new membership \([^)]*\) was formed\.", *COROSYNC),
    pattern(K.MEMBERSHIP, r"^A processor joined or left the membership and a new membership", *COROSYNC),
    pattern(K.MEMBER_LEFT, rf"{_MEMBERSHIP}(?: joined: {IDS})? left: (?P<nodes>{IDS})\s*$", *COROSYNC,
            each="nodes"),
    pattern(K.MEMBER_JOINED, rf"{_MEMBERSHIP} joined: (?P<nodes>{IDS})(?: left: {IDS})?\s*$", *COROSYNC,
            each="nodes"),
    pattern(K.LINK_DOWN, r"^link: host: (?P<node>\d+) link: \d+ is down$", *COROSYNC),
    pattern(K.LINK_DOWN, r"^host: host: (?P<node>\d+) has no active links$", *COROSYNC),
    pattern(K.MEMBER_LEFT, r"^Node (?P<node>\S+) state is now lost\b", *CONTROLD),
    pattern(K.MEMBER_JOINED, r"^Node (?P<node>\S+) state is now member\b", *CONTROLD),
)

QUORUM: tuple[Pattern, ...] = (
    pattern(K.QUORUM_LOST, r"^This node is within the non-primary component and will NOT provide any services\.$",
            *COROSYNC, node_is_reporter=True),
    pattern(K.QUORUM_REGAINED, r"^This node is within the primary component and will provide service\.$",
            *COROSYNC, node_is_reporter=True),
    pattern(K.QUORUM_LOST, r"^Quorum lost\b", *CONTROLD, node_is_reporter=True),
    pattern(K.QUORUM_REGAINED, r"^Quorum acquired\b", *CONTROLD, node_is_reporter=True),
)

_OP_HOST = r"(?:targeting (?P<node>\S+) using '?(?P<agent>[^' ]*)'?|for host '(?P<node2>[^']+)' with device '(?P<agent2>[^']*)')"
FENCE: tuple[Pattern, ...] = (
    pattern(K.FENCE_REQUESTED, r"^(?:Cluster |Guest |Remote )?[Nn]ode (?P<node>\S+) will be fenced\b", *SCHEDULERD),
    pattern(K.FENCE_REQUESTED, r"^Requesting fencing \(\w+\) (?:of|targeting) node (?P<node>\S+)", *CONTROLD),
    pattern(K.FENCE_REQUESTED, r"^Requesting peer fencing \(\w+\) (?:targeting|of) (?P<node>\S+)$", *FENCED),
    pattern(K.FENCE_DELAYED, r"^Delaying '\w+' action targeting (?P<node>\S+) (?:using|on) (?P<agent>\S*) for \d+s",
            *FENCED, actor_is_reporter=True),
    pattern(K.FENCE_SUCCESS, rf"^Operation '\w+' \[\d+\] (?:\(call \d+ from [^)]*\) )?{_OP_HOST} returned:? 0(?: \(OK\)|$)",
            *FENCED, actor_is_reporter=True),
    pattern(K.FENCE_FAILED, rf"^Operation '\w+' \[\d+\] (?:\(call \d+ from [^)]*\) )?{_OP_HOST} returned:? (?!0\b)-?\d+",
            *FENCED, actor_is_reporter=True),
    pattern(K.FENCE_SUCCESS, r"^Operation '?\w+'? (?:targeting|of) (?P<node>\S+) (?:by|on) (?P<actor>.+?) for \S+: OK\b",
            *FENCED),
    pattern(K.FENCE_FAILED, r"^Operation '?\w+'? (?:targeting|of) (?P<node>\S+) (?:by|on) (?P<actor>.+?) for \S+: (?!OK\b)",
            *FENCED),
    pattern(K.FENCE_SUCCESS, r"^Peer (?P<node>\S+) was terminated \(\w+\) by (?P<actor>.+?) (?:on behalf of|for) \S+: OK\b",
            *CONTROLD),
    pattern(K.FENCE_FAILED, r"^Peer (?P<node>\S+) was not terminated \(\w+\) by (?P<actor>.+?) (?:on behalf of|for) \S+: ",
            *CONTROLD),
    pattern(K.FENCE_SUCCESS, r"^We were allegedly just fenced by (?P<actor>\S+) for \S+?!?$", *CONTROLD, *FENCED,
            node_is_reporter=True),
)

_RSC = r"(?P<service>\S+?)"
_OK = r"(?:0 \()?ok\)?"
SERVICE: tuple[Pattern, ...] = (
    pattern(K.SERVICE_STARTING, rf"^Initiating start operation {_RSC}_start_\d+ (?:locally )?on (?P<node>\S+)$", *CONTROLD),
    pattern(K.SERVICE_STARTING, rf"^Initiating action \d+: start {_RSC}_start_\d+ on (?P<node>\S+)", *CONTROLD),
    pattern(K.SERVICE_STOPPING, rf"^Initiating stop operation {_RSC}_stop_\d+ (?:locally )?on (?P<node>\S+)$", *CONTROLD),
    pattern(K.SERVICE_STOPPING, rf"^Initiating action \d+: stop {_RSC}_stop_\d+ on (?P<node>\S+)", *CONTROLD),
    pattern(K.SERVICE_STARTED, rf"^Result of start operation for {_RSC} on (?P<node>\S+): {_OK}\b", *CONTROLD,
            flags=re.I),
    pattern(K.SERVICE_STOPPED, rf"^Result of stop operation for {_RSC} on (?P<node>\S+): {_OK}\b", *CONTROLD,
            flags=re.I),
    pattern(K.SERVICE_START_FAILED, rf"^Result of start operation for {_RSC} on (?P<node>\S+): (?!{_OK}\b)",
            *CONTROLD, flags=re.I),
    pattern(K.SERVICE_FAILED, rf"^Result of stop operation for {_RSC} on (?P<node>\S+): (?!{_OK}\b)",
            *CONTROLD, flags=re.I),
    pattern(K.SERVICE_FAILED, rf"^Result of monitor operation for {_RSC} on (?P<node>\S+): "
            r"(?!(?:\d+ \()?(?:ok|cancelled|promoted|master)\b)", *CONTROLD, flags=re.I),
    pattern(K.SERVICE_STARTED, rf"^Operation {_RSC}_start_\d+: ok \(node=(?P<node>[^,]+),", *CONTROLD),
    pattern(K.SERVICE_STOPPED, rf"^Operation {_RSC}_stop_\d+: ok \(node=(?P<node>[^,]+),", *CONTROLD),
    pattern(K.SERVICE_START_FAILED, rf"^Operation {_RSC}_start_\d+: (?!ok\b)[^(]+\(node=(?P<node>[^,]+),", *CONTROLD),
    pattern(K.SERVICE_FAILED, rf"^Operation {_RSC}_stop_\d+: (?!ok\b)[^(]+\(node=(?P<node>[^,]+),", *CONTROLD),
    pattern(K.SERVICE_RELOCATING, rf"^(?:LogActions:\s+|\*\s+)?Move\s+{_RSC}\s+\(\s*(?:Started\s+)?\S+\s+->\s+(?P<node>[^\s)]+)",
            *SCHEDULERD),
    pattern(K.SERVICE_RECOVERING, rf"^(?:LogActions:\s+|\*\s+)?Recover\s+{_RSC}\s+\(\s*(?:Started\s+)?"
            r"(?:\S+\s+->\s+)?(?P<node>[^\s)]+)", *SCHEDULERD),
)

TABLE: tuple[Pattern, ...] = (*MEMBERSHIP, *QUORUM, *FENCE, *SERVICE)
