"""The hostile-input battery: every CLI command and every input kind against empty, binary, huge,
deeply nested, entity tricks, wrong encoding, path traversal and shell metacharacters.

Each must end as one line on stderr ("halab CMD: ..."), exit 2, no traceback, nothing written
outside halab's own folders (the working folder and HOME stay as they were), no secret echoed.
In-process calls of the CLI's main (a traceback would be an error of the test itself), plus a few
real processes for stdin and the exit code as the shell sees it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from halab.cli import COMMANDS, build_parser, main
from halab.spec import LABS_DIR
from halab.stacks.kinds import KINDS, LOG_KIND

SECRET = "Hunter2pw"
LIB = Path(__file__).resolve().parents[2] / "lib"
XML_KINDS = [k for k in KINDS if "xml" in k] + ["cluster.conf"]

# --- hostile file contents ----------------------------------------------------------------------

BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
                            for i in range(1, 10))
                  + ']>\n<cluster name="&lol9;" config_version="1"/>\n')
XXE = ('<?xml version="1.0"?>\n<!DOCTYPE cluster [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       '<cluster name="&xxe;" config_version="1"><clusternodes/></cluster>\n')
XXE_NET = ('<?xml version="1.0"?>\n<!DOCTYPE cluster SYSTEM "http://192.0.2.1/evil.dtd">\n'
           '<cluster name="x" config_version="1"/>\n')

CONTENTS: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "binary": lambda: bytes(range(256)) * 64,
    "huge": lambda: (f"passwd={SECRET} ".encode() + b"x" * 5_000_000 + b"\n") * 1,
    "huge-lines": lambda: b"garbage line\n" * 200_000,
    "deep-xml": lambda: b"<cluster>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</cluster>",
    "billion-laughs": BILLION_LAUGHS.encode,
    "xxe-file": XXE.encode,
    "xxe-network": XXE_NET.encode,
    "utf16": lambda: f"<cluster name='x' passwd='{SECRET}'/>\n".encode("utf-16"),
    "latin1-garbage": lambda: f"\xe9\xff passwd={SECRET} \xfe\n".encode("latin-1") * 10,
    "shell-metachars": f"$(touch /tmp/halab-pwned) `reboot`; | & > /etc/x passwd={SECRET}\n".encode,
    "secret-in-bad-line": f"fence_virsh -p {SECRET} -a 10.0.0.1 <- not an output\n".encode,
}
PARSE_KINDS = [*KINDS, LOG_KIND]
# Where empty is a real answer (tests_unit/stacks/test_garbled.py): stonith_admin --history prints
# nothing when there is no history, and an empty log excerpt has no events.
VALID_EMPTY = {"fence-history", LOG_KIND}


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder and HOME of its own: what the CLI writes anywhere here is caught."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)

    def reached(*_a: object, **_k: object) -> None:
        raise AssertionError("a hostile input reached the lab: it must stop at the spec")

    for name in ("up", "down", "attach"):  # a live lab on this host is never touched by the battery
        monkeypatch.setattr(f"halab.lab.lab.{name}", reached)
    monkeypatch.setattr("halab.cli.lab.ensure_stack_image", reached)
    return tmp_path


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def state_snapshot() -> set[str]:
    state = Path("/var/lib/halab/labs")
    return {p.name for p in state.iterdir()} if state.is_dir() else set()


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, str, str]:
    before, state_before = snapshot(root), state_snapshot()
    code = main(argv)
    out, err = capsys.readouterr()
    assert snapshot(root) == before, f"{argv}: wrote files {snapshot(root) - before}"
    assert state_snapshot() <= state_before | set(), f"{argv}: created lab state"
    assert not Path("/tmp/halab-pwned").exists()
    return code, out, err


def assert_one_line_error(argv: list[str], code: int, out: str, err: str) -> None:
    cmd = argv[0]
    assert code == 2, f"{argv}: exit {code}, stderr {err[:300]!r}"
    assert err.count("\n") == 1, f"{argv}: not one line: {err[:600]!r}"
    assert err.startswith(f"halab {cmd}: "), err[:200]
    assert "Traceback" not in out + err
    assert len(err) < 1000, f"{argv}: {len(err)} chars on stderr"
    assert SECRET not in out + err
    assert "root:x:0:0" not in out + err, "an external entity was resolved"


def write(root: Path, name: str, data: bytes) -> Path:
    path = root / "inputs" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


# --- every command is covered ---------------------------------------------------------------------


def test_the_battery_covers_every_command() -> None:
    help_text = build_parser().format_help()
    listed = set(help_text.split("{", 1)[1].split("}", 1)[0].split(","))
    assert listed == set(COMMANDS)
    assert set(COMMANDS) <= set(LAB_COMMANDS) | {"check-config", "parse", "expect", "deploy", "judge"}


# --- parse: every kind x every hostile content ------------------------------------------------------


@pytest.mark.parametrize("content", list(CONTENTS))
@pytest.mark.parametrize("kind", PARSE_KINDS)
def test_parse_every_kind_against_hostile_files(kind: str, content: str, sandbox: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write(sandbox, f"{kind}.{content}", CONTENTS[content]())
    argv = ["parse", kind, str(path)]
    code, out, err = run_cli(argv, capsys, sandbox)
    if content == "empty" and kind in VALID_EMPTY:
        assert (code, err) == (0, ""), err
        return
    assert_one_line_error(argv, code, out, err)


@pytest.mark.parametrize("name", ["/dev/zero", "/etc", "../../../../etc/shadow-nonexistent", "$(reboot)",
                                  "/proc/self/mem"])
def test_parse_special_paths(name: str, sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["parse", "clustat", name]
    code, out, err = run_cli(argv, capsys, sandbox)
    assert_one_line_error(argv, code, out, err)


# --- the commands that read one file: check-config (cluster.conf), judge (a history) --------------------

FILE_COMMANDS = {"check-config": "cluster.conf", "judge": "history"}
SPECIAL_PATHS = ["/dev/zero", "/etc", "../../../../nonexistent/cluster.conf", "`reboot`", "$(reboot)", "/proc/self/mem"]


@pytest.mark.parametrize("content", list(CONTENTS))
@pytest.mark.parametrize("command", list(FILE_COMMANDS))
def test_file_commands_against_hostile_files(command: str, content: str, sandbox: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = write(sandbox, f"{FILE_COMMANDS[command]}.{content}", CONTENTS[content]())
    argv = [command, str(path)]
    code, out, err = run_cli(argv, capsys, sandbox)
    assert_one_line_error(argv, code, out, err)


@pytest.mark.parametrize("name", SPECIAL_PATHS)
@pytest.mark.parametrize("command", list(FILE_COMMANDS))
def test_file_commands_special_paths(command: str, name: str, sandbox: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    argv = [command, name]
    code, out, err = run_cli(argv, capsys, sandbox)
    assert_one_line_error(argv, code, out, err)


def test_check_config_hostile_schema(sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = write(sandbox, "schema.rng", XXE.encode())
    argv = ["check-config", str(LABS_DIR / "seed" / "cluster.conf"), "--schema", str(schema)]
    code, out, err = run_cli(argv, capsys, sandbox)
    assert_one_line_error(argv, code, out, err)


# --- lab.toml: every command that takes --lab ----------------------------------------------------------

LAB_COMMANDS = {"up": [], "down": [], "status": [], "ssh": ["node01", "true"], "image": [],
                "expect": ["--fault", "suspend", "--target", "node01"], "deploy": ["--dry-run"],
                "check-config": [str(LABS_DIR / "seed" / "cluster.conf")]}
TOML_EDITS: dict[str, Callable[[str], bytes]] = {
    "empty": lambda t: b"",
    "binary": lambda t: bytes(range(256)) * 8,
    "huge": lambda t: t.encode() + b"#" + b"x" * (2 * 2**20) + b"\n",
    "deep": lambda t: b"x = " + b"[" * 50_000 + b"]" * 50_000 + b"\n",
    "utf16": lambda t: t.encode("utf-16"),
    "latin1": lambda t: t.replace("# The seed lab", "# The s\u00e9ed lab").encode("latin-1"),
    "name-traversal": lambda t: t.replace('name = "seed"', 'name = "../../../tmp/halab-evil"', 1).encode(),
    "backing-absolute": lambda t: t.replace('backing = "qdisk01.img"', 'backing = "/etc/shadow"').encode(),
    "domain-shell": lambda t: t.replace('domain = "RHCSvm01"', 'domain = "$(touch /tmp/halab-pwned)"').encode(),
    "domain-quote": lambda t: t.replace('domain = "RHCSvm01"', "domain = 'a\" ,command=\"sh'").encode(),
    "typo": lambda t: t.replace("token_ms = 20000", "tokenms = 20000").encode(),
    "addresses-list": lambda t: t.replace(
        '[nodes.addresses]\nservice = { address = "192.168.7.201", hostname = "node01" }',
        'addresses = ["192.168.7.201"]\n[nodes.more]\nservice = { address = "192.168.7.201", hostname = "node01" }',
    ).encode(),
    "nan": lambda t: t.replace("poll_interval_s = 1.0", "poll_interval_s = nan", 1).encode(),
    "negative": lambda t: t.replace("token_ms = 20000", "token_ms = -20000").encode(),
    "cluster-conf-traversal": lambda t: t.replace('cluster_conf = "cluster.conf"',
                                                  'cluster_conf = "../../../../../../etc/passwd"').encode(),
}


@pytest.mark.parametrize("edit", list(TOML_EDITS))
@pytest.mark.parametrize("command", list(LAB_COMMANDS))
def test_every_lab_command_against_hostile_specs(command: str, edit: str, sandbox: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = sandbox / "labs" / "evil"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(LABS_DIR / "seed" / "cluster.conf", folder / "cluster.conf")
    (folder / "lab.toml").write_bytes(TOML_EDITS[edit]((LABS_DIR / "seed" / "lab.toml").read_text()))
    argv = [command, "--lab", str(folder / "lab.toml"), *LAB_COMMANDS[command]]
    code, out, err = run_cli(argv, capsys, sandbox)
    assert_one_line_error(argv, code, out, err)
    assert not Path("/tmp/halab-evil").exists()


@pytest.mark.parametrize("command", list(LAB_COMMANDS))
@pytest.mark.parametrize("lab", ["/dev/zero", "../../../../etc", "$(reboot)", "seed/../../../etc/passwd"])
def test_every_lab_command_against_hostile_lab_names(command: str, lab: str, sandbox: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    argv = [command, "--lab", lab, *LAB_COMMANDS[command]]
    code, out, err = run_cli(argv, capsys, sandbox)
    assert_one_line_error(argv, code, out, err)


# --- expect: hostile arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["--fault", "suspend", "--target", "$(reboot)"],
    ["--fault", "suspend", "--target", "node01", "--timing", "../../etc/passwd"],
    ["--fault", "suspend", "--target", "node01", "--owner", "x=;reboot"],
    ["--fault", "suspend", "--target", "A" * 100_000],
])
def test_expect_against_hostile_arguments(args: list[str], sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["expect", *args]
    code, out, err = run_cli(argv, capsys, sandbox)
    assert_one_line_error(argv, code, out, err)


# --- real processes: stdin, exit status as the shell sees it -------------------------------------------


@pytest.mark.parametrize("content", ["binary", "huge", "billion-laughs", "empty"])
def test_parse_stdin_in_a_real_process(content: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(LIB), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "halab.cli", "parse", "crm-mon-xml", "-"],
                          input=CONTENTS[content](), capture_output=True, timeout=60, env=env, cwd=tmp_path,
                          check=False)
    err = done.stderr.decode(errors="replace")
    assert done.returncode == 2, err[:300]
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert SECRET not in err
    assert list(tmp_path.iterdir()) == []


def test_dev_zero_on_stdin_is_bounded(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(LIB)}
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run([sys.executable, "-m", "halab.cli", "parse", "syslog", "-"], stdin=zero,
                              capture_output=True, timeout=60, env=env, check=False)
    err = done.stderr.decode(errors="replace")
    assert done.returncode == 2
    assert "larger than" in err
    assert err.count("\n") == 1


# --- the CIB and corosync.conf inputs ----------------------------------------------------------------------


@pytest.mark.parametrize("content", list(CONTENTS))
@pytest.mark.parametrize("how", ["expect --cib", "check-config --corosync", "check-config cib"])
def test_cib_and_corosync_inputs_against_hostile_files(how: str, content: str, sandbox: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = write(sandbox, f"input.{content}", CONTENTS[content]())
    argv = {
        "expect --cib": ["expect", "--fault", "suspend", "--target", "node01", "--cib", str(path)],
        "check-config --corosync": ["check-config", str(LABS_DIR / "seed" / "cib.xml"), "--corosync", str(path)],
        "check-config cib": ["check-config", str(path.with_name("cib.xml"))],
    }[how]
    if how == "check-config cib":
        path.rename(path.with_name("cib.xml"))
    code, out, err = run_cli(argv, capsys, sandbox)
    assert_one_line_error(argv, code, out, err)
