"""Every file in ../shared/samples is read by the reader of its kind, without error.

The table below says which kind each sample is; a sample added to ../shared without a row here
fails, so no sample goes unread. The facts each one shows are asserted in test_samples_*.py.
"""

from __future__ import annotations

import pytest
from stack_samples import KIND_OF, NO_SAMPLES, all_samples, body, kinds_of

from halab.stacks.kinds import KINDS, LOG_KIND, read_kind, read_log

pytestmark = pytest.mark.samples

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
