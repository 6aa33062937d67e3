"""Read a corosync.conf (corosync 3) into a Corosync: totem, knet links, nodelist, votequorum, qdevice.

corosync's own syntax (exec/coroparse.c): ``section {`` ... ``}``, ``key: value``, ``#`` comments.
Sections halab does not model (logging, resources, system, nodelist node extras) are read and
left alone; a second totem or quorum, a node without nodeid/name, or a link address for a link
the totem does not have is an error naming the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from halab.cib.model import CoroNode, Corosync, Link, QuorumDevice, frozen
from halab.errors import ConfigError
from halab.inputs import read_input

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 8


@dataclass
class _Section:
    name: str
    line: int
    keys: dict[str, str] = field(default_factory=dict)
    children: list[_Section] = field(default_factory=list)

    def all(self, name: str) -> list[_Section]:
        return [c for c in self.children if c.name == name]

    def one(self, name: str, where: str) -> _Section | None:
        found = self.all(name)
        if len(found) > 1:
            raise ConfigError(f"line {found[1].line}: a second {name} section", where)
        return found[0] if found else None


def load_corosync(path: str | Path) -> Corosync:
    p = Path(path)
    data = read_input(p, lambda why: ConfigError(why, str(p)), MAX_BYTES)  # bounded, one line on error
    return read_corosync(data, str(p))


def _tree(data: bytes | str, where: str) -> _Section:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise ConfigError("larger than 1 MiB: not a corosync.conf", where)
    if b"\x00" in raw:
        raise ConfigError("binary data (NUL bytes): not a corosync.conf", where)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text: not a corosync.conf", where) from None
    stack = [_Section("", 0)]
    for no, line in enumerate(text.splitlines(), 1):
        s = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not s:
            continue
        if s.endswith("{"):
            name = s[:-1].strip()
            if not name or len(stack) > MAX_DEPTH:
                raise ConfigError(f"line {no}: {'a section without a name' if not name else 'nested too deep'}",
                                  where)
            sec = _Section(name, no)
            stack[-1].children.append(sec)
            stack.append(sec)
        elif s == "}":
            if len(stack) == 1:
                raise ConfigError(f"line {no}: '}}' without an open section", where)
            stack.pop()
        elif ":" in s:
            key, value = (x.strip() for x in s.split(":", 1))
            stack[-1].keys[key] = value
        else:
            raise ConfigError(f"line {no}: expected 'key: value', 'section {{' or '}}', got {s[:60]!r}", where)
    if len(stack) > 1:
        raise ConfigError(f"line {stack[-1].line}: section {stack[-1].name} is never closed", where)
    return stack[0]


def _int(sec: _Section, key: str, where: str) -> int | None:
    raw = sec.keys.get(key)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{sec.name} {key}: {raw!r} is not an integer (line {sec.line})", where) from None


def _flat(sec: _Section, prefix: str = "") -> dict[str, str]:
    out = {f"{prefix}{k}": v for k, v in sec.keys.items()}
    for child in sec.children:
        out.update(_flat(child, f"{prefix}{child.name}."))
    return out


def read_corosync(data: bytes | str, where: str = "corosync.conf") -> Corosync:
    top = _tree(data, where)
    totem = top.one("totem", where)
    if totem is None:
        raise ConfigError("no totem section", where)
    quorum = top.one("quorum", where) or _Section("quorum", 0)
    nodelist = top.one("nodelist", where)
    links = tuple(Link(_int(i, "linknumber", where) or 0, frozen(i.keys)) for i in totem.all("interface"))
    nodes = tuple(_node(n, where) for n in (nodelist.all("node") if nodelist else []))
    numbers = {lk.number for lk in links} | {0}
    for n in nodes:
        extra = sorted(set(n.addrs) - numbers) if links else []
        if extra:
            raise ConfigError(f"node {n.name}: ring{extra[0]}_addr has no totem interface linknumber {extra[0]}",
                              where)
    if len({n.nodeid for n in nodes}) != len(nodes) or len({n.name for n in nodes}) != len(nodes):
        raise ConfigError("nodelist: node names and nodeids must be unique", where)
    device = quorum.one("device", where)
    wait = _int(quorum, "wait_for_all", where)
    return Corosync(
        cluster_name=totem.keys.get("cluster_name", ""),
        transport=totem.keys.get("transport", "knet"),
        token_ms=_int(totem, "token", where),
        consensus_ms=_int(totem, "consensus", where),
        token_coefficient_ms=_int(totem, "token_coefficient", where),
        links=links,
        nodes=nodes,
        quorum_provider=quorum.keys.get("provider", ""),
        two_node=_int(quorum, "two_node", where) == 1,
        wait_for_all=None if wait is None else wait == 1,
        expected_votes=_int(quorum, "expected_votes", where),
        qdevice=frozen(_flat(device) if device else {}),
        device=_device(_flat(device), where) if device else None,
        totem=frozen({k: v for k, v in totem.keys.items()}),
    )


ALGORITHMS = ("ffsplit", "lms")  # test and 2nodelms exist for qdevice's own tests only (its man page)
TLS = ("on", "off", "required")


def _device(keys: dict[str, str], where: str) -> QuorumDevice:
    """quorum.device, checked the way corosync-qdevice checks it before it starts."""
    def number(key: str, default: int | None) -> int | None:
        raw = keys.get(key)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"quorum.device {key}: {raw!r} is not an integer", where) from None
        if value <= 0:
            raise ConfigError(f"quorum.device {key}: {value} must be positive", where)
        return value

    model = keys.get("model", "")
    if model != "net":
        raise ConfigError(f"quorum.device model {model or '(none)'!r}: corosync-qdevice has only the net model", where)
    host = keys.get("net.host", "")
    if not host:
        raise ConfigError("quorum.device.net has no host: where does qnetd listen?", where)
    algorithm = keys.get("net.algorithm", "ffsplit")
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"quorum.device.net algorithm {algorithm!r}: one of {', '.join(ALGORITHMS)} "
                          "(test and 2nodelms are for qdevice's own tests)", where)
    tie = keys.get("net.tie_breaker", "lowest")
    if tie not in ("lowest", "highest") and not tie.isdigit():
        raise ConfigError(f"quorum.device.net tie_breaker {tie!r}: lowest, highest or a node id", where)
    tls = keys.get("net.tls", "on")
    if tls not in TLS:
        raise ConfigError(f"quorum.device.net tls {tls!r}: one of {', '.join(TLS)}", where)
    timeout = number("timeout", 10000)
    assert timeout is not None
    sync = number("sync_timeout", 30000)
    assert sync is not None
    port = number("net.port", 5403)
    assert port is not None
    return QuorumDevice(host=host, port=port, algorithm=algorithm, tie_breaker=tie, votes=number("votes", None),
                        tls=tls, timeout_ms=timeout, sync_timeout_ms=sync)


def _node(sec: _Section, where: str) -> CoroNode:
    addrs = {}
    for key, value in sec.keys.items():
        if key.startswith("ring") and key.endswith("_addr") and key[4:-5].isdigit():
            addrs[int(key[4:-5])] = value
    nodeid = _int(sec, "nodeid", where)
    name = sec.keys.get("name") or addrs.get(0)
    if nodeid is None or not name:
        raise ConfigError(f"line {sec.line}: a nodelist node needs nodeid and name (or ring0_addr)", where)
    return CoroNode(name, nodeid, MappingProxyType(addrs))
