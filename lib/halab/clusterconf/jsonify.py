"""The model as plain JSON-able data, secrets redacted (for --json output and report attachments)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from halab.clusterconf.attrs import REDACTED, Attrs, is_secret
from halab.clusterconf.model import ClusterConf, Element


def to_dict(element: Element) -> dict[str, Any]:
    """Typed fields, ``line``, and the unmodeled attributes as ``extra`` (redacted)."""
    out: dict[str, Any] = {"tag": element.tag, "line": element.line}
    for f in fields(element):
        if f.name in ("source", "attrs", "line", "kind"):
            continue
        out[f.name] = _plain(getattr(element, f.name))
    out["extra"] = element.extra.redacted()
    if isinstance(element, ClusterConf):
        out["derived"] = derived_summary(element)
    return out


def derived_summary(conf: ClusterConf) -> dict[str, Any]:
    """The values the cluster runs with (what the oracle uses), for humans reading --json."""
    q = conf.qdisk_effective()
    return {
        "token_ms": conf.effective_token_ms,
        "consensus_ms": {flavor: conf.effective_consensus_ms(flavor) for flavor in ("rhel6", "3.0.12")},
        "quorum_dev_poll_ms": conf.quorum_dev_poll_ms,
        "expected_votes": conf.effective_expected_votes,
        "quorum_votes": conf.quorum_votes,
        "post_fail_delay_s": conf.post_fail_delay_s,
        "post_join_delay_s": conf.post_join_delay_s,
        "qdisk": None if q is None else {
            "interval_s": q.interval_s, "tko": q.tko, "tko_up": q.tko_up, "upgrade_wait": q.upgrade_wait,
            "master_wait": q.master_wait, "votes": q.votes, "master_wins": q.master_wins,
            "min_token_ms": q.min_token_ms, "tko_auto": q.tko_auto,
        },
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Element):
        return to_dict(value)
    if isinstance(value, Attrs):
        return value.redacted()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


def redact_value(key: str, value: str) -> str:
    return REDACTED if is_secret(key) else value
