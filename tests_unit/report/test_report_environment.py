"""environment.properties, categories.json, host facts and the config hash."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from halab.observe.verdict import Category
from halab.report import environment
from halab.report.environment import (
    config_hash,
    host_facts,
    read_environment,
    write_categories,
    write_environment,
)
from halab.spec import load_spec


def _java_matches(regex: str, message: str) -> bool:
    """What allure 2 does: Pattern.compile(regex, DOTALL).matcher(message).matches()."""
    return re.fullmatch(regex, message, re.DOTALL) is not None


def _categories(tmp_path: Path) -> list[dict[str, object]]:
    path = write_categories(tmp_path / "results")
    assert path == tmp_path / "results" / "categories.json"
    data = json.loads(path.read_text())
    assert isinstance(data, list)
    return data


def test_categories_are_the_verdicts_own_in_their_order(tmp_path: Path) -> None:
    names = [c["name"] for c in _categories(tmp_path)]
    assert list(dict.fromkeys(names)) == [c.title for c in Category]
    assert names[:3] == ["unsafe (split brain)", "wrong outcome", "no evidence"]
    assert "inconclusive (host starved)" in names


@pytest.mark.parametrize("category", list(Category))
@pytest.mark.parametrize("raised_as", ["AssertionError: ", "Failed: ", ""])
def test_each_prefix_lands_in_its_category_only(tmp_path: Path, category: Category, raised_as: str) -> None:
    message = f"{raised_as}{category.line('fence-done at 80.0 s (window 46.5–75.2 s)')}\nTOO SLOW: more\nassert False"
    hits = {c["name"] for c in _categories(tmp_path) if "failed" in c["matchedStatuses"]  # type: ignore[operator]
            and _java_matches(str(c.get("messageRegex", ".*")), message)}
    assert hits == {category.title}


def test_the_fixtures_harness_error_lands_in_its_category(tmp_path: Path) -> None:
    """What fixtures/failover.py writes for a harness error (pytest.fail with the category's line)."""
    message = "Failed: " + Category.HARNESS_ERROR.line("expected the owner to be node01, it is node02")
    hits = {c["name"] for c in _categories(tmp_path) if "failed" in c["matchedStatuses"]  # type: ignore[operator]
            and _java_matches(str(c.get("messageRegex", ".*")), message)}
    assert hits == {"lab or harness error"}
    source = (Path(__file__).parents[2] / "fixtures" / "failover.py").read_text()
    assert "pytest.fail(Category.HARNESS_ERROR.line(" in source


def test_broken_tests_are_harness_errors_and_plain_failures_match_nothing(tmp_path: Path) -> None:
    cats = _categories(tmp_path)
    broken = [c for c in cats if "broken" in c["matchedStatuses"]]  # type: ignore[operator]
    assert [c["name"] for c in broken] == ["lab or harness error"]
    assert "messageRegex" not in broken[0]
    plain = "AssertionError: assert 1 == 2"
    assert not any(_java_matches(str(c["messageRegex"]), plain) for c in cats if "messageRegex" in c)


def test_environment_properties_format(tmp_path: Path) -> None:
    props = {"stack": "pacemaker 2.1.5", "run seed": "1234", "note": "a=b:c\\d\nline2 ü",
             "fence": "passwd=zz"}
    path = write_environment(tmp_path, props)
    assert path == tmp_path / "environment.properties"
    lines = path.read_text(encoding="ascii").splitlines()
    assert lines == [
        "fence=passwd=***",
        "note=a=b:c\\\\d\\nline2 \\u00fc",
        "run\\ seed=1234",
        "stack=pacemaker 2.1.5",
    ]
    assert read_environment(path) == {**props, "fence": "passwd=***"}


def test_environment_values_redact_explicit_secrets(tmp_path: Path) -> None:
    path = write_environment(tmp_path, {"cmd": "fence with pw-5"}, secrets=["pw-5"])
    assert read_environment(path) == {"cmd": "fence with ***"}


def test_host_facts_names_and_missing_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(environment, "HOST_COMMANDS", (
        ("qemu", ("halab-no-such-tool", "--version")),
        ("libvirt", ("python3", "--version")),
        ("tgt", ("false",)),
    ))
    facts = host_facts(timeout=10)
    assert set(facts) == {"kernel", "python", "qemu", "libvirt", "tgt"}
    assert facts["qemu"] == "not installed"
    assert re.fullmatch(r"3\.\d+\.\d+", facts["libvirt"])
    assert facts["tgt"] == "unknown (exit 1)"


def test_config_hash_is_stable_and_follows_the_configuration() -> None:
    spec = load_spec("seed")
    first = config_hash(spec)
    assert re.fullmatch(r"[0-9a-f]{12}", first)
    assert config_hash(load_spec("seed")) == first
    others = [name for name in spec.timings if name != spec.timing.name]
    if others:
        assert config_hash(spec.with_timing(others[0])) != first
    if "rgmanager" in spec.stacks:
        assert config_hash(spec.with_stack("rgmanager")) != first
