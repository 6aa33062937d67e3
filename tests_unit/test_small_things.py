"""Small things a user trips on: `halab ssh` runs through the remote shell; progress lines read as text."""

from __future__ import annotations

import subprocess

from halab.cli.lab import remote_command
from halab.oracle.model import place_text


def test_ssh_command_goes_to_the_remote_shell_like_ssh() -> None:
    assert remote_command(["crm_mon -1 | tail"]) == "crm_mon -1 | tail"
    assert remote_command(["ls", "-l", "/tmp"]) == "ls -l /tmp"
    assert remote_command([]) == "hostname; uptime; ip -br addr"
    # what the node's shell does with it: the pipe works (run here with the same sh)
    out = subprocess.run(["sh", "-c", remote_command(["printf 'a\\nb\\nc\\n' | tail -1"])],
                         capture_output=True, text=True, timeout=10, check=True).stdout
    assert out == "c\n"


def test_places_print_as_words_not_tuples() -> None:
    assert place_text(("node01", "node03")) == "node01 or node03"
    assert place_text("node02") == "node02"
    assert place_text(None) == "unknown"
    assert "(" not in place_text(("node01",))


def test_a_cluster_status_in_an_error_is_one_readable_line() -> None:
    """Seen in the chaos run: a deploy wait's error printed ClusterStatus(quorate=True, members=(...))."""
    from halab.stacks.types import ClusterStatus, Member, Service

    st = ClusterStatus(True, (Member("node01", True), Member("node02", False)),
                       (Service("service01", "stopped", None), Service("db", "started", "node01")))
    assert st.brief() == "quorate; online node01, offline node02; service01 stopped; db started on node01"
    down = ClusterStatus(None, (), (), running=False, error="rgmanager is not running")
    assert down.brief() == "stack not running (rgmanager is not running)"


def test_a_harness_error_in_a_test_is_reported_as_its_one_line() -> None:
    """Seen in the chaos run: a deploy that timed out printed a page of traceback through the harness."""
    from types import SimpleNamespace

    from halab.errors import LabError
    from halab.report.redact import shorten_report

    err = LabError("service01 started on node01 not reached within 240 s (last: quorate)", "node01")
    report = SimpleNamespace(longrepr="Traceback ...\n    def wait_until(...)\n...")
    shorten_report(report, SimpleNamespace(value=err), full_trace=False)
    assert report.longrepr == "LabError: node01: service01 started on node01 not reached within 240 s (last: quorate)"
    kept = SimpleNamespace(longrepr="Traceback ...")
    shorten_report(kept, SimpleNamespace(value=err), full_trace=True)
    shorten_report(kept, SimpleNamespace(value=AssertionError("verdict")), full_trace=False)
    assert kept.longrepr == "Traceback ..."


def test_a_lab_daemon_that_died_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Seen in the chaos run: tgtd killed under a run surfaced only as 'service01 ... not reached'."""
    import os
    from types import SimpleNamespace

    from halab.errors import LabError
    from halab.lab import daemons
    from halab.report.redact import shorten_report

    me = daemons.identity_of(os.getpid())
    assert me is not None
    (tmp_path / "libvirtd.pid").write_text(me.to_json())
    dead = daemons.Identity(me.pid, me.start + 1, me.boot, ())  # same pid, another process
    (tmp_path / "tgtd.pid").write_text(dead.to_json())
    assert daemons.gone(tmp_path) == ["tgtd"]
    assert daemons.gone(tmp_path / "absent") == []
    report = SimpleNamespace(longrepr="")
    shorten_report(report, SimpleNamespace(value=LabError("not reached", "node01")), False, ["tgtd"])
    assert report.longrepr == "LabError: node01: not reached [lab daemon(s) no longer running: tgtd]"
