"""The example pipelines call scripts, subcommands, CLI commands and pytest options that exist.

Each `bash scripts/nightly.sh ...` line is run with HALAB_NIGHTLY_DRY=1 (it prints what it would
do), and the pytest command it prints is collected for real (`--collect-only`), so a renamed
option or fault id breaks this test, not the next night.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from halab.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "ci-examples"
# What the CI systems fill in; shards 1 of 2 stand for any.
CI_VARS = {"$CI_NODE_INDEX": "1", "$CI_NODE_TOTAL": "2", "${{ matrix.shard }}": "1"}
ENV = {"PYTHONPATH": str(ROOT / "lib"), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def _commands(path: Path) -> list[str]:
    doc = yaml.safe_load(path.read_text())
    out: list[str] = []
    jobs = doc.get("jobs", doc)
    for name, job in jobs.items():
        if not isinstance(job, dict) or name in ("variables", "stages", "env", "on"):
            continue
        for key in ("before_script", "script", "after_script"):
            out += [str(line) for line in job.get(key, [])]
        out += [str(step["run"]) for step in job.get("steps", []) if "run" in step]
    return out


def _fill(command: str) -> str:
    for var, value in CI_VARS.items():
        command = command.replace(var, value)
    return command


def test_both_examples_parse_and_run_the_nightly_script() -> None:
    for name in ("gitlab-ci.yml", "github-nightly.yml"):
        commands = _commands(EXAMPLES / name)
        assert any("scripts/nightly.sh run --shard" in c for c in commands), name
        assert any("scripts/nightly.sh report" in c for c in commands), name
        assert any("halab down --all" in c for c in commands), name


@pytest.mark.parametrize("name", ["gitlab-ci.yml", "github-nightly.yml"])
def test_every_script_and_halab_command_exists(name: str) -> None:
    subcommands = subprocess.run(["bash", str(ROOT / "scripts/nightly.sh"), "commands"], capture_output=True,
                                 text=True, timeout=30, check=True).stdout.split()
    for command in map(_fill, _commands(EXAMPLES / name)):
        argv = shlex.split(command)
        for token in argv:
            if token.startswith("scripts/"):
                assert (ROOT / token).is_file(), f"{name}: {token} does not exist"
        if argv[:2] == ["bash", "scripts/nightly.sh"]:
            assert argv[2] in subcommands, f"{name}: nightly.sh has no subcommand {argv[2]}"
        if argv[0] == ".venv/bin/halab":
            build_parser().parse_args(argv[1:])  # exits (SystemExit) on an unknown command or option
        if argv[0] not in ("bash", ".venv/bin/halab", "rm"):
            pytest.fail(f"{name}: unexpected command {argv[0]} (extend this test)")


def _dry(argv: list[str], out_dir: Path) -> str:
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
                          env={**ENV, "HALAB_NIGHTLY_DRY": "1", "HALAB_NIGHTLY_OUT": str(out_dir),
                               "HALAB_NIGHTLY_HOME": str(out_dir / "home")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.parametrize("name", ["gitlab-ci.yml", "github-nightly.yml"])
def test_the_nightly_lines_run_dry_and_their_pytest_options_collect(name: str, tmp_path: Path) -> None:
    for command in map(_fill, _commands(EXAMPLES / name)):
        argv = shlex.split(command)
        if argv[:2] != ["bash", "scripts/nightly.sh"]:
            continue
        if argv[2] == "report":
            (tmp_path / "shard-1-of-2" / "allure-results").mkdir(parents=True, exist_ok=True)
        printed = _dry(argv, tmp_path)
        pytest_lines = [ln[2:] for ln in printed.splitlines() if ln.startswith("+ .venv/bin/pytest ")]
        if argv[2] == "report":
            assert "+ .venv/bin/python -m halab.report.generate" in printed
            continue
        (line,) = pytest_lines
        run = shlex.split(line)[1:]
        run = [a for i, a in enumerate(run) if a != "-n" and (i == 0 or run[i - 1] != "-n")]  # no workers here
        proc = subprocess.run([sys.executable, "-m", "pytest", *run, "--collect-only", "-q"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=False, env=ENV)
        assert proc.returncode == 0, f"{name}: {line}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        assert re.search(r"\d+/\d+ tests collected \(\d+ deselected\)", proc.stdout), proc.stdout[-500:]


def test_a_bad_shard_stops_the_script_with_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(["bash", "scripts/nightly.sh", "run", "--shard", "x"], cwd=ROOT, capture_output=True,
                          text=True, timeout=30, check=False, env={**ENV, "HALAB_NIGHTLY_DRY": "1"})
    assert proc.returncode == 2
    assert proc.stdout.strip() == "[nightly] --shard x: want I/N (e.g. 1/2)"
