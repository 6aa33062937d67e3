"""The lab's cluster.conf under a timing profile: the one text both the deploy and the oracle use.

Why: the seed's cluster.conf carries the seed's timings (token 20000, qdisk interval 1 x tko 10).
A faster profile for CI cannot simply shorten the token as on pacemaker: qdiskd refuses a token
under 10000 ms and one not larger than interval·(master_wait + upgrade_wait + tko)·1000
(../shared/reference/FACTS.md, qdiskd). So a profile names its cluster.conf overrides in the
lab spec, ``[stacks.rgmanager.timing.<profile>]`` with ``totem_token``, ``quorumd_interval`` and
``quorumd_tko``; a profile without that section deploys cluster.conf as written. The overridden
text is checked with the config rules before anything runs, so a profile qdiskd would refuse is
a clear error, not a cluster that never forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from halab.clusterconf.model import ClusterConf
from halab.clusterconf.reader import parse_cluster_conf
from halab.errors import ConfigError
from halab.spec import RANGE_KEYS, LabSpec

# profile key -> (element, attribute) in cluster.conf
OVERRIDES = {
    "totem_token": ("totem", "token"),
    "quorumd_interval": ("quorumd", "interval"),
    "quorumd_tko": ("quorumd", "tko"),
}


def profile_overrides(spec: LabSpec) -> dict[str, int]:
    """The cluster.conf overrides of the spec's timing profile (empty: cluster.conf as written)."""
    cfg: Mapping[str, Any] = spec.stacks.get("rgmanager", {})
    section = cfg.get("timing", {}).get(spec.timing.name, {})
    unknown = sorted(set(section) - set(OVERRIDES) - set(RANGE_KEYS))
    if unknown:
        raise ConfigError(f"[stacks.rgmanager.timing.{spec.timing.name}]: unknown key(s) {', '.join(unknown)} "
                          f"(known: {', '.join((*OVERRIDES, *RANGE_KEYS))})", str(spec.path))
    return {k: int(v) for k, v in section.items() if k in OVERRIDES}  # ranges: halab.spec.stack_timing


def apply_overrides(text: str, overrides: Mapping[str, int]) -> str:
    """``text`` with each override's attribute set (the element is created under <cluster> if absent)."""
    if not overrides:
        return text
    root = etree.fromstring(text.encode())
    for key, value in overrides.items():
        tag, attr = OVERRIDES[key]
        el = root.find(tag)
        if el is None:
            el = etree.SubElement(root, tag)
        el.set(attr, str(value))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8").decode() + "\n"


def lab_conf_text(spec: LabSpec) -> str:
    """The cluster.conf text the lab runs under its timing profile."""
    from halab.clusterconf.reader import MAX_CONF_BYTES
    from halab.errors import ConfigError
    from halab.inputs import read_input

    path = spec.cluster_conf_path()
    text = read_input(path, lambda what: ConfigError(what, str(path)), MAX_CONF_BYTES).decode("utf-8", "replace")
    return apply_overrides(text, profile_overrides(spec))


def lab_conf(spec: LabSpec) -> ClusterConf:
    """The parsed cluster.conf the lab runs under its timing profile (what the oracle models)."""
    return parse_cluster_conf(lab_conf_text(spec), spec.cluster_conf_path())
