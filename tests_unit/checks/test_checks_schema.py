"""The schema rule: RelaxNG validation with the real cluster.rng files (when ../shared is there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from halab.checks import Context, rule_by_id
from halab.checks.schema import load_schema
from halab.clusterconf import ClusterConf, Totem, load_cluster_conf
from halab.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "labs" / "seed" / "cluster.conf"
DATA = REPO / "tests_unit" / "data" / "clusterconf"
SHARED = REPO.parent / "shared"
SCHEMAS = {p.parent.name: p for p in sorted((SHARED / "reference" / "schema").glob("cluster-*/cluster.rng"))}
real = pytest.mark.skipif(not SCHEMAS, reason=f"{SHARED}/reference/schema is absent (schemas live outside)")
RULE = rule_by_id("schema.relaxng")


@real
@pytest.mark.parametrize("name", ["cluster-3.0.12", "cluster-stable3-2011-07-static"])
def test_seed_validates_against_the_real_schemas(name: str) -> None:
    assert RULE.run(Context(load_cluster_conf(SEED), schema=SCHEMAS[name])) == []


@real
def test_broken_variant_fails_the_real_schema() -> None:
    conf = load_cluster_conf(DATA / "schema-unknown-attribute.conf")
    findings = RULE.run(Context(conf, schema=SCHEMAS["cluster-3.0.12"]))
    assert findings
    assert all(f.severity == "error" for f in findings)
    assert any(f.line == 5 for f in findings)
    assert "cluster-3.0.12" in findings[0].reason


@real
def test_version_sensitivity_udpu() -> None:
    """cman transport="udpu" is valid for the 2011-07 schema, unknown to 3.0.12's (configs/README)."""
    pcs = SHARED / "configs" / "cluster.conf__pcs0.9_pcsd_test_cluster.conf.xml"
    conf = load_cluster_conf(pcs)
    assert RULE.run(Context(conf, schema=SCHEMAS["cluster-stable3-2011-07-static"])) == []
    assert RULE.run(Context(conf, schema=SCHEMAS["cluster-3.0.12"]))


def test_model_built_in_code_is_validated_from_its_written_form() -> None:
    conf = ClusterConf(name="c", config_version=1, totem=Totem(token=10000))
    assert RULE.run(Context(conf, schema=DATA / "tiny-cluster.rng")) == []


def test_unusable_schema_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such schema"):
        load_schema(tmp_path / "absent.rng")
    (tmp_path / "bad.rng").write_text("not xml")
    with pytest.raises(ConfigError, match="schema is not XML"):
        load_schema(tmp_path / "bad.rng")
    with pytest.raises(ConfigError, match="not a RelaxNG schema"):
        load_schema(SEED)
