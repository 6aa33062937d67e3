"""halab-fence-shell, the only thing the fence key may run: fence_virsh's dialogue, nothing more.

The shell runs for real as a subprocess; `virsh` on its PATH is a fake in tmp_path that prints its
arguments (and a domain list for `list`), so no libvirt is reached.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from halab.observe.logs import fence_path

FENCE_SHELL = Path(__file__).resolve().parents[2] / "lib" / "halab" / "data" / "host" / "halab-fence-shell"
PROMPT = "[EXPECT]# "
FAKE_VIRSH = """#!/bin/sh
if [ "$3" = list ]; then
    echo " Id   Name       State"
    echo "---------------------------"
    echo " 1    RHCSvm01   running"
    echo " 2    OTHER      running"
    echo " -    RHCSvm02   shut off"
    exit 0
fi
echo "fake-virsh $*"
"""


@pytest.fixture
def fake_path(tmp_path: Path) -> str:
    virsh = tmp_path / "virsh"
    virsh.write_text(FAKE_VIRSH)
    virsh.chmod(0o755)
    return f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}"


def session(fake_path: str, *lines: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(FENCE_SHELL), "RHCSvm01", "RHCSvm02"],
                          input="".join(f"{line}\n" for line in lines), capture_output=True, text=True,
                          timeout=30, env={**os.environ, "PATH": fake_path}, check=False)


def answers(out: str) -> list[str]:
    """What came between prompts: [before the first prompt, answer 1, answer 2, ...]."""
    return out.split(PROMPT)


def test_prompt_first_then_quit_exits_0(fake_path: str) -> None:
    res = session(fake_path, "quit")
    assert res.returncode == 0
    assert res.stdout == PROMPT
    assert res.stderr == ""


@pytest.mark.parametrize("line", ["virsh domstate RHCSvm01", "sudo virsh destroy RHCSvm02",
                                  "virsh start RHCSvm01"])
def test_own_domains_are_allowed(fake_path: str, line: str) -> None:
    res = session(fake_path, line, "quit")
    assert res.returncode == 0
    verb, dom = line.split()[-2:]
    assert answers(res.stdout) == ["", f"fake-virsh -c qemu:///system {verb} {dom}\n", ""]


@pytest.mark.parametrize("line", ["virsh destroy OTHER", "virsh domstate RHCSvm03", "virsh destroy",
                                  "virsh destroy $(id)", "virsh start ../RHCSvm01"])
def test_other_domains_are_refused(fake_path: str, line: str) -> None:
    res = session(fake_path, line, "quit")
    out = answers(res.stdout)
    assert out[1].startswith("error: failed to get domain")
    assert "fake-virsh" not in res.stdout


@pytest.mark.parametrize("line", ["rm -rf /", "virsh undefine RHCSvm01", "virsh destroy RHCSvm01; rm -rf /",
                                  "virsh destroy RHCSvm01 && id", "virsh reset RHCSvm01", "bash", "sh -c id",
                                  "virsh -c qemu:///system destroy RHCSvm01"])
def test_anything_else_is_refused(fake_path: str, line: str) -> None:
    res = session(fake_path, line, "quit")
    assert res.returncode == 0
    assert answers(res.stdout) == ["", "error: halab fence shell: command not allowed\n", ""]
    assert "fake-virsh" not in res.stdout


def test_list_shows_only_this_labs_domains(fake_path: str) -> None:
    res = session(fake_path, "virsh list --all", "quit")
    listing = answers(res.stdout)[1]
    assert "RHCSvm01" in listing
    assert "RHCSvm02" in listing
    assert "OTHER" not in listing
    assert listing.lstrip().startswith("Id")


def test_a_dialogue_like_fence_virsh(fake_path: str) -> None:
    """Status, off, status, on: one prompt per answer, the session ends at EOF with exit 0."""
    res = session(fake_path, "virsh domstate RHCSvm02", "virsh destroy RHCSvm02", "", "virsh start RHCSvm02")
    assert res.returncode == 0
    out = answers(res.stdout)
    assert out == ["", "fake-virsh -c qemu:///system domstate RHCSvm02\n",
                   "fake-virsh -c qemu:///system destroy RHCSvm02\n", "",
                   "fake-virsh -c qemu:///system start RHCSvm02\n", ""]


def test_with_a_log_every_command_is_one_line_and_the_answer_is_unchanged(fake_path: str, tmp_path: Path) -> None:
    """fenced says only "error from agent": the host's side of the fence is kept line by line."""
    log = tmp_path / "fence-shell.log"
    res = subprocess.run([sys.executable, str(FENCE_SHELL), "--log", str(log), "RHCSvm01", "RHCSvm02"],
                         input="virsh list --all\nvirsh destroy RHCSvm01\nvirsh destroy OTHER\nquit\n",
                         capture_output=True, text=True, timeout=30, check=False,
                         env={**os.environ, "PATH": fake_path, "SSH_CLIENT": "192.168.8.202 40000 22"})
    assert res.returncode == 0
    assert answers(res.stdout)[2] == "fake-virsh -c qemu:///system destroy RHCSvm01\n"
    lines = log.read_text().splitlines()
    assert len(lines) == 3
    assert " 192.168.8.202 'virsh list --all' rc=0 " in lines[0]
    assert " 192.168.8.202 'virsh destroy RHCSvm01' rc=0 " in lines[1]
    assert "'fake-virsh -c qemu:///system destroy RHCSvm01'" in lines[1]
    assert "rc=refused" in lines[2]
    assert "--log" not in res.stdout


def test_an_unwritable_log_does_not_fail_the_fence(fake_path: str, tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, str(FENCE_SHELL), "--log", str(tmp_path / "no" / "dir.log"), "RHCSvm01"],
                         input="virsh destroy RHCSvm01\n", capture_output=True, text=True, timeout=30,
                         env={**os.environ, "PATH": fake_path}, check=False)
    assert res.returncode == 0
    assert answers(res.stdout)[1] == "fake-virsh -c qemu:///system destroy RHCSvm01\n"


def test_the_run_reads_the_fence_path_log_of_its_own_window(fake_path: str, tmp_path: Path) -> None:
    log = tmp_path / "fence-shell.log"
    before = time.time() - 1
    subprocess.run([sys.executable, str(FENCE_SHELL), "--log", str(log), "RHCSvm01"], input="virsh destroy RHCSvm01\n",
                   capture_output=True, text=True, timeout=30, env={**os.environ, "PATH": fake_path}, check=False)
    assert "'virsh destroy RHCSvm01' rc=0" in fence_path(log, before)
    assert fence_path(log, time.time() + 5) == ""
    assert fence_path(tmp_path / "absent.log", before) == ""
