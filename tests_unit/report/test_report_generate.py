"""Offline HTML generation: clear errors, history carried over, results cleaned safely; one real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from halab.report.environment import write_categories, write_environment
from halab.report.generate import (
    GENERATOR,
    REPORTS_DIR,
    ReportError,
    clean_results,
    copy_history,
    generate,
    java_env,
    main,
)


def test_missing_generator_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    expected = r"no Allure generator at .*node_modules/\.bin/allure \(run scripts/setup\.sh"
    with pytest.raises(ReportError, match=expected):
        generate(tmp_path / "results", tmp_path / "report", reports_dir=tmp_path)


def test_main_prints_one_line_and_fails_without_generator(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path), str(tmp_path / "report")], reports_dir=tmp_path) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("halab report: no Allure generator")


def test_main_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_copy_history(tmp_path: Path) -> None:
    report, results = tmp_path / "report", tmp_path / "results"
    assert not copy_history(report, results)
    (report / "history").mkdir(parents=True)
    (report / "history" / "history.json").write_text("{}")
    results.mkdir()
    (results / "history").mkdir()
    (results / "history" / "stale.json").write_text("{}")
    assert copy_history(report, results)
    assert sorted(p.name for p in (results / "history").iterdir()) == ["history.json"]


def test_clean_results_empties_an_allure_folder(tmp_path: Path) -> None:
    results = tmp_path / "allure-results"
    clean_results(results)
    assert results.is_dir()
    for name in ("a-result.json", "b-container.json", "c-attachment.png", "environment.properties"):
        (results / name).write_text("x")
    (results / "history").mkdir()
    clean_results(results)
    assert list(results.iterdir()) == []


def test_clean_results_refuses_a_folder_with_other_files(tmp_path: Path) -> None:
    (tmp_path / "a-result.json").write_text("x")
    (tmp_path / "pyproject.toml").write_text("x")
    with pytest.raises(ReportError, match="not allure results"):
        clean_results(tmp_path)
    assert (tmp_path / "a-result.json").exists()


def test_java_env_keeps_a_valid_java_home_and_finds_one_otherwise(tmp_path: Path) -> None:
    jdk = tmp_path / "jvm" / "java-17-openjdk-amd64"
    (jdk / "bin").mkdir(parents=True)
    (jdk / "bin" / "java").write_text("")
    assert java_env({"JAVA_HOME": str(jdk), "PATH": ""})["JAVA_HOME"] == str(jdk)
    found = java_env({"JAVA_HOME": "/nope", "PATH": str(tmp_path)}, jvm_root=tmp_path / "jvm")
    assert found["JAVA_HOME"] == str(jdk)
    with pytest.raises(ReportError, match="no Java"):
        java_env({"PATH": str(tmp_path)}, jvm_root=tmp_path / "empty")


def _tiny_results(results: Path) -> None:
    """One failed failover test as allure-pytest would write it, plus the report-wide files."""
    results.mkdir(parents=True, exist_ok=True)
    result = {
        "uuid": "0b7c4c1e-0000-4000-8000-000000000001", "historyId": "h-heartbeat-down-node01",
        "name": "heartbeat-down[node01-owner]", "fullName": "tests_failover.test_failover#heartbeat-down",
        "status": "failed", "start": 1_700_000_000_000, "stop": 1_700_000_095_000,
        "statusDetails": {"message": "AssertionError: TOO SLOW: fence-done at 80.0 s (window 46.5–75.2 s)\n"
                                     "assert False"},
        "parameters": [{"name": "fault", "value": "heartbeat-down"}, {"name": "target", "value": "node01"}],
        "labels": [{"name": "suite", "value": "failover"}],
    }
    (results / "0b7c4c1e-result.json").write_text(json.dumps(result))
    write_categories(results)
    write_environment(results, {"stack": "pacemaker", "run.seed": "42"})


def _category_names(report: Path) -> set[str]:
    tree = json.loads((report / "data" / "categories.json").read_text())
    return {child["name"] for child in tree["children"]}


@pytest.mark.skipif(not (REPORTS_DIR / GENERATOR).exists(),
                    reason=f"no Allure generator at {REPORTS_DIR / GENERATOR} (scripts/setup.sh installs it)")
def test_end_to_end_real_allure_generate(tmp_path: Path) -> None:
    results, report = tmp_path / "allure-results", tmp_path / "report"
    _tiny_results(results)
    index = generate(results, report, timeout=300)
    assert index == report / "index.html"
    assert index.stat().st_size > 0
    assert _category_names(report) == {"too slow"}
    environment = json.loads((report / "widgets" / "environment.json").read_text())
    assert {"name": "run.seed", "values": ["42"]} in environment
    # The next run starts from clean results and still gets the first run's history.
    clean_results(results)
    _tiny_results(results)
    generate(results, report, timeout=300)
    assert (results / "history" / "history.json").exists()
    history = json.loads((report / "history" / "history.json").read_text())
    assert [len(entry["items"]) for entry in history.values()] == [2]  # both runs of the one test
