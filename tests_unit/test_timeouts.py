"""Every subprocess, remote, libvirt and lock call has an effective timeout: a walk of the code.

Why a walk and not a review: one forgotten call (a flock, an exec start, a libvirt open on a hung
libvirtd) is how a run hangs for a quarter of an hour. The rules below fail on any call site in
the harness's code (lib, fixtures, bench, the live suites) that bypasses halab.proc's bounded
wrappers or calls a blocking primitive without a bound.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("lib", "fixtures", "bench", "tests_failover", "tests_lab", "conftest.py")
SUBPROCESS_CALLS = {"run", "call", "check_call", "check_output", "Popen", "getoutput", "getstatusoutput"}
# Where a raw subprocess call is the bounded wrapper itself, or a long-running daemon started under
# Popen whose readiness wait is bounded (daemons.start) — nowhere else.
# The RHCS build streams its progress from a Popen whose process group a timer kills at the
# build's bound; the starved-host proof's stress-ng (observe/hostload.Starvation) ends itself
# (--timeout) and its process group is killed by stop(), which the test calls in a finally.
SUBPROCESS_ALLOWED = {"lib/halab/proc.py": {"Popen"}, "lib/halab/lab/daemons.py": {"Popen"},
                      "lib/halab/lab/rhcs.py": {"Popen"}, "lib/halab/observe/hostload.py": {"Popen"}}
LIBVIRT_OPEN_ALLOWED = {"lib/halab/lab/domains.py"}


def sources() -> Iterator[Path]:
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(path.rglob("*.py"))


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def _kw(call: ast.Call, name: str) -> bool:
    return any(k.arg == name for k in call.keywords)


def violations(path: Path) -> list[str]:
    rel = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "subprocess":
            names = {a.name for a in node.names} & SUBPROCESS_CALLS
            if names - SUBPROCESS_ALLOWED.get(rel, set()):
                out.append(f"{rel}:{node.lineno}: from subprocess import {', '.join(sorted(names))}: "
                           "use halab.proc.run (an alias would hide the call from this walk)")
            continue
        if not isinstance(node, ast.Call):
            continue
        why = _rule(rel, node)
        if why:
            out.append(f"{rel}:{node.lineno}: {why}")
    return out


def _rule(rel: str, call: ast.Call) -> str | None:
    name = _dotted(call.func)
    attr = call.func.attr if isinstance(call.func, ast.Attribute) else name
    if any(k.arg in ("timeout", "timeout_s", "within_s") and isinstance(k.value, ast.Constant) and k.value.value is None
           for k in call.keywords):
        return f"{name}(timeout=None): an explicit None is no timeout"
    if name.startswith("subprocess.") and attr in SUBPROCESS_CALLS and attr not in SUBPROCESS_ALLOWED.get(rel, ()):
        return f"{name}: use halab.proc.run (timeout kills the process group) or halab.lab.host.run"
    if name in ("os.system", "os.popen"):
        return f"{name} has no timeout: use halab.proc.run"
    if name == "fcntl.flock" and len(call.args) == 2 and "LOCK_NB" not in ast.unparse(call.args[1]) \
            and "LOCK_UN" not in ast.unparse(call.args[1]):
        return "blocking flock: use halab.proc.file_lock (bounded, says what it waits for)"
    if name.startswith("libvirt.open") and rel not in LIBVIRT_OPEN_ALLOWED:
        return f"{name}: use halab.lab.domains.open_connection (bounded, keepalive)"
    non_blocking = any(k.arg == "blocking" and isinstance(k.value, ast.Constant) and k.value.value is False
                       for k in call.keywords)
    if attr == "acquire" and not call.args and not _kw(call, "timeout") and not non_blocking:
        return "lock acquired without a timeout"
    if attr in ("join", "wait", "communicate", "result") and not call.args and not call.keywords:
        return f".{attr}() without a timeout"
    if attr == "create_connection" and len(call.args) < 2 and not _kw(call, "timeout"):
        return "socket.create_connection without a timeout"
    if name.endswith("urlopen") and not _kw(call, "timeout"):
        return "urlopen without a timeout"
    if name == "Connection" and not _kw(call, "config"):
        return "fabric Connection without config= (it would read the host's ssh_config)"
    return None


def test_no_call_without_a_timeout() -> None:
    found = [v for path in sources() for v in violations(path)]
    assert not found, "calls without an effective timeout:\n" + "\n".join(found)


@pytest.mark.parametrize(("code", "rule"), [
    ("import subprocess\nsubprocess.run(['x'], timeout=3)", "halab.proc.run"),
    ("import subprocess\nsubprocess.check_output(['x'])", "halab.proc.run"),
    ("import os\nos.system('x')", "no timeout"),
    ("import fcntl\nfcntl.flock(f, fcntl.LOCK_EX)", "blocking flock"),
    ("import libvirt\nlibvirt.open('qemu:///system')", "open_connection"),
    ("lock.acquire()", "without a timeout"),
    ("thread.join()", "without a timeout"),
    ("proc.communicate()", "without a timeout"),
    ("event.wait()", "without a timeout"),
    ("import socket\nsocket.create_connection(('a', 1))", "create_connection"),
    ("from fabric import Connection\nConnection('h')", "ssh_config"),
    ("from subprocess import run as go\ngo(['x'])", "alias would hide"),
    ("remote.run('x', timeout=None)", "explicit None"),
])
def test_each_rule_fails_on_a_call_without_a_bound(tmp_path: Path, code: str, rule: str) -> None:
    """The walk is a check like any other: each rule has a case where it fails."""
    probe = ROOT / "lib" / "halab" / "_timeout_probe_tmp.py"
    probe.write_text(code + "\n")
    try:
        found = violations(probe)
    finally:
        probe.unlink()
    assert found
    assert rule in found[0], found


@pytest.mark.parametrize("code", [
    "lock.acquire(timeout=5)",
    "lock.acquire(blocking=False)",
    "thread.join(10)",
    "', '.join(names)",
    "import fcntl\nfcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)",
    "import socket\nsocket.create_connection(('a', 1), timeout=3)",
])
def test_bounded_calls_pass(code: str) -> None:
    probe = ROOT / "lib" / "halab" / "_timeout_probe_ok_tmp.py"
    probe.write_text(code + "\n")
    try:
        assert violations(probe) == []
    finally:
        probe.unlink()
