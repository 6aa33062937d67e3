"""Shared inputs of the CIB tests: the scheduler corpus in ../shared (never copied) and small CIBs."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "pacemaker-scheduler" / "xml"


def corpus() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip(f"the pacemaker scheduler corpus is absent ({CORPUS}); it lives in ../shared")
    return sorted(CORPUS.glob("*.xml"))


def cib(resources: str = "", constraints: str = "", props: str = "", nodes: str = "", extra: str = "",
        status: str = "") -> str:
    """A small CIB with two nodes unless ``nodes`` says otherwise."""
    nodes = nodes or "<node id='1' uname='n1'/><node id='2' uname='n2'/>"
    return (f"<cib validate-with='pacemaker-3.9' epoch='1' num_updates='0' admin_epoch='0'><configuration>"
            f"<crm_config><cluster_property_set id='opts'>{props}</cluster_property_set></crm_config>"
            f"<nodes>{nodes}</nodes><resources>{resources}</resources>"
            f"<constraints>{constraints}</constraints>{extra}</configuration><status>{status}</status></cib>")


def nv(name: str, value: str) -> str:
    return f"<nvpair id='o-{name}' name='{name}' value='{value}'/>"
