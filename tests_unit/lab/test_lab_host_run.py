"""host.run: every host command has a timeout, and each failure is one clear line of the right type."""

from __future__ import annotations

import time

import pytest

from halab.errors import HostError, LabError
from halab.lab.host import Result, need_tools, run


def test_run_returns_the_result() -> None:
    res = run(["sh", "-c", "echo out; echo err >&2"])
    assert res == Result("sh -c echo out; echo err >&2", 0, "out\n", "err\n")
    assert res.ok


def test_run_feeds_stdin() -> None:
    assert run(["cat"], input_text="abc\n").stdout == "abc\n"


def test_run_without_input_gets_no_stdin() -> None:
    """A command that reads stdin must not hang on the caller's terminal."""
    assert run(["cat"], timeout=5).stdout == ""


def test_timeout_is_one_line_lab_error() -> None:
    started = time.monotonic()
    with pytest.raises(LabError) as info:
        run(["sleep", "30"], timeout=0.3)
    assert time.monotonic() - started < 5
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("host: sleep 30 did not finish in")


def test_failure_is_one_line_with_the_stderr_tail() -> None:
    with pytest.raises(LabError) as info:
        run(["sh", "-c", "echo one >&2; echo two >&2; echo three >&2; exit 4"])
    msg = str(info.value)
    assert "\n" not in msg
    assert "failed (exit 4)" in msg
    assert msg.endswith("two | three")


def test_failure_not_checked_is_a_result() -> None:
    res = run(["sh", "-c", "exit 5"], check=False)
    assert (res.exit_code, res.ok) == (5, False)


def test_missing_tool_is_host_error() -> None:
    with pytest.raises(HostError) as info:
        run(["halab-no-such-tool", "--version"])
    msg = str(info.value)
    assert "\n" not in msg
    assert "halab-no-such-tool is not installed" in msg


def test_need_tools() -> None:
    need_tools("sh", "cat")
    with pytest.raises(HostError, match="halab-no-such-tool is not installed"):
        need_tools("sh", "halab-no-such-tool")
