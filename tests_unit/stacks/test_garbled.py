"""Garbled and truncated input: a ParseError naming the kind (and the line), never a traceback.

Hypothesis cuts and corrupts the real samples (and arbitrary text) and checks every reader either
answers with its result type or raises ParseError. XML outputs cut anywhere must be refused: a cut
XML document is never a smaller valid one.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stack_samples import NO_SAMPLES, SAMPLES, all_samples, body, kinds_of

from halab.errors import ParseError
from halab.stacks.kinds import KINDS, LOG_KIND, read_kind, read_log

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
XML_KINDS = ("clustat-xml", "crm-mon-xml")

CASES = [pytest.param(rel, kind, id=f"{kind}:{rel}") for rel in all_samples() for kind in kinds_of(rel)] or [
    pytest.param("", "", marks=pytest.mark.skip(reason=NO_SAMPLES), id="no-samples")
]


def _read(kind: str, text: str) -> object:
    return read_log(text, year=2020) if kind == LOG_KIND else read_kind(kind, text)


def _only_parse_errors(kind: str, text: str) -> None:
    """Any result, or a ParseError of this kind rendered as one line; anything else fails the test."""
    error: ParseError | None = None
    try:
        _read(kind, text)
    except ParseError as err:
        error = err
    if error is not None:
        assert error.kind in (kind, "syslog")
        assert str(error).startswith(error.kind)
        assert "\n" not in str(error)


@pytest.mark.samples
@pytest.mark.parametrize(("rel", "kind"), CASES)
@SETTINGS
@given(data=st.data())
def test_cut_sample_reads_or_raises_parse_error(rel: str, kind: str, data: st.DataObject) -> None:
    text = body(rel)
    cut = data.draw(st.integers(min_value=0, max_value=len(text)), label="cut")
    _only_parse_errors(kind, text[:cut])


@pytest.mark.samples
@pytest.mark.parametrize(("rel", "kind"), CASES)
@SETTINGS
@given(data=st.data())
def test_corrupted_sample_reads_or_raises_parse_error(rel: str, kind: str, data: st.DataObject) -> None:
    text = body(rel)
    start = data.draw(st.integers(min_value=0, max_value=len(text)), label="start")
    end = data.draw(st.integers(min_value=start, max_value=min(len(text), start + 40)), label="end")
    noise = data.draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=20), label="noise")
    _only_parse_errors(kind, text[:start] + noise + text[end:])


@pytest.mark.samples
@pytest.mark.parametrize("rel", [r for r in all_samples() if any(k in XML_KINDS for k in kinds_of(r))]
                         or [pytest.param("", marks=pytest.mark.skip(reason=NO_SAMPLES))])
def test_xml_cut_at_any_line_is_refused(rel: str) -> None:
    text = body(rel)
    (kind,) = kinds_of(rel)
    lines = text.splitlines(keepends=True)
    root_close = max(i for i, line in enumerate(lines) if line.strip().startswith("</"))
    for n in range(1, root_close + 1):
        with pytest.raises(ParseError) as err:
            read_kind(kind, "".join(lines[:n]))
        assert err.value.kind == kind


@pytest.mark.parametrize("kind", [*KINDS, LOG_KIND])
@SETTINGS
@given(text=st.text(max_size=300))
def test_arbitrary_text_never_crashes(kind: str, text: str) -> None:
    _only_parse_errors(kind, text)


@pytest.mark.parametrize("kind", [*KINDS, LOG_KIND])
def test_empty_input_is_a_clear_error_or_an_empty_answer(kind: str) -> None:
    if kind in (LOG_KIND, "fence-history"):
        assert _read(kind, "") in ([], ())  # an empty log has no events; no fence history is an empty one
        return
    with pytest.raises(ParseError, match="empty input"):
        _read(kind, "")


def test_samples_directory_is_where_the_tests_say() -> None:
    if not SAMPLES.is_dir():
        pytest.skip(NO_SAMPLES)
    assert (SAMPLES / "INDEX.md").is_file()
