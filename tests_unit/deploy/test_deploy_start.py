"""Why a stack did not start: the telling lines of its unit log, for a one-line error."""

from __future__ import annotations

from halab.deploy.start import telling_lines


def test_the_first_error_and_the_last_word_without_systemds_bookkeeping() -> None:
    log = ("2026-12-03T08:57:01+0000 node01 dlm_controld[700]: daemon cpg_initialize error 2\n"
           "2026-12-03T08:57:02+0000 node01 fenced[690]: daemon cpg_leave error 9\n"
           "2026-12-03T08:57:12+0000 node01 halab-cman[772]: fence_tool: fenced not running, no lockfile\n"
           "2026-12-03T08:57:12+0000 node01 systemd[1]: cman.service: Failed with result 'exit-code'.\n")
    assert telling_lines(log) == ("dlm_controld: daemon cpg_initialize error 2 | "
                                  "halab-cman: fence_tool: fenced not running, no lockfile")


def test_without_an_error_line_the_last_word_alone() -> None:
    log = ("2026-12-03T08:57:01+0000 node01 halab-cman[529]: halab-cman: waiting for quorum (timeout 300 s)\n"
           "2026-12-03T08:57:02+0000 node01 systemd[1]: cman.service: Consumed 16.183s CPU time.\n")
    assert telling_lines(log) == "halab-cman: halab-cman: waiting for quorum (timeout 300 s)"


def test_a_last_line_that_is_the_error_is_said_once() -> None:
    assert telling_lines("Dec  3 08:57:01 node01 cman: Timed-out waiting for cluster, error\n") == \
        "Dec  3 08:57:01 node01 cman: Timed-out waiting for cluster, error"


def test_nothing_but_systemd_says_nothing() -> None:
    assert telling_lines("-- No entries --\n") == ""
    assert telling_lines("") == ""
