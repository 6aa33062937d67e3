"""Secrets at every exit of text: the dry-run plan, the CLI's lines, pytest reports, Allure files."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from halab.cli import main
from halab.report.redact import MASK, redact, redact_report, redact_tree
from halab.spec import LABS_DIR

SECRETS = ("Hunter2pw", "PrivComm1", "SnmpPriv9", "NvPass77", "ShortP55")


@pytest.mark.parametrize(("text", "secret"), [
    ('<fencedevice agent="fence_apc_snmp" community="PrivComm1" name="apc"/>', "PrivComm1"),
    ('<fencedevice agent="fence_apc_snmp" snmp_priv_passwd="SnmpPriv9" name="apc"/>', "SnmpPriv9"),
    ("fence_virsh -a 192.168.8.1 -l root -p ShortP55 -n RHCSvm01 -o reboot", "ShortP55"),
    ("fence_ipmilan -a 10.0.0.9 -l admin -p 'Short P55' -o status", "Short P55"),
    ("ipmitool -I lanplus -H 10.0.0.9 -U admin -P Hunter2pw power status", "Hunter2pw"),
    ('<nvpair id="f-passwd" name="passwd" value="NvPass77"/>', "NvPass77"),
    ('<nvpair value="NvPass77" id="f-passwd" name="passwd"/>', "NvPass77"),
    ("pcs stonith create f fence_apc_snmp community=PrivComm1", "PrivComm1"),
    ("snmpwalk -v2c -c PrivComm1 10.0.0.9", "PrivComm1"),
])
def test_every_password_form_is_masked(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert MASK in out


def test_a_portal_is_no_password() -> None:
    line = "iscsiadm -m discovery -t sendtargets -p 192.168.8.1"
    assert redact(line) == line


@pytest.fixture
def lab_with_passwords(tmp_path: Path) -> Path:
    """A copy of the seed lab whose cluster.conf carries passwords in every form the agents use."""
    folder = tmp_path / "labs" / "pw"
    shutil.copytree(LABS_DIR / "seed", folder)
    conf = folder / "cluster.conf"
    text = conf.read_text().replace(
        'identity_file="/root/.ssh/halab_fence" option="reboot"/>',
        'identity_file="/root/.ssh/halab_fence" option="reboot" passwd="Hunter2pw"/>\n'
        '        <fencedevice name="apc" agent="fence_apc_snmp" ipaddr="192.168.8.1" community="PrivComm1" '
        'snmp_priv_passwd="SnmpPriv9" login="apc" password="NvPass77"/>')
    assert "Hunter2pw" in text
    conf.write_text(text)
    return folder / "lab.toml"


def test_deploy_dry_run_shows_no_password(lab_with_passwords: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["deploy", "--lab", str(lab_with_passwords), "--stack", "rgmanager", "--dry-run"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "fencedevice" in out
    for secret in SECRETS:
        assert secret not in out + err


def test_check_config_shows_no_password(lab_with_passwords: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check-config", str(lab_with_passwords.parent / "cluster.conf"), "--lab", str(lab_with_passwords)])
    main(["check-config", str(lab_with_passwords.parent / "cluster.conf"), "--lab", str(lab_with_passwords),
          "--json"])
    out, err = capsys.readouterr()
    for secret in SECRETS:
        assert secret not in out + err


def test_pytest_report_traceback_and_captured_output(tmp_path: Path) -> None:
    report = SimpleNamespace(longrepr="AssertionError: fence_virsh -p Hunter2pw failed",
                             sections=[("Captured stdout call", "passwd=NvPass77\n")])
    redact_report(report, ["SnmpPriv9"])
    assert "Hunter2pw" not in report.longrepr
    assert "NvPass77" not in report.sections[0][1]


def test_allure_results_are_redacted_in_place(tmp_path: Path) -> None:
    (tmp_path / "x-result.json").write_text('{"statusDetails": {"message": "password=Hunter2pw"}}')
    (tmp_path / "y-attachment.txt").write_text("key SnmpPriv9 leaked")
    (tmp_path / "z-attachment.png").write_bytes(b"\x89PNG password=Hunter2pw")
    assert redact_tree(tmp_path, ["SnmpPriv9"]) == 2
    assert "Hunter2pw" not in (tmp_path / "x-result.json").read_text()
    assert "SnmpPriv9" not in (tmp_path / "y-attachment.txt").read_text()
    assert (tmp_path / "z-attachment.png").read_bytes().startswith(b"\x89PNG")


def test_cli_error_lines_are_redacted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "clustat.txt"
    bad.write_text("fence_virsh -p Hunter2pw password=NvPass77 garbage\n")
    assert main(["parse", "clustat", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert "Hunter2pw" not in out + err
    assert "NvPass77" not in out + err


def test_the_fence_key_is_never_world_readable_while_written(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """put_text creates the file with its final mode before one byte of the key is in it."""
    import os
    import stat
    import subprocess

    from halab.lab.host import Result
    from halab.lab.remote import Remote

    modes_while_writing: list[int] = []

    def run(self: Remote, cmd: str, timeout: float = 30.0, check: bool = False,
            connect_timeout: float = 5.0) -> Result:
        done = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=10, check=False)
        return Result(cmd, done.returncode, done.stdout, done.stderr)

    class Sftp:
        def get_channel(self) -> SimpleNamespace:
            return SimpleNamespace(settimeout=lambda _t: None)

        def open(self, path: str, mode: str) -> object:
            assert mode == "r+", "the file must exist already (created with its mode)"
            modes_while_writing.append(stat.S_IMODE(os.stat(path).st_mode))
            return open(path, mode)

        def posix_rename(self, src: str, dst: str) -> None:
            os.rename(src, dst)

    monkeypatch.setattr(Remote, "run", run)
    monkeypatch.setattr(Remote, "_connect", lambda self, _t: SimpleNamespace(sftp=Sftp, close=lambda: None))
    remote = Remote("node01", "127.0.0.1", "halab-unit", tmp_path / "key")
    target = tmp_path / "halab_fence"
    old = os.umask(0o022)
    try:
        remote.put_text("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n", str(target), mode=0o600)
    finally:
        os.umask(old)
    assert modes_while_writing == [0o600]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text().startswith("-----BEGIN")
