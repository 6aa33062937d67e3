"""The real cluster.conf samples in ../shared/configs: read, written back and checked, never a crash.

They are read in place (never copied into the repo); without ../shared the tests skip and say why.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from halab.checks import run_checks
from halab.clusterconf import load_cluster_conf, to_xml
from halab.spec import load_spec

SHARED = Path(__file__).resolve().parents[3] / "shared"
CONFIGS = sorted((SHARED / "configs").glob("*.xml"))
SCHEMAS = sorted((SHARED / "reference" / "schema").glob("cluster-*/cluster.rng"))
NO_SHARED = pytest.mark.skip(reason=f"{SHARED}/configs is absent: the real samples live outside the repo")

params = [pytest.param(p, id=p.stem.removeprefix("cluster.conf__")) for p in CONFIGS] or [
    pytest.param(None, marks=NO_SHARED, id="no-shared-configs")]


def _c14n(data: bytes) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True)
    return etree.tostring(etree.fromstring(data, parser), method="c14n")


@pytest.mark.parametrize("path", params)
def test_real_config_is_read_and_written_back(path: Path) -> None:
    conf = load_cluster_conf(path)
    assert all(e.line for e in conf.walk())
    assert _c14n(to_xml(conf).encode()) == _c14n(path.read_bytes())


@pytest.mark.parametrize("path", params)
def test_real_config_survives_every_rule(path: Path) -> None:
    conf = load_cluster_conf(path)
    spec = load_spec("seed")
    for schema in [None, *SCHEMAS]:
        for finding in run_checks(conf, spec, schema):
            assert finding.rule
            assert finding.reason
            assert "\n" not in str(finding)
    conf.qdisk_effective()
    for svc in conf.services:
        svc.start_order()


@pytest.mark.skipif(not CONFIGS, reason=f"{SHARED}/configs is absent")
def test_real_config_details() -> None:
    """Spot checks that the model reads real files the way rgmanager would."""
    deimos = load_cluster_conf(SHARED / "configs" / "cluster.conf__deimos_2node_xvm_gfs2_apache.xml")
    assert deimos.two_node
    assert deimos.post_join_delay_s == 3
    assert deimos.attrs["alias"] == "cluster1"
    assert [r.kind for r in deimos.services[0].start_order()] == ["clusterfs", "apache", "ip"]
    pcs = load_cluster_conf(SHARED / "configs" / "cluster.conf__pcs0.9_pcs_test_resources_cluster.conf.xml")
    assert pcs.cman is not None
    assert pcs.cman.transport == "udpu"
