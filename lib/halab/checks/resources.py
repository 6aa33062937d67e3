"""Resource rules: services can move where their domains say, and two services never collide.

rgmanager accepts a lot that cannot work at failover time: a domain naming no real node, a
restricted domain with one member, a floating IP on a network the survivor has no NIC on, two
services mounting the same place (the seed write-up's 2:1 takeover warning).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from halab.checks import lab
from halab.checks.base import Context, Issue, error, rule, warning
from halab.clusterconf import ClusterConf, Resource, Service

MOUNT_KINDS = frozenset({"fs", "clusterfs", "netfs"})


@rule("resources.config-version", "config_version is a positive integer (cman_tool version -r needs it)")
def config_version(ctx: Context) -> Iterator[Issue]:
    conf = ctx.conf
    raw = conf.attrs.get("config_version")
    if raw is None:
        yield error(conf, "<cluster> has no config_version=: cman will not load it")
    elif conf.config_version is None:
        yield error(conf, f"config_version {raw!r} is not an integer")
    elif conf.config_version < 1:
        yield error(conf, f"config_version {conf.config_version} must be at least 1")


@rule("resources.domain-exists", "a service's failover domain is defined")
def domain_exists(ctx: Context) -> Iterator[Issue]:
    rm = ctx.conf.rm
    if rm is None:
        return
    for svc in rm.services:
        name = rm.service_domain(svc)
        if name and rm.domain(name) is None:
            yield error(svc, f"{svc.ident} runs in failover domain {name!r}, which is not defined "
                        f"(defined: {', '.join(str(d.name) for d in rm.domains) or 'none'})")


@rule("resources.domain-members", "failover domains name real cluster nodes")
def domain_members(ctx: Context) -> Iterator[Issue]:
    names = {n.name for n in ctx.conf.nodes}
    for dom in ctx.conf.domains:
        if not dom.members:
            yield error(dom, f"failover domain {dom.name} has no member")
        for member in dom.members:
            if member.name not in names:
                yield error(member, f"domain {dom.name} names {member.name!r}, which is not a clusternode")


@rule("resources.restricted-failover", "a restricted domain used by a service has at least 2 real members")
def restricted_failover(ctx: Context) -> Iterator[Issue]:
    rm = ctx.conf.rm
    if rm is None:
        return
    names = {n.name for n in ctx.conf.nodes}
    used = {rm.service_domain(s) for s in rm.services}
    for dom in rm.domains:
        real = [m.name for m in dom.members if m.name in names]
        if not dom.restricted or len(real) >= 2:
            continue
        reason = (f"restricted domain {dom.name} has {len(real)} real member(s): a service in it can never "
                  "fail over")
        yield error(dom, reason) if dom.name in used else warning(dom, reason + " (no service uses it)")


@rule("resources.refs", "every ref= in a service names a resource in <resources>")
def refs(ctx: Context) -> Iterator[Issue]:
    rm = ctx.conf.rm
    if rm is None:
        return
    for svc in rm.services:
        for res in svc.walk():
            if res.ref and rm.definition(res.kind, res.ref) is None:
                yield error(res, f"{svc.ident} refers to {res.kind} {res.ref!r}, not defined in <resources>")


def _claims(conf: ClusterConf, kinds: frozenset[str], key: str) -> Iterator[tuple[Service, Resource, str]]:
    """(service, resource, value of ``key``) for every resource of ``kinds`` in every service."""
    rm = conf.rm
    if rm is None:
        return
    for svc in rm.services:
        for res in svc.walk():
            if res.kind in kinds:
                value = rm.effective_attrs(res).get(key)
                if value:
                    yield svc, res, value


def _ip_of(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_interface(value.strip()).ip
    except ValueError:
        return None


def _duplicates(conf: ClusterConf, kinds: frozenset[str], key: str, what: str) -> Iterator[Issue]:
    first: dict[str, tuple[Service, Resource]] = {}
    for svc, res, value in _claims(conf, kinds, key):
        canon = _canon(key, value)
        if canon in first:
            other, ores = first[canon]
            same = "twice in one service" if other is svc else f"also by {other.locator} (line {ores.line})"
            yield error(res, f"{what} {value} is claimed {same}: when one node runs both (2:1 takeover) "
                        "the second start fails")
        else:
            first[canon] = (svc, res)


def _canon(key: str, value: str) -> str:
    if key == "address":
        ip = _ip_of(value)
        return str(ip) if ip else value
    return value.rstrip("/") or "/"


@rule("resources.shared-ip", "no two services (or one service twice) claim the same floating IP")
def shared_ip(ctx: Context) -> Iterator[Issue]:
    yield from _duplicates(ctx.conf, frozenset({"ip"}), "address", "floating IP")


@rule("resources.shared-mount", "no two services claim the same mount point or local file system device")
def shared_mount(ctx: Context) -> Iterator[Issue]:
    yield from _duplicates(ctx.conf, MOUNT_KINDS, "mountpoint", "mount point")
    yield from _duplicates(ctx.conf, frozenset({"fs"}), "device", "device")


def _candidates(conf: ClusterConf, svc: Service) -> list[str]:
    """Cluster nodes that may run ``svc``: its restricted domain's members, else every node."""
    rm = conf.rm
    dom = rm.domain(rm.service_domain(svc) or "") if rm else None
    if dom is not None and dom.restricted:
        return [str(m.name) for m in dom.members]
    return [str(n.name) for n in conf.nodes]


@rule("resources.ip-network", "a floating IP sits in a lab network every candidate node has an address on",
      needs_lab=True)
def ip_network(ctx: Context) -> Iterator[Issue]:
    spec = ctx.spec
    assert spec is not None
    for svc, res, value in _claims(ctx.conf, frozenset({"ip"}), "address"):
        ip = _ip_of(value)
        if not isinstance(ip, ipaddress.IPv4Address):
            if ip is None:
                yield error(res, f"floating IP {value!r} is not an address")
            continue
        net = lab.network_of(spec, ip)
        if net is None:
            yield error(res, f"floating IP {ip} is in no network of lab {spec.name}: ip.sh finds no NIC "
                        "for it")
            continue
        owner = lab.owner_of(spec, ip)
        if owner is not None or ip == net.host:
            whose = owner.name if owner else "the host"
            yield error(res, f"floating IP {ip} is already the address of {whose}")
        yield from _nic_issues(ctx, svc, res, net.name, ip)


def _nic_issues(ctx: Context, svc: Service, res: Resource, net: str, ip: object) -> Iterator[Issue]:
    spec = ctx.spec
    assert spec is not None
    for name in _candidates(ctx.conf, svc):
        node = lab.lab_node(spec, name)
        if node is not None and all(a.network != net for a in node.addresses):
            yield error(res, f"{svc.ident} may run on {name}, which has no address on {net} for {ip}")


RULES = (config_version, domain_exists, domain_members, restricted_failover, refs, shared_ip, shared_mount,
         ip_network)
