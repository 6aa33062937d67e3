"""Fencing rules: every node can be fenced, by a device that exists, over a path that survives the
failure it is fencing for.

Without a working fence nothing fails over: fenced retries forever and DLM (so rgmanager) waits
for it (FACTS.md 1c, fenced). A fence path over the heartbeat network dies with the heartbeat.
"""

from __future__ import annotations

from collections.abc import Iterator

from halab.checks import lab
from halab.checks.base import Context, Issue, error, rule, warning
from halab.clusterconf import ClusterConf, DeviceRef, FenceDevice
from halab.clusterconf.model import CREDENTIAL_KEYS

# Agents that reach no management address with a login: they fence through the hypervisor's own
# channel, shared storage, or the cluster itself (fence-agents 3.1.x).
LOCAL_AGENTS = frozenset({
    "fence_xvm", "fence_virt", "fence_pcmk", "fence_manual", "fence_scsi", "fence_sanlock", "fence_kdump",
    "fence_mpath", "fence_sbd", "fence_node",
})
# Agents that authenticate without a login name (SNMP community or a bare password).
NO_LOGIN_AGENTS = frozenset({"fence_wti", "fence_apc_snmp", "fence_ifmib", "fence_eaton_snmp",
                             "fence_intelmodular", "fence_cisco_mds"})
# Agents whose port is a libvirt/hypervisor domain name.
DOMAIN_PORT_AGENTS = frozenset({"fence_virsh", "fence_xvm", "fence_virt"})


@rule("fencing.method", "every node has a fence method with at least one device")
def method(ctx: Context) -> Iterator[Issue]:
    for node in ctx.conf.nodes:
        if not node.methods:
            yield error(node, f"{node.name} has no fence method: if it fails, fenced retries forever and no "
                        "service is taken over")
        for m in node.methods:
            if not m.devices:
                yield error(m, f"fence method {m.name!r} of {node.name} has no device")


@rule("fencing.device-exists", "every fence device a node refers to is defined in <fencedevices>")
def device_exists(ctx: Context) -> Iterator[Issue]:
    known = {dev.name for dev in ctx.conf.fence_devices}
    for node in ctx.conf.nodes:
        for ref in node.device_refs():
            if not ref.name:
                yield error(ref, f"a fence device of {node.name} has no name=")
            elif ref.name not in known:
                yield error(ref, f"{node.name} is fenced by {ref.name!r}, which is not in <fencedevices> "
                            f"(known: {', '.join(sorted(str(k) for k in known)) or 'none'})")
    for dev in ctx.conf.fence_devices:
        if not dev.name:
            yield error(dev, "a fencedevice has no name=")


Use = tuple[str, DeviceRef | None, dict[str, str]]


def _uses(conf: ClusterConf, device: FenceDevice) -> list[Use]:
    """(node name, ref, effective attributes) per use of ``device``; one unused entry if none."""
    uses: list[Use] = [(str(node.name), ref, {**dict(device.attrs), **dict(ref.options)})
                       for node in conf.nodes for ref in node.device_refs() if ref.name == device.name]
    return uses or [("", None, dict(device.attrs))]


def _missing(agent: str, attrs: dict[str, str]) -> list[str]:
    if agent in LOCAL_AGENTS:
        return []
    missing = []
    if not (attrs.get("ipaddr") or attrs.get("ipaddress") or attrs.get("hostname")):
        missing.append("ipaddr")
    if agent not in NO_LOGIN_AGENTS and not attrs.get("login"):
        missing.append("login")
    if not any(attrs.get(k) for k in (*CREDENTIAL_KEYS, "password", "community")):
        missing.append("a credential (passwd, passwd_script or identity_file)")
    return missing


@rule("fencing.agent-essentials", "a fence device has its agent, address, login and a credential")
def agent_essentials(ctx: Context) -> Iterator[Issue]:
    for dev in ctx.conf.fence_devices:
        if not dev.agent:
            yield error(dev, "fencedevice has no agent=: fenced cannot run anything")
            continue
        for node, _ref, attrs in _uses(ctx.conf, dev):
            missing = _missing(dev.agent, attrs)
            if missing:
                whom = f" to fence {node}" if node else ""
                yield error(dev, f"{dev.agent} lacks {', '.join(missing)}{whom}: the agent cannot log in")


@rule("fencing.heartbeat-path", "the fence path does not run over the heartbeat network", needs_lab=True)
def heartbeat_path(ctx: Context) -> Iterator[Issue]:
    assert ctx.spec is not None
    hb = lab.heartbeat(ctx.spec)
    for dev in ctx.conf.fence_devices:
        if dev.agent in LOCAL_AGENTS:
            continue
        targets = {a.get("ipaddr") or a.get("ipaddress") or "" for _n, _r, a in _uses(ctx.conf, dev)} - {""}
        for target in sorted(targets):
            found = lab.resolve(ctx.spec, target)
            if found is None:
                yield warning(dev, f"fence target {target!r} is not a name or address of lab "
                              f"{ctx.spec.name}: cannot tell which network carries fencing")
            elif found.network is None:
                yield warning(dev, f"fence target {target} is in no network of lab {ctx.spec.name}")
            elif found.network.name == hb.name:
                yield error(dev, f"fence target {target} is on the heartbeat network {hb.subnet}: a "
                            "heartbeat failure also cuts the fence path, so the survivor cannot fence")


@rule("fencing.port", "a node's fence port names its own libvirt domain, not another node's",
      needs_lab=True)
def port(ctx: Context) -> Iterator[Issue]:
    assert ctx.spec is not None
    domains = {n.domain: n for n in ctx.spec.nodes}
    for node in ctx.conf.nodes:
        me = lab.lab_node(ctx.spec, node.name or "")
        for ref in node.device_refs():
            dev = ctx.conf.fence_device(ref.name or "")
            if me is None or dev is None or dev.agent not in DOMAIN_PORT_AGENTS:
                continue
            target = ref.port or ref.options.get("domain") or dev.attrs.get("port")
            owner = domains.get(target or "")
            if owner is None:
                yield error(ref, f"{node.name} is fenced with port {target!r}, which is no libvirt domain of "
                            f"lab {ctx.spec.name} (domains: {', '.join(domains)})")
            elif owner.name != me.name:
                yield error(ref, f"{node.name} is fenced with port {target} = {owner.name}'s domain: fencing "
                            f"{node.name} would kill {owner.name}")


RULES = (method, device_exists, agent_essentials, heartbeat_path, port)
