"""The user's pacemaker design mapped onto a lab: what is deployed, and what every reader uses.

The mapping changes only what must change for the design to run on the lab, and says each change
in one line (``halab deploy --dry-run --stack pacemaker`` prints them):
- node names: the user's names -> lab nodes (same names, or ``node_map`` in the spec);
- ring addresses: knet link N -> the lab network ``links[N]`` (default: the heartbeat network);
- fence devices: -> fence_virsh on the lab's fence path (the host's fence sshd), keeping every
  pcmk_* parameter (pcmk_delay_base/max, pcmk_host_list/map, ...), meta attributes, ops and the
  fencing topology; the user's agent parameters (addresses, logins, passwords) are dropped and
  never printed;
- IPaddr2: onto the service network (nic ``svc``, its prefix; an address outside the service
  subnet keeps its host part);
- Filesystem devices: onto the lab's data LUNs by path (in order of appearance, or ``devices``);
- agents the lab image lacks: replaced by a stand-in only where the spec's ``stand_ins`` allows it,
  otherwise one error line;
- a quorum device: -> the lab's own corosync-qnetd (halab.lab.qnetd) on the host side of
  ``qnetd_network`` (default: management), TLS off; votes, timeouts and the algorithm as written,
  the tie_breaker on the lab's node ids (the nodelist is renumbered to the lab's node order).
Constraints, meta attributes, operations and cluster options stay exactly as written. The timing
profile's token (``--timing fast``) replaces the design's totem token, said in a line.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from lxml import etree

from halab.cib import simulate as sim
from halab.cib.design import Design, load_design
from halab.cib.model import INFINITY, Clone, Corosync, Group, Primitive, QuorumDevice, Resource
from halab.cib.reader import parse_xml, read_cib
from halab.errors import ConfigError
from halab.lab import qnetd
from halab.spec import LabSpec, Node

FENCE_KEY_ON_NODE = "/root/.ssh/halab_fence"  # = halab.lab.lab.FENCE_KEY_ON_NODE (no libvirt import here)
SERVICE_NIC = "svc"
# What halab's own Debian image runs for real (resource-agents, pacemaker, fence-agents, myappl).
IMAGE_AGENTS = frozenset({
    "ocf:heartbeat:IPaddr2", "ocf:heartbeat:Filesystem", "ocf:heartbeat:Dummy", "ocf:pacemaker:Dummy",
    "ocf:pacemaker:Stateful", "ocf:pacemaker:ping", "ocf:pacemaker:attribute", "ocf:heartbeat:symlink",
    "systemd:myappl", "service:myappl",
})
SECRET_PARAMS = ("passwd", "password", "passwd_script", "identity_file", "key", "secret", "community")
# quorum.device keys (flat, as the reader gives them) rendered as the user wrote them; net.host,
# net.port, net.tls and net.tie_breaker are mapped; anything else is dropped, said in a line
DEVICE_KEPT = ("votes", "timeout", "sync_timeout")
NET_KEPT = ("connect_timeout", "keep_active_partition_tie_breaker")
DEVICE_MAPPED = frozenset({"model", "net.host", "net.port", "net.algorithm", "net.tie_breaker", "net.tls",
                           *DEVICE_KEPT, *(f"net.{k}" for k in NET_KEPT)})


@dataclass(frozen=True)
class LabDesign:
    """The design as deployed on this lab (lab node names), the files it came from, the mapping."""

    user: Design  # as the user wrote it
    design: Design  # mapped: lab names, fence_virsh, lab addresses and LUNs
    cib_xml: bytes  # the mapped configuration, loaded with cibadmin
    corosync_conf: str
    mapping: tuple[str, ...]
    token_ms: int
    baseline: Mapping[str, tuple[str, ...]]  # primitive -> nodes, crm_simulate on the healthy cluster
    app_port: int

    # --- the facts the lab run reads (one place) ------------------------------------------------

    @property
    def cluster_name(self) -> str:
        return self.design.corosync.cluster_name if self.design.corosync else "cluster"

    @property
    def service(self) -> str:
        return self.design.service().id

    @property
    def service_rsc(self) -> Resource:
        return self.design.service()

    def prim(self, agent: str) -> Primitive | None:
        return next((p for p in self.service_rsc.primitives() if p.agent.endswith(agent)), None)

    @property
    def preferred_node(self) -> str:
        """Where the healthy cluster runs the service (pacemaker's own placement)."""
        where = self.baseline.get(self.service_rsc.primitives()[0].id, ())
        if not where:
            raise ConfigError(f"pacemaker places {self.service} nowhere on the healthy lab cluster",
                              str(self.user.cib_path))
        return where[0]

    def services_after_loss(self, lost: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        """Where each service (the followed one included) runs once ``lost`` left the membership and
        were fenced, by pacemaker's own scheduler (crm_simulate on the settled healthy cluster,
        quorum as votequorum decides); () = it runs nowhere."""
        if not lost:
            return {}
        device = self.design.corosync.device if self.design.corosync else None
        placement = _after_loss(self.cib_xml, self.design.nodes, lost, self.design.two_node, str(self.user.cib_path),
                                device)
        return {r.id: placement.get(r.primitives()[0].id, ()) for r in self.design.services()}

    @property
    def restart_chain(self) -> tuple[str, ...]:
        """The followed service and every service that stops and starts again when it moves: those
        colocated with it or ordered after it (mandatory), transitively; clones stay where they are.

        Why: the restore's way home moves the followed service, and pacemaker stops and starts
        each group of that chain in turn (web3: db, then web). Measured live on web3, a budget for
        one group ran out while the second was still starting."""
        services = {r.id for r in self.design.services()}
        cib = self.design.cib
        chain = [self.service]
        grown = True
        while grown:
            grown = False
            for rid in sorted(services - set(chain)):
                colocated = any(c.rsc == rid and c.with_rsc in chain and c.score > 0 for c in cib.colocations)
                ordered = any(o.then == rid and o.first in chain and o.kind.lower() == "mandatory"
                              for o in cib.orders)
                if colocated or ordered:
                    chain.append(rid)
                    grown = True
        return tuple(chain)

    @property
    def allowed_nodes(self) -> tuple[str, ...]:
        """Nodes the service may run on: no -INFINITY location (opt-in clusters: a positive one)."""
        ids = {self.service, *(p.id for p in self.service_rsc.primitives())}
        locs = [lc for lc in self.design.cib.locations if lc.rsc in ids and not lc.role]
        banned = {lc.node for lc in locs if lc.score <= -INFINITY}
        opt_in = self.design.cib.option("symmetric-cluster").lower() in ("false", "no", "0", "off")
        wanted = {lc.node for lc in locs if lc.score > 0}
        return tuple(n for n in self.design.nodes if n not in banned and (not opt_in or n in wanted))

    @property
    def service_ip(self) -> str:
        ip = self.prim("IPaddr2")
        if ip is None:
            raise ConfigError(f"{self.service} has no IPaddr2: halab's client probe needs the service address",
                              str(self.user.cib_path))
        return ip.params["ip"]

    @property
    def app(self) -> str:
        last = self.service_rsc.primitives()[-1]
        return last.type

    def op_s(self, agent: str, op: str, field: str, default: float) -> float:
        prim = self.prim(agent)
        ops = prim.ops_named(op) if prim else ()
        if op == "monitor":
            ops = tuple(o for o in ops if not o.role)
        value = getattr(ops[0], field) if ops else None
        if value is None and field == "timeout_s":
            from halab.cib.values import duration_s

            value = duration_s(self.design.cib.op_defaults.get("timeout"), "op_defaults timeout")
        return float(value) if value is not None else default

    @property
    def fs_monitor_interval_s(self) -> float:
        return self.op_s("Filesystem", "monitor", "interval_s", 0.0)

    @property
    def fs_monitor_timeout_s(self) -> float:
        return self.op_s("Filesystem", "monitor", "timeout_s", 20.0)

    @property
    def data_device(self) -> str:
        fs = self.prim("Filesystem")
        return fs.params.get("device", "") if fs else ""

    @property
    def mountpoint(self) -> str:
        fs = self.prim("Filesystem")
        return fs.params.get("directory", "") if fs else ""

    @property
    def fstype(self) -> str:
        fs = self.prim("Filesystem")
        return fs.params.get("fstype", "ext4") if fs else "ext4"

    @property
    def files(self) -> Mapping[str, str]:
        """The design's files and their hashes (for the report's environment)."""
        return self.user.hashes


_CACHE: dict[str, LabDesign] = {}


def lab_design(spec: LabSpec) -> LabDesign:
    """The spec's pacemaker design mapped onto its lab (cached per spec content and files)."""
    cfg = spec.stack_config("pacemaker")
    cib_p, coro_p = _paths(spec, cfg)
    key = hashlib.sha256(repr((spec.path, sorted(cfg.items()), spec.nodes, spec.networks, spec.storage,
                               spec.timing, spec.image)).encode()
                         + cib_p.read_bytes() + coro_p.read_bytes()).hexdigest()
    if key not in _CACHE:
        _CACHE[key] = _Mapper(spec, cfg, load_design(cib_p, coro_p)).lab_design()
    return _CACHE[key]


def has_quorum_device(spec: LabSpec) -> bool:
    """The lab's pacemaker design names a quorum device (its corosync.conf alone is read)."""
    from halab.cib.corosync import load_corosync

    _, coro = _paths(spec, spec.stack_config("pacemaker"))
    return load_corosync(coro).device is not None


def _paths(spec: LabSpec, cfg: Mapping[str, Any]) -> tuple[Path, Path]:
    out = []
    for key in ("cib", "corosync"):
        if not cfg.get(key):
            raise ConfigError(f"[stacks.pacemaker] has no {key} (the design's file)", str(spec.path))
        path = (spec.path.parent / str(cfg[key])).resolve()
        if not path.is_file():
            raise ConfigError(f"[stacks.pacemaker] {key} = {cfg[key]!r}: no such file", str(spec.path))
        out.append(path)
    return out[0], out[1]


class _Mapper:
    def __init__(self, spec: LabSpec, cfg: Mapping[str, Any], user: Design) -> None:
        self.spec = spec
        self.cfg = cfg
        self.user = user
        self.where = str(user.cib_path)
        self.lines: list[str] = []
        self.names = self.node_names()

    def say(self, line: str) -> None:
        self.lines.append(line)

    def lab_design(self) -> LabDesign:
        root = copy.deepcopy(parse_xml(Path(str(self.user.cib_path)).read_bytes(), self.where))
        for st in root.findall("status"):
            root.remove(st)
        conf = root.find("configuration")
        assert conf is not None  # the reader checked
        self.rename(conf)
        self.fencing(conf)
        self.addresses(conf)
        self.agents(conf)
        cib_xml = bytes(etree.tostring(root))
        token = self.spec.timing.token_ms
        coro = self.corosync(token)
        mapped = Design(read_cib(cib_xml, self.where), self.user.corosync, self.user.cib_path,
                        self.user.corosync_path, self.user.hashes)
        from halab.cib.corosync import read_corosync

        mapped = Design(mapped.cib, read_corosync(coro, "corosync.conf (mapped)"), self.user.cib_path,
                        self.user.corosync_path, self.user.hashes)
        baseline = _baseline(healthy(cib_xml, mapped.nodes), self.where)
        return LabDesign(self.user, mapped, cib_xml, coro, tuple(self.lines), token, baseline,
                         int(self.cfg.get("app_port", 8080)))

    # --- nodes ---------------------------------------------------------------------------------

    def node_names(self) -> Mapping[str, str]:
        node_map = {str(k): str(v) for k, v in dict(self.cfg.get("node_map", {})).items()}
        out = {}
        for name in self.user.nodes:
            lab = self.spec.node(node_map.get(name, name)).name
            out[name] = lab
            if lab != name:
                self.say(f"node {name} -> lab node {lab}")
        if len(set(out.values())) != len(out) or len(out) != len(self.spec.nodes):
            raise ConfigError(f"the design's nodes ({', '.join(out)}) do not map one to one onto the lab's "
                              f"({', '.join(n.name for n in self.spec.nodes)}): set node_map", self.where)
        return MappingProxyType(out)

    def rename(self, conf: etree._Element) -> None:
        """Every place a CIB names a node: <node>, locations, rules, host lists/maps, topology."""
        n = self.names
        for el in conf.iterfind("nodes/node"):
            lab = self.spec.node(n[str(el.get("uname") or el.get("id"))])
            el.set("uname", lab.name)
            el.set("id", str(lab.index))
        for el in conf.iterfind("constraints/rsc_location"):
            if el.get("node") in n:
                el.set("node", n[str(el.get("node"))])
        for ex in conf.iterfind(".//expression[@attribute='#uname']"):
            if ex.get("value") in n:
                ex.set("value", n[str(ex.get("value"))])
        for lv in conf.iterfind("fencing-topology/fencing-level"):
            if lv.get("target") in n:
                lv.set("target", n[str(lv.get("target"))])

    # --- fencing ---------------------------------------------------------------------------------

    def fencing(self, conf: etree._Element) -> None:
        net = self.spec.network(str(self.cfg.get("fence_network", "management")))
        host = str(net.host)
        for prim in conf.iterfind(".//primitive[@class='stonith']"):
            self.fence_device(prim, host, net.name)

    def fence_device(self, prim: etree._Element, host: str, net: str) -> None:
        rid = str(prim.get("id"))
        params = self.params(prim)
        kept: dict[str, str] = {}
        dropped = 0
        for nv in list(params):
            name, value = str(nv.get("name")), str(nv.get("value"))
            if name.startswith("pcmk_"):
                kept[name] = self.hosts(name, value)
            else:
                dropped += 1
            params.remove(nv)
        targets = self.fence_targets(kept)
        conn = {"ip": host, "username": "root", "identity_file": FENCE_KEY_ON_NODE, "ssh": "1",
                "login_timeout": "10"}
        if len(targets) == 1 and "pcmk_host_map" not in kept:
            conn["plug"] = self.spec.node(targets[0]).domain
        else:
            kept["pcmk_host_map"] = ";".join(f"{t}:{self.spec.node(t).domain}" for t in targets)
        for name, value in {**conn, **kept}.items():
            etree.SubElement(params, "nvpair", id=f"{rid}-{name}", name=name, value=value)
        was = f"{prim.get('type')}"
        prim.set("type", "fence_virsh")
        if "provider" in prim.attrib:
            del prim.attrib["provider"]
        self.say(f"fence device {rid}: {was} -> fence_virsh over {net} to {host}, fences "
                 f"{', '.join(targets)}; kept {', '.join(sorted(kept)) or 'no pcmk_* parameter'}"
                 + (f"; dropped {dropped} agent parameter(s) of {was}" if dropped and was != "fence_virsh" else ""))

    def hosts(self, name: str, value: str) -> str:
        n = self.names
        if name == "pcmk_host_list":
            return " ".join(n.get(h, h) for h in value.replace(",", " ").split())
        if name == "pcmk_host_map":
            pairs = [p.split(":", 1) for p in value.replace(";", " ").replace(",", " ").split() if ":" in p]
            return ";".join(f"{n.get(k, k)}:{self.spec.node(n.get(k, k)).domain}" for k, _ in pairs)
        return value

    def fence_targets(self, kept: Mapping[str, str]) -> tuple[str, ...]:
        named = kept.get("pcmk_host_list", "").split() + [p.split(":")[0] for p in
                                                           kept.get("pcmk_host_map", "").split(";") if p]
        lab = tuple(self.names.values())
        return tuple(t for t in lab if t in named) if named else lab

    @staticmethod
    def params(prim: etree._Element) -> etree._Element:
        params = prim.find("instance_attributes")
        if params is None:
            params = etree.Element("instance_attributes", id=f"{prim.get('id')}-inst")
            prim.insert(0, params)
        return params

    # --- addresses and storage --------------------------------------------------------------------

    def addresses(self, conf: etree._Element) -> None:
        svc = self.spec.network(str(self.cfg.get("service_ip_network", "service")))
        device_map = {str(k): int(v) for k, v in dict(self.cfg.get("devices", {})).items()}
        luns = [lun for lun in self.spec.storage.luns if lun.role == "data"]
        portal = self.spec.network(self.spec.storage.network).host
        seen: dict[str, str] = {}
        for prim in conf.iterfind(".//primitive[@type='IPaddr2']"):
            self.set_param(prim, "nic", SERVICE_NIC)
            self.set_param(prim, "cidr_netmask", str(svc.prefixlen))
            ip = self.param(prim, "ip")
            if ip and ipaddress.ip_address(ip) not in svc.subnet:
                host = int(ipaddress.ip_address(ip)) & int(svc.subnet.hostmask)
                new = str(svc.subnet.network_address + host)
                self.set_param(prim, "ip", new)
                self.say(f"{prim.get('id')}: IPaddr2 {ip} -> {new} on the {svc.name} network")
        for prim in conf.iterfind(".//primitive[@type='Filesystem']"):
            dev = self.param(prim, "device") or ""
            if dev not in seen:
                index = device_map.get(dev)
                lun = (next((x for x in luns if x.lun == index), None) if index is not None
                       else (luns[len(seen)] if len(seen) < len(luns) else None))
                if lun is None:
                    raise ConfigError(f"{prim.get('id')}: Filesystem device {dev} has no lab data LUN "
                                      f"(the lab has {len(luns)}; map it with devices = {{ {dev!r} = LUN }})",
                                      self.where)
                seen[dev] = f"/dev/disk/by-path/ip-{portal}:3260-iscsi-{self.spec.storage.target}-lun-{lun.lun}"
                if seen[dev] != dev:
                    self.say(f"{prim.get('id')}: Filesystem {dev} -> lab LUN {lun.lun} ({seen[dev]})")
            self.set_param(prim, "device", seen[dev])

    @staticmethod
    def param(prim: etree._Element, name: str) -> str | None:
        nv = prim.find(f"instance_attributes/nvpair[@name='{name}']")
        return None if nv is None else nv.get("value")

    def set_param(self, prim: etree._Element, name: str, value: str) -> None:
        nv = prim.find(f"instance_attributes/nvpair[@name='{name}']")
        if nv is None:
            nv = etree.SubElement(self.params(prim), "nvpair", id=f"{prim.get('id')}-{name}", name=name)
        nv.set("value", value)

    def agents(self, conf: etree._Element) -> None:
        """Agents the lab image lacks: a stand-in the spec allows, else one line."""
        if self.spec.image.kind != "builtin":
            return  # a user's image: its agents are checked on the node
        stand_ins = {str(k): str(v) for k, v in dict(self.cfg.get("stand_ins", {})).items()}
        for prim in conf.iter("primitive"):
            if prim.get("class") == "stonith":
                continue
            agent = ":".join(str(prim.get(a)) for a in ("class", "provider", "type") if prim.get(a))
            if agent in IMAGE_AGENTS:
                continue
            if agent not in stand_ins:
                raise ConfigError(f"{prim.get('id')}: the lab image has no {agent}; allow a stand-in with "
                                  f"[stacks.pacemaker] stand_ins = {{ \"{agent}\" = \"ocf:heartbeat:Dummy\" }}",
                                  self.where)
            cls, _, rest = stand_ins[agent].partition(":")
            provider, _, rtype = rest.rpartition(":")
            prim.set("class", cls)
            prim.set("type", rtype)
            if provider:
                prim.set("provider", provider)
            elif "provider" in prim.attrib:
                del prim.attrib["provider"]
            for ia in prim.findall("instance_attributes"):
                prim.remove(ia)
            self.say(f"{prim.get('id')}: {agent} is not in the lab image -> stand-in {stand_ins[agent]} "
                     "(allowed by stand_ins; its parameters dropped, ops and meta kept)")

    # --- corosync ------------------------------------------------------------------------------

    def corosync(self, token_ms: int) -> str:
        c = self.user.corosync
        assert c is not None
        links = [str(x) for x in self.cfg.get("links", [self.cfg.get("ring_network", "heartbeat")])]
        numbers = sorted({lk.number for lk in c.links} | {0}) if c.links else [0]
        if len(numbers) > len(links):
            raise ConfigError(f"corosync.conf has {len(numbers)} knet links, the spec maps {len(links)} "
                              f"(links = {links}): add a lab network per link", str(self.user.corosync_path))
        if c.device is not None and c.two_node:
            raise ConfigError("two_node: 1 with a quorum device: corosync will not start with both (check-config "
                              "rule pcmk.qdevice); drop two_node", str(self.user.corosync_path))
        if c.token_ms != token_ms:
            self.say(f"totem token {c.token_ms or 'default'} ms -> {token_ms} ms (timing profile "
                     f"{self.spec.timing.name})")
        for i, num in enumerate(numbers):
            self.say(f"knet link {num} -> lab network {self.spec.network(links[i]).name}")
        totem = {**c.totem, "token": str(token_ms), "cluster_name": c.cluster_name or "cluster"}
        tot = "".join(f"    {k}: {v}\n" for k, v in totem.items())
        tot += "".join("    interface {\n" + "".join(f"        {k}: {v}\n" for k, v in lk.options.items())
                       + "    }\n" for lk in c.links)
        nodes = ""
        for cn in c.nodes:
            lab = self.spec.node(self.names[cn.name])
            addrs = "".join(f"        ring{num}_addr: {lab.on(self.spec.network(links[i]).name).address}\n"
                            for i, num in enumerate(numbers))
            nodes += f"    node {{\n{addrs}        name: {lab.name}\n        nodeid: {lab.index}\n    }}\n"
        quorum = f"    provider: {c.quorum_provider or 'corosync_votequorum'}\n"
        quorum += "    two_node: 1\n" if c.two_node else ""
        quorum += f"    wait_for_all: {int(c.wait_for_all)}\n" if c.wait_for_all is not None else ""
        quorum += f"    expected_votes: {c.expected_votes}\n" if c.expected_votes is not None else ""
        quorum += self.device(c, c.device) if c.device is not None else ""
        return (f"# written by halab from {self.user.corosync_path}, mapped onto lab {self.spec.name}\n"
                f"totem {{\n{tot}}}\n\nnodelist {{\n{nodes}}}\n\nquorum {{\n{quorum}}}\n\n"
                "logging {\n    to_syslog: yes\n    to_logfile: no\n    to_stderr: no\n    timestamp: on\n}\n")

    def device(self, c: Corosync, dev: QuorumDevice) -> str:
        """quorum.device onto the lab's qnetd: where it listens and TLS off are the lab's; votes,
        timeouts and the algorithm stay as written (they decide votes and timers)."""
        keys = c.qdevice
        addr, net = qnetd.address(self.spec), qnetd.network_name(self.spec)
        self.say(f"quorum device: qnetd at {dev.host}:{dev.port} -> the lab's qnetd at {addr}:{qnetd.PORT} "
                 f"(network {self.spec.network(net).name})")
        if dev.tls != "off":
            self.say(f"qnetd tls {dev.tls} -> off (the lab's qnetd runs without certificates; TLS changes no vote "
                     "and no timer)")
        dropped = sorted(k for k in keys if k not in DEVICE_MAPPED)
        if dropped:
            self.say(f"quorum device: dropped {', '.join(dropped)} (heuristics run the user's commands against the "
                     "user's hosts; the lab's qdevice votes on membership alone, to its qnetd's IPv4 address)")
        body = "        model: net\n" + "".join(f"        {k}: {keys[k]}\n" for k in DEVICE_KEPT if k in keys)
        net_keys = {"host": addr, "port": str(qnetd.PORT), "algorithm": dev.algorithm,
                    "tie_breaker": self.tie_breaker(c, dev), "tls": "off",
                    **{k: keys[f"net.{k}"] for k in NET_KEPT if f"net.{k}" in keys}}
        body += "        net {\n" + "".join(f"            {k}: {v}\n" for k, v in net_keys.items()) + "        }\n"
        return f"    device {{\n{body}    }}\n"

    def tie_breaker(self, c: Corosync, dev: QuorumDevice) -> str:
        """The design's tie_breaker on the lab's node ids. Why: the nodelist is renumbered to the
        lab's node order, so a node id names another node there, and the user's lowest (highest)
        node may not be the lab's; the same node must win an even split."""
        lab: dict[int, Node] = {cn.nodeid: self.spec.node(self.names[cn.name]) for cn in c.nodes}
        tie = dev.tie_breaker
        if not lab:
            return tie
        if tie.isdigit():
            node = lab.get(int(tie))
            if node is None:
                raise ConfigError(f"quorum.device.net tie_breaker {tie} is no node id of the nodelist (check-config "
                                  "rule pcmk.qdevice)", str(self.user.corosync_path))
            if str(node.index) != tie:
                self.say(f"qdevice tie_breaker {tie} -> {node.index} (lab node {node.name}: the lab numbers its "
                         "nodes in its own order)")
            return str(node.index)
        pick = min if tie == "lowest" else max
        user_id = pick(lab)
        node = lab[user_id]
        if node.index == pick(n.index for n in lab.values()):
            return tie
        self.say(f"qdevice tie_breaker {tie} (node id {user_id}) -> {node.index} (lab node {node.name}: the lab "
                 f"renumbers the nodelist, and {node.name} is not its {tie} there)")
        return str(node.index)


_BASELINES: dict[str, Mapping[str, tuple[str, ...]]] = {}


def _baseline(cib_xml: bytes, where: str) -> Mapping[str, tuple[str, ...]]:
    """Pacemaker's placement on the healthy cluster, once per configuration (timing does not change it)."""
    key = hashlib.sha256(cib_xml).hexdigest()
    if key not in _BASELINES:
        _BASELINES[key] = sim.simulate(cib_xml, where=where).placement
    return _BASELINES[key]


_AFTER_LOSS: dict[tuple[str, tuple[str, ...], bool], Mapping[str, tuple[str, ...]]] = {}


def _after_loss(cib_xml: bytes, nodes: tuple[str, ...], lost: tuple[str, ...], two_node: bool,
                where: str, device: QuorumDevice | None = None) -> Mapping[str, tuple[str, ...]]:
    """Placement (primitive -> nodes) after ``lost`` are lost from the settled healthy cluster
    (with a quorum device, qnetd votes for the survivors: they reach it, the lost do not)."""
    quorate = sim.quorate_after_loss(len(nodes), len(lost), two_node, device)
    key = (hashlib.sha256(cib_xml).hexdigest(), tuple(sorted(lost)), quorate)
    if key not in _AFTER_LOSS:
        cib = sim.settle(healthy(cib_xml, nodes), where=where)
        for node in lost:
            cib = sim.lose_node(cib, node, quorate=quorate, where=where)
        _AFTER_LOSS[key] = sim.simulate(cib, where=where).placement
    return _AFTER_LOSS[key]


def healthy(cib_xml: bytes, nodes: tuple[str, ...]) -> bytes:
    """The configuration with every node a full member, quorate, nothing run yet."""
    root = copy.deepcopy(parse_xml(cib_xml, "cib"))
    root.set("have-quorum", "1")
    for st in root.findall("status"):
        root.remove(st)
    status = etree.SubElement(root, "status")
    ids = {str(n.get("uname")): str(n.get("id")) for n in root.iterfind("configuration/nodes/node")}
    for n in nodes:
        etree.SubElement(status, "node_state", id=ids.get(n, n), uname=n, in_ccm="true", crmd="online",
                         join="member", expected="member")
    return bytes(etree.tostring(root))


def redacted(text: str) -> str:
    """Nothing secret in a printed CIB: values of password-like parameters are replaced."""
    root = parse_xml(text.encode(), "cib")
    for nv in root.iter("nvpair"):
        if any(s in str(nv.get("name", "")).lower() for s in SECRET_PARAMS):
            nv.set("value", "*****")
    return etree.tostring(root, pretty_print=True).decode()


def groups(r: Resource) -> tuple[Primitive, ...]:
    return r.members if isinstance(r, Group) else r.child.primitives() if isinstance(r, Clone) else (r,)
