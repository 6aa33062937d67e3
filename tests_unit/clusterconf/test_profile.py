"""cluster.conf under a timing profile: the seed as written, CI's fast profile one qdiskd accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from halab.clusterconf.profile import apply_overrides, lab_conf, profile_overrides
from halab.deploy.rgmanager import rgmanager_plan
from halab.errors import ConfigError
from halab.oracle import rgdesign
from halab.spec import load_spec


def _seed(timing: str = "seed"):  # type: ignore[no-untyped-def]
    return load_spec("seed").with_stack("rgmanager").with_timing(timing)


def test_the_seed_profile_runs_cluster_conf_as_written() -> None:
    spec = _seed()
    assert profile_overrides(spec) == {}
    conf = lab_conf(spec)
    assert conf.effective_token_ms == 20000
    q = conf.qdisk_effective()
    assert q is not None
    assert (q.interval_s, q.tko) == (1, 10)


def test_the_fast_profile_is_one_qdiskd_accepts_and_the_oracle_models_it() -> None:
    spec = _seed("fast")
    conf = lab_conf(spec)
    q = conf.qdisk_effective()
    assert conf.effective_token_ms == 10000
    assert q is not None
    assert q.tko == 4
    assert conf.effective_token_ms >= q.min_token_ms  # qdiskd's startup rule
    design = rgdesign.from_spec(spec)
    assert design.token_ms == 10000
    assert design.qdisk is not None
    assert design.qdisk.tko == 4
    stdin = next(s.stdin for p in rgmanager_plan(spec).phases for s in p.steps
                 if s.command.endswith("/etc/cluster/cluster.conf"))
    assert stdin is not None
    assert 'token="10000"' in stdin
    assert 'tko="4"' in stdin


def test_a_profile_qdiskd_would_refuse_is_a_clear_error_before_deploy(tmp_path: Path) -> None:
    seed = load_spec("seed").path.parent
    toml = (seed / "lab.toml").read_text().replace("totem_token = 10000", "totem_token = 8000")
    (tmp_path / "lab.toml").write_text(toml)
    (tmp_path / "cluster.conf").write_text((seed / "cluster.conf").read_text())
    spec = load_spec(tmp_path / "lab.toml").with_stack("rgmanager").with_timing("fast")
    with pytest.raises(ConfigError, match="timing profile 'fast': token 8000 ms is below 10000 ms"):
        rgmanager_plan(spec)


def test_overrides_keep_comments_and_create_a_missing_element() -> None:
    text = '<?xml version="1.0"?>\n<!-- keep me -->\n<cluster name="c" config_version="1"><clusternodes/></cluster>'
    out = apply_overrides(text, {"totem_token": 12000})
    assert "keep me" in out
    assert '<totem token="12000"/>' in out
