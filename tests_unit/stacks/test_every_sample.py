"""Every file in ../shared/samples is read by the reader of its kind, without error.

The table below says which kind each sample is; a sample added to ../shared without a row here
fails, so no sample goes unread. The facts each one shows are asserted in test_samples_*.py.
"""

from __future__ import annotations

import pytest
from stack_samples import NO_SAMPLES, all_samples, body

from halab.stacks.kinds import KINDS, LOG_KIND, read_kind, read_log

pytestmark = pytest.mark.samples

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


CASES = [pytest.param(rel, kind, id=f"{kind}:{rel}") for rel in all_samples() for kind in kinds_of(rel)] or [
    pytest.param("", "", marks=pytest.mark.skip(reason=NO_SAMPLES), id="no-samples")
]


@pytest.mark.parametrize(("rel", "kind"), CASES)
def test_sample_reads_without_error(rel: str, kind: str) -> None:
    text = body(rel)
    result = read_log(text, year=2020) if kind == LOG_KIND else read_kind(kind, text)
    assert result or kind in (LOG_KIND, "cman-nodes")  # every non-log sample yields something


def test_every_kind_of_the_table_exists() -> None:
    for kinds in KIND_OF.values():
        assert set(kinds) <= {*KINDS, LOG_KIND}
