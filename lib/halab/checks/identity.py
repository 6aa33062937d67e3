"""Identity rules: nodes are told apart, and their names put totem on the heartbeat network.

cman binds totem to the address a clusternode name resolves to. A name that resolves to the
service network silently moves the heartbeat there, and the heartbeat-cut fault then proves
nothing. The lab spec says which name is on which network.
"""

from __future__ import annotations

from collections.abc import Iterator

from halab.checks import lab
from halab.checks.base import Context, Issue, error, rule, warning


@rule("identity.unique-ids", "every node has a positive nodeid, unique in the cluster")
def unique_ids(ctx: Context) -> Iterator[Issue]:
    seen: dict[int, str] = {}
    for node in ctx.conf.nodes:
        if node.nodeid is None:
            if "nodeid" not in node.attrs:
                yield error(node, f"{node.name} has no nodeid= (cman 3 needs one per node)")
            continue  # a nodeid that is not a number: config.values reports it
        if node.nodeid <= 0:
            yield error(node, f"{node.name} has nodeid {node.nodeid}: node ids start at 1")
        elif node.nodeid in seen:
            yield error(node, f"nodeid {node.nodeid} of {node.name} is already used by {seen[node.nodeid]}")
        else:
            seen[node.nodeid] = str(node.name)


@rule("identity.unique-names", "every node has a name, unique in the cluster")
def unique_names(ctx: Context) -> Iterator[Issue]:
    seen: set[str] = set()
    for node in ctx.conf.nodes:
        if not node.name:
            yield error(node, "clusternode has no name=")
        elif node.name in seen:
            yield error(node, f"node name {node.name} appears twice")
        seen.add(node.name or "")
    if not ctx.conf.nodes:
        yield error(ctx.conf, "no <clusternodes>: there is no cluster to fail over in")


@rule("identity.heartbeat-names", "node names resolve to the nodes' heartbeat addresses in the lab spec",
      needs_lab=True)
def heartbeat_names(ctx: Context) -> Iterator[Issue]:
    spec = ctx.spec
    assert spec is not None
    hb = lab.heartbeat(spec)
    claimed: dict[str, str] = {}
    for node in ctx.conf.nodes:
        found = lab.resolve(spec, node.name or "")
        if found is None or found.node is None:
            yield error(node, f"{node.name} is not a host name or address of any node in lab {spec.name}")
            continue
        if found.network is None or found.network.name != hb.name:
            net = found.network.name if found.network else "no lab network"
            better = next((a.hostname for a in found.node.addresses if a.network == hb.name), None)
            hint = f" (use {better})" if better else ""
            yield error(node, f"{node.name} resolves to {found.address} on {net}, not heartbeat {hb.subnet}: "
                        f"totem would run there{hint}")
        if found.node.name in claimed:
            yield error(node, f"{node.name} and {claimed[found.node.name]} are both lab node "
                        f"{found.node.name}")
        claimed[found.node.name] = str(node.name)
    for missing in (n for n in spec.nodes if n.name not in claimed):
        yield warning(ctx.conf, f"lab node {missing.name} is not a clusternode: it will never be a member")


RULES = (unique_ids, unique_names, heartbeat_names)
