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
