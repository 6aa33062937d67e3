"""Redaction: keys and fence passwords never reach the report, and nothing else is changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_cases import FAKE_KEY

from halab.lab import paths as lab_paths
from halab.lab.paths import LabPaths
from halab.report.redact import MASK, env_secrets, key_secrets, redact, secrets_of_lab


def test_private_key_block_is_removed_and_its_surroundings_kept() -> None:
    text = f"before\n{FAKE_KEY}after\n"
    assert redact(text) == f"before\n{MASK}\nafter\n"


@pytest.mark.parametrize("kind", ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY",
                                  "ENCRYPTED PRIVATE KEY"])
def test_every_pem_private_key_kind(kind: str) -> None:
    text = f"x -----BEGIN {kind}-----\nMIIEabc\n-----END {kind}----- y"
    assert redact(text) == f"x {MASK} y"


def test_a_key_cut_before_its_end_line_is_removed_to_the_end() -> None:
    cut = FAKE_KEY.splitlines()[:2]
    assert redact("log:\n" + "\n".join(cut)) == f"log:\n{MASK}"


def test_public_key_is_not_a_secret() -> None:
    pub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZha2Vr halab-fence"
    assert redact(pub) == pub


def test_cluster_conf_passwd_attribute() -> None:
    line = ('<fencedevice name="kvmhost01" agent="fence_virsh" ipaddr="192.168.8.1" login="root" '
            'passwd="s3cr3t"/>')
    assert redact(line) == line.replace('"s3cr3t"', f'"{MASK}"')


def test_cib_nvpair_value() -> None:
    xml = '<nvpair id="f1-instance_attributes-password" name="password" value="p@ss w0rd"/>'
    assert redact(xml) == xml.replace("p@ss w0rd", MASK)


@pytest.mark.parametrize(("text", "expected"), [
    ("pcs stonith create f1 fence_virsh ip=10.0.0.1 password=hunter2 port=node01",
     f"pcs stonith create f1 fence_virsh ip=10.0.0.1 password={MASK} port=node01"),
    ("params passwd=hunter2 login=root", f"params passwd={MASK} login=root"),
    ("passwd: hunter2", f"passwd: {MASK}"),
    ("Password = 'hunter 2'", f"Password = '{MASK}'"),
    ('{"fence_password": "hunter2", "login": "root"}', f'{{"fence_password": "{MASK}", "login": "root"}}'),
    ("HALAB_FENCE_PASSWORD=hunter2 pytest", f"HALAB_FENCE_PASSWORD={MASK} pytest"),
    ("fence_virsh -a 10.0.0.1 --password hunter2 -n node01",
     f"fence_virsh -a 10.0.0.1 --password {MASK} -n node01"),
    ("fence_virsh --password=hunter2", f"fence_virsh --password={MASK}"),
    ("fence_ipmilan --passwd 'a b' -o off", f"fence_ipmilan --passwd '{MASK}' -o off"),
])
def test_password_forms(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_explicit_secrets_anywhere() -> None:
    text = "agent said: login with Xy7-secret-Q failed; retrying Xy7-secret-Q"
    assert redact(text, ["Xy7-secret-Q"]) == f"agent said: login with {MASK} failed; retrying {MASK}"


def test_a_multi_line_secret_is_masked_whole_and_by_its_lines() -> None:
    body_line = FAKE_KEY.splitlines()[1]
    text = f"whole:\n{FAKE_KEY}one line: {body_line}\n"
    out = redact(text, [FAKE_KEY])
    assert body_line not in out
    assert "BEGIN" not in out
    assert out.startswith("whole:\n")


def test_json_escaped_secret() -> None:
    secret = 'pa"ss\\word'
    text = json.dumps({"note": f"used {secret}"})
    assert secret not in json.loads(redact(text, [secret]))["note"]


def test_blank_secrets_are_ignored() -> None:
    assert redact("a b c", ["", "  ", "\n"]) == "a b c"


def test_nothing_else_is_touched() -> None:
    text = (
        "Stack: corosync\nCurrent DC: node01 (version 2.1.5) - partition with quorum\n"
        "  * fence-node02 (stonith:fence_virsh): Started node01\n"
        "  ip=192.168.8.1 username=root identity_file=/root/.ssh/halab_fence pcmk_delay_base=8s\n"
        "  password_script=/usr/local/bin/getpw passwd_script=/x\n"
        "sshd: PasswordAuthentication no; Failed password for invalid user bob\n"
        '<fencedevice name="kvmhost01" agent="fence_virsh" login="root" secure="1"/>\n'
        "mkdir -p /data01 && ssh -p 22 node01 'echo ok'\n"
    )
    assert redact(text, ["not-in-the-text"]) == text


def test_redaction_is_idempotent() -> None:
    text = f'passwd="x" --password y {FAKE_KEY} secret-token-1'
    once = redact(text, ["secret-token-1"])
    assert redact(once, ["secret-token-1"]) == once


def _fake_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LabPaths:
    monkeypatch.setattr(lab_paths, "STATE_ROOT", tmp_path)
    paths = LabPaths("t")
    keys = paths.ssh_key.parent
    keys.mkdir(parents=True)
    paths.ssh_key.write_text(FAKE_KEY.replace("ZmFrZ", "bGFiX"))
    paths.fence_key.write_text(FAKE_KEY)
    (keys / "fence_ed25519.pub").write_text("ssh-ed25519 AAAA public")
    return paths


def test_secrets_of_lab_reads_private_keys_and_password_variables(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _fake_lab(tmp_path, monkeypatch)
    env = {"HALAB_FENCE_PASSWORD": "pw-1", "HALAB_IPMI_PASSWD": "pw-2", "HALAB_LAB": "seed",
           "PASSWORD": "other"}
    secrets = secrets_of_lab(paths, env)
    assert len(secrets) == 4
    assert set(secrets[2:]) == {"pw-1", "pw-2"}
    assert all("public" not in s for s in secrets)
    text = f"{paths.fence_key.read_text()} then pw-1 and pw-2"
    assert redact(text, secrets) == f"{MASK}\n then {MASK} and {MASK}"


def test_missing_keys_dir_and_empty_variables_give_nothing(tmp_path: Path) -> None:
    assert key_secrets(tmp_path / "nope") == []
    assert env_secrets({"HALAB_FENCE_PASSWORD": " "}) == []
