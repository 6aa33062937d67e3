"""Where the real output samples live (../shared/samples, never copied here) and how to read one.

Each sample file starts with two provenance lines (# SOURCE, # VERBATIM); readers get the body.
Without ../shared the sample tests skip and say why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from halab.stacks.kinds import LOG_KIND

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
SAMPLES = SHARED / "samples"
NO_SAMPLES = f"{SAMPLES} is absent: the real samples live outside the repo (CI has them)"


def body(rel: str) -> str:
    """The sample's output as the tool printed it (provenance lines dropped); skips if absent."""
    path = SAMPLES / rel
    if not path.is_file():
        pytest.skip(NO_SAMPLES if not SAMPLES.is_dir() else f"{path} is missing")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[0].startswith("# SOURCE"), f"{rel}: no provenance lines"
    assert lines[1].startswith("# VERBATIM"), f"{rel}: no provenance lines"
    return "".join(lines[2:])


def all_samples() -> list[str]:
    """Every sample file, as a path relative to the samples directory."""
    if not SAMPLES.is_dir():
        return []
    return sorted(str(p.relative_to(SAMPLES)) for p in SAMPLES.rglob("*.txt"))


# sample file name prefix -> the kinds that read it (a page with two outputs has two)
KIND_OF = {
    "rhcs/clustat-x__": ("clustat-xml",),
    "rhcs/clustat__": ("clustat",),
    "rhcs/clustat_and_cman_tool_status__": ("clustat", "cman-status"),
    "rhcs/cman_tool_status__": ("cman-status",),
    "rhcs/kernel_dlm_gfs2_": (LOG_KIND,),
    "rhcs/mkqdisk-": ("mkqdisk",),
    "rhcs/syslog_": (LOG_KIND,),
    "rhcs/tgtadm_show_target__": ("tgt-show",),
    "pacemaker/corosync-cfgtool-s__": ("cfgtool",),
    "pacemaker/corosync-cmapctl_members__": ("cmap-members",),
    "pacemaker/corosync-quorumtool-s__": ("quorumtool",),
    "pacemaker/crm_mon-1__": ("crm-mon",),
    "pacemaker/crm_mon_as_xml_legacy__": ("crm-mon-xml",),
    "pacemaker/crm_mon_xml__": ("crm-mon-xml",),
    "pacemaker/pcs_status__": ("pcs-status",),
    "pacemaker/pcs_status_corosync__": ("quorumtool",),
    "pacemaker/sbd_dump__": ("sbd-dump",),
    "pacemaker/sbd_list__": ("sbd-list",),
    "pacemaker/syslog_": (LOG_KIND,),
}


def kinds_of(rel: str) -> tuple[str, ...]:
    matches = [k for k in KIND_OF if rel.startswith(k)]
    assert matches, f"{rel}: no kind in KIND_OF; add a row (and its facts to test_samples_*.py)"
    return KIND_OF[max(matches, key=len)]
