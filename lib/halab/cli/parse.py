"""`halab parse KIND FILE [--json] [--stack S]`: read a cluster output collected anywhere.

Ops use it on outputs from production, so it reads files as they are (prompts, pasted blog
formatting, stderr noise) and says in one line, with exit 2, when a file is not what KIND says.
"""

from __future__ import annotations

import argparse
import json

from halab.errors import ParseError
from halab.inputs import read_input
from halab.spec import STACKS
from halab.stacks.jsonify import to_json
from halab.stacks.kinds import KINDS, LOG_KIND, read_kind, read_log
from halab.stacks.types import ClusterStatus, Event, Votes

HELP = {"parse": "read a clustat/cman_tool/crm_mon/pcs/corosync/sbd/tgt output or a cluster log"}


def register(name: str, parser: argparse.ArgumentParser) -> None:
    del name
    kinds = [*KINDS, LOG_KIND]
    parser.add_argument("kind", choices=kinds, metavar="KIND", help=f"one of: {', '.join(kinds)}")
    parser.add_argument("file", metavar="FILE", help="the captured output ('-' for stdin)")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")
    parser.add_argument("--stack", choices=STACKS, default=None,
                        help="syslog: which stack's messages to read (default: guessed from the log)")
    parser.add_argument("--year", type=int, default=None,
                        help="syslog: year of lines that carry none (default: this year)")
    parser.add_argument("--reporter", default=None,
                        help="syslog: the node the log came from (cluster log files name no host)")


def run(args: argparse.Namespace) -> int:
    text = _read(args.kind, args.file)
    if args.kind == LOG_KIND:
        events = read_log(text, args.stack, args.reporter, args.year)
        result: object = events
        payload: object = {"events": to_json(events)}
    else:
        result = read_kind(args.kind, text)
        key = KINDS[args.kind].key
        payload = {key: to_json(result)} if key else to_json(result)
    print(json.dumps(payload, indent=2) if args.json else render(result, payload))
    return 0


def _read(kind: str, name: str) -> str:
    data = read_input(name, lambda what: ParseError(kind, what))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # old RHEL logs: a NBSP or accent byte must not stop the read


def render(result: object, payload: object) -> str:
    """A short human reading; anything without its own layout is shown as indented JSON."""
    if isinstance(result, ClusterStatus):
        return _status(result)
    if isinstance(result, Votes):
        return _votes(result)
    if isinstance(result, list) and all(isinstance(e, Event) for e in result):
        return "\n".join(_event(e) for e in result) or "(no events)"
    return json.dumps(payload, indent=2)


def _status(st: ClusterStatus) -> str:
    if not st.running:
        return f"cluster not running: {st.error}"
    lines = [f"quorate: {_yes(st.quorate)}"]
    lines += [f"member {m.name}: {'online' if m.online else 'OFFLINE'}"
              + (f" ({', '.join(m.flags)})" if m.flags else "") for m in st.members]
    if st.quorum_device:
        qdisk = st.quorum_device
        lines.append(f"quorum device {qdisk.name}: {'online' if qdisk.online else 'OFFLINE'}")
    lines += [f"service {s.name}: {s.state} on {s.owner or '-'}"
              + (f" (last {s.last_owner})" if s.last_owner else "") for s in st.services]
    lines += [f"fence {f.action} {f.target}: {f.status} by {f.delegate or '-'} at {f.completed or '-'}"
              for f in st.fence_history]
    if st.error:
        lines.append(f"note: {st.error}")
    return "\n".join(lines)


def _votes(v: Votes) -> str:
    return (f"quorate: {_yes(v.quorate)}\nexpected votes: {v.expected}\ntotal votes: {v.total}\n"
            f"quorum: {v.quorum}\nnode votes: {v.node_votes}\nquorum device votes: {v.device_votes}")


def _event(e: Event) -> str:
    when = e.time.isoformat() if e.time else "-"
    about = " ".join(f"{k}={v}" for k, v in (("node", e.node), ("actor", e.actor), ("agent", e.agent),
                                             ("service", e.service)) if v)
    return f"{when} {e.reporter or '-'} {e.kind.value} {about}".rstrip()


def _yes(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"
