"""The rgmanager deploy plan of the seed lab, and `halab deploy --dry-run` that prints it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from halab.cli import main
from halab.deploy.rgmanager import CLUSTER_CONF, RICCI_PASSWORD_ENV, Plan, render, rgmanager_plan
from halab.errors import ConfigError
from halab.spec import load_spec

LUN = "/dev/disk/by-path/ip-192.168.8.1:3260-iscsi-iqn.2011-08.com.example.yourhost:tgt01-lun-{}"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return rgmanager_plan(load_spec("seed").with_stack("rgmanager"), "rhel6")


def _index(cmds: tuple[str, ...], pattern: str) -> int:
    return next(i for i, c in enumerate(cmds) if re.search(pattern, c))


def test_every_node_gets_iscsi_ricci_no_boot_start_and_the_same_cluster_conf(plan: Plan) -> None:
    conf = load_spec("seed").cluster_conf_path().read_text(encoding="utf-8")
    for node in ("node01", "node02"):
        cmds = plan.commands(node)
        assert "iscsiadm -m discovery -t sendtargets -p 192.168.8.1:3260" in cmds
        assert (
            "iscsiadm -m node -T iqn.2011-08.com.example.yourhost:tgt01 -p 192.168.8.1:3260 --login" in cmds
        )
        assert "chkconfig cman off && chkconfig rgmanager off" in cmds
        assert "chkconfig ricci on && service ricci start" in cmds
        assert any("passwd --stdin ricci" in c for c in cmds)
        assert "install -m 0640 -D /dev/stdin /etc/cluster/cluster.conf" in cmds
    writes = [
        s
        for p in plan.phases
        for s in p.steps
        if s.command.startswith("install") and s.command.endswith("/etc/cluster/cluster.conf")
    ]
    assert len(writes) == 1  # one step, run on every node of its phase
    assert writes[0].stdin is not None
    assert writes[0].stdin.rstrip("\n") == conf.rstrip("\n")


def test_replacement_timeout_is_set_before_discovery(plan: Plan) -> None:
    cmds = plan.commands("node01")
    assert _index(cmds, r"replacement_timeout = 15") < _index(cmds, r"iscsiadm -m discovery")


def test_quorum_disk_is_written_once_on_the_first_node_by_path(plan: Plan) -> None:
    mkqdisk = [(p.nodes, s.command) for p in plan.phases for s in p.steps if "mkqdisk -c" in s.command]
    assert mkqdisk == [(("node01",), f"echo y | mkqdisk -c {LUN.format(1)} -l qdisk01")]
    assert f"mkfs.ext4 -q -F {LUN.format(2)}" in plan.commands("node01")
    assert not any("mkfs" in c or "mkqdisk -c" in c for c in plan.commands("node02"))
    assert not any(re.search(r"/dev/sd[a-z]\b", c) for p in plan.phases for s in p.steps for c in [s.command])


def test_cluster_starts_on_all_nodes_together_then_the_service_on_its_preferred_node(plan: Plan) -> None:
    names = [p.name for p in plan.phases]
    start = next(p for p in plan.phases if p.together)
    assert start.nodes == ("node01", "node02")
    assert [s.command for s in start.steps] == ["service cman start && service rgmanager start && sync"]
    enable = plan.phases[-1]
    assert [s.command for s in enable.steps] == ["clusvcadm -e service01 -m node01h"]
    assert names.index(start.name) < names.index("wait for quorum") < names.index(enable.name)
    assert names.index("initialise shared storage (once)") < names.index(start.name)


def test_ricci_password_is_a_reference_never_a_value(plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RICCI_PASSWORD_ENV, "s3cret-value")
    text = render(rgmanager_plan(load_spec("seed").with_stack("rgmanager"), "rhel6"))
    assert "s3cret-value" not in text
    assert f"${{{RICCI_PASSWORD_ENV}:?" in text
    assert plan.env() == (RICCI_PASSWORD_ENV,)
    assert "[the lab's fence private key, not shown]" in text


def test_render_prints_per_node_commands_and_the_sdx_warning(plan: Plan) -> None:
    text = render(plan)
    assert "-- node01 (192.168.8.201) --" in text
    assert "-- node02 (192.168.8.202) --" in text
    assert "-- node01 (192.168.8.201) & node02 (192.168.8.202) at once --" in text
    assert "<<'HALAB_EOF'" in text
    assert "# WARNING: cluster.conf fs[data_fs] uses /dev/sdb" in text


def test_cluster_conf_passwords_are_redacted_when_printed(tmp_path: Path) -> None:
    lab = _copy_seed(tmp_path)
    conf = lab / "cluster.conf"
    conf.write_text(conf.read_text().replace('secure="1"', 'secure="1" passwd="hunter2"'))
    text = render(rgmanager_plan(load_spec(lab / "lab.toml").with_stack("rgmanager"), "rhel6"))
    assert "hunter2" not in text
    assert 'passwd="(redacted)"' in text


def test_quorum_label_that_differs_from_the_spec_is_refused(tmp_path: Path) -> None:
    lab = _copy_seed(tmp_path)
    conf = lab / "cluster.conf"
    conf.write_text(conf.read_text().replace('label="qdisk01"', 'label="other"'))
    with pytest.raises(ConfigError, match="quorumd label 'other' differs"):
        rgmanager_plan(load_spec(lab / "lab.toml").with_stack("rgmanager"))


def _copy_seed(tmp_path: Path) -> Path:
    seed = load_spec("seed").path.parent
    lab = tmp_path / "seedcopy"
    shutil.copytree(seed, lab)
    return lab


def test_cli_dry_run_prints_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# halab deploy plan: stack rgmanager, lab seed")
    assert "clusvcadm -e service01 -m node01h" in out
    assert main(["deploy", "--stack", "rgmanager", "--dry-run", "--lab", "seed"]) == 0
    assert capsys.readouterr().out == out


def test_cli_pacemaker_says_where_its_deploy_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "--stack", "pacemaker"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "pytest fixtures" in out


def test_cli_rgmanager_live_on_a_lab_that_is_not_up_is_one_line(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    lab = _copy_seed(tmp_path)
    toml = lab / "lab.toml"
    toml.write_text(toml.read_text().replace('name = "seed"', 'name = "unit-never-up"', 1))
    assert main(["deploy", "--stack", "rgmanager", "--lab", str(toml)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "is not up" in err


def test_cli_rgmanager_live_on_a_user_image_says_to_print_the_plan(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    lab = _copy_seed(tmp_path)
    toml = lab / "lab.toml"
    (lab / "rhel6.qcow2").write_bytes(b"")
    toml.write_text(toml.read_text().replace('kind = "builtin"', 'kind = "user"\npath = "rhel6.qcow2"', 1))
    assert main(["deploy", "--stack", "rgmanager", "--lab", str(toml)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--dry-run" in err


def test_the_live_plan_on_halabs_image_names_the_data_lun_by_path_and_skips_rhel_only_steps() -> None:
    plan = rgmanager_plan(load_spec("seed").with_stack("rgmanager"))  # builtin image -> debian
    cmds = plan.commands("node01")
    assert not any("chkconfig" in c or "ricci" in c or "iscsiadm" in c for c in cmds)
    assert "systemctl disable --quiet cman.service rgmanager.service" in cmds
    conf = next(s.stdin for p in plan.phases for s in p.steps if s.command.endswith(CLUSTER_CONF))
    assert conf is not None
    assert 'device="/dev/sdb"' not in conf
    assert f'device="{LUN.format(2)}"' in conf
    assert not plan.warnings
    assert not any("/etc/init.d/myappl" in c for c in cmds)  # in the image already


def test_the_lab_fence_path_gets_a_login_timeout_on_halabs_image_only() -> None:
    """Measured live: fence_virsh's first login from a TCG guest timed out (default login timeout,
    three tries, 18 s); fenced retried and fence-done came late. halab's image gets 10 s (validated
    by ccs_config_validate on the RHCS image); a RHEL 6 plan keeps the design's text."""
    from halab.deploy.rgmanager import lab_deployed_conf
    from halab.spec import load_spec

    seed = load_spec("seed")
    debian = [ln for ln in lab_deployed_conf(seed, "debian").splitlines() if "<fencedevice " in ln]
    assert debian
    assert all('login_timeout="10"' in ln and ln.rstrip().endswith("/>") for ln in debian)
    rhel6 = lab_deployed_conf(seed, "rhel6")
    assert "login_timeout" not in rhel6
