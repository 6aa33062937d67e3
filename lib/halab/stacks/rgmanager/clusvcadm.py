"""`clusvcadm -e/-r/-d/-s/-R/-M/-Z/-U` output -> ServiceOp.

Format: rgmanager/src/utils/clusvcadm.c (3.0.12): `Local machine <action> <svc>...` or
`Member <node> <action> <svc>...` or `Trying to relocate <svc>[ to <node>]...`, then
rg_strerror() on the same line, then for enable/relocate on success
`[Warning: ]<svc> is now running on <node>`. The request line without a verdict is a
truncated answer, not a success.
"""

from __future__ import annotations

import re

from halab.errors import ParseError
from halab.stacks.text import command_output, require_content
from halab.stacks.types import ServiceOp

KIND = "clusvcadm"

# actionstr in clusvcadm.c -> our action name
_ACTIONS = {"trying to enable": "enable", "disabling": "disable", "stopping": "stop",
            "trying to restart": "restart", "freezing": "freeze", "unfreezing": "unfreeze",
            "convalescing": "convalesce", "relocate": "relocate", "migrate": "migrate",
            "trying to relocate": "relocate", "trying to migrate": "migrate"}
_REQUEST = re.compile(
    r"^(?:Local machine|Member (?P<member>\S+)) (?P<action>"
    + "|".join(sorted(_ACTIONS, key=len, reverse=True))
    + r") (?P<svc>\S+?)\.\.\.(?P<result>.*)$"
)
_MOVE = re.compile(
    r"^Trying to (?P<action>relocate|migrate) (?P<svc>\S+?)(?: to (?P<member>\S+?))?\.\.\.(?P<result>.*)$"
)
_RUNNING = re.compile(r"^(?P<warn>Warning: )?(?P<svc>\S+) is now running on (?P<owner>\S+)$")
_EARLY = re.compile(r"^(Could not connect to (cluster service|resource group manager)!?"
                    r"|'.*' not in membership list"
                    r"|No matches for '.*' found|More than one possible match.*|Migration requires a target.*"
                    r"|'.*' is offline)$")


def read_clusvcadm(text: str) -> ServiceOp:
    """The request, rgmanager's verdict and (for enable/relocate) where the service now runs."""
    body = require_content(KIND, command_output(text, ("clusvcadm",)))
    for i, line in enumerate(body):
        stripped = line.text.strip()
        request = _REQUEST.match(stripped) or _MOVE.match(stripped)
        if request is None:
            if _EARLY.match(stripped):
                raise ParseError(KIND, f"clusvcadm did not reach rgmanager: {stripped}", line.no)
            continue
        result = request.group("result").strip()
        if not result:
            raise ParseError(KIND, "request line has no verdict after '...' (truncated?)", line.no)
        return _op(request, result, [ln.text.strip() for ln in body[i + 1:]])
    what = "no 'Local machine/Member ... <service>...' or 'Trying to relocate' line"
    raise ParseError(KIND, what, body[0].no)


def _op(request: re.Match[str], result: str, rest: list[str]) -> ServiceOp:
    owner: str | None = None
    warning = False
    for text in rest:
        running = _RUNNING.match(text)
        if running:
            owner, warning = running.group("owner"), bool(running.group("warn"))
    action = _ACTIONS[request.group("action")]
    return ServiceOp(action=action, service=request.group("svc").removeprefix("service:"),
                     target=request.group("member"), result=result, ok=result == "Success",
                     owner=owner, warning=warning)
