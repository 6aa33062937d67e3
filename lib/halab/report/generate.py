"""allure-results -> HTML report, offline, with history carried across runs.

    python -m halab.report.generate RESULTS_DIR [RESULTS_DIR ...] REPORT_DIR [--phase-history FILE ...]

Several results folders (one per shard or runner) make one report: Allure merges them itself.

Uses the allure-commandline 2 that scripts/setup.sh installs under reports/node_modules (Java 17).
Before generating, the previous report's ``history/`` is copied into the results so the trend
graphs and "retries/flaky" marks continue across runs. ``clean_results`` empties a results folder
in the main process before a run: never ``--clean-alluredir`` under xdist, where each worker would
wipe what the others wrote.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from halab.errors import HalabError
from halab.proc import run as bounded_run
from halab.report import history

REPO_ROOT = Path(__file__).resolve().parents[3]
REPORTS_DIR = REPO_ROOT / "reports"
GENERATOR = Path("node_modules/.bin/allure")
# The shell launcher the npm wrapper execs; used directly when node is not on PATH.
LAUNCHER = Path("node_modules/allure-commandline/dist/bin/allure")
GENERATE_TIMEOUT_S = 600.0
JVM_ROOT = Path("/usr/lib/jvm")
# Files allure-pytest and this package write into a results folder: nothing else may be cleaned.
_RESULT_SUFFIXES = ("-result.json", "-container.json")
_RESULT_NAMES = ("environment.properties", "categories.json", "executor.json", "history")


class ReportError(HalabError):
    """The HTML report could not be produced (generator missing, Java missing, generator failed)."""


def generator(reports_dir: Path = REPORTS_DIR) -> list[str]:
    """The command that runs ``allure`` (raises ReportError naming the fix when it is missing)."""
    npm_bin = reports_dir / GENERATOR
    if npm_bin.exists() and shutil.which("node"):
        return [str(npm_bin)]
    launcher = reports_dir / LAUNCHER
    if launcher.exists():
        return [str(launcher)]
    raise ReportError(f"no Allure generator at {npm_bin} (run scripts/setup.sh to install it)")


def java_env(environ: Mapping[str, str] | None = None, jvm_root: Path = JVM_ROOT) -> dict[str, str]:
    """The environment for the generator: JAVA_HOME kept if valid, else java on PATH, else a JDK 17
    under /usr/lib/jvm (allure 2 needs Java 8+; 17 is what setup installs)."""
    env = dict(os.environ if environ is None else environ)
    home = env.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return env
    env.pop("JAVA_HOME", None)
    if shutil.which("java", path=env.get("PATH")):
        return env
    for candidate in sorted(jvm_root.glob("*17*")) + sorted(jvm_root.glob("*")):
        if (candidate / "bin" / "java").exists():
            env["JAVA_HOME"] = str(candidate)
            return env
    raise ReportError("no Java found for the Allure generator "
                      "(install openjdk-17-jre-headless or set JAVA_HOME)")


def copy_history(report_dir: Path, results_dir: Path) -> bool:
    """Copy the previous report's history/ into the results; False when there was none."""
    source = report_dir / "history"
    if not source.is_dir():
        return False
    target = results_dir / "history"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return True


def generate(results: Path | Sequence[Path], report_dir: Path, *, reports_dir: Path = REPORTS_DIR,
             timeout: float = GENERATE_TIMEOUT_S, phase_history: Sequence[Path] = ()) -> Path:
    """Generate one HTML report of the results folder(s) into ``report_dir``; returns its index.html.

    The previous report's history goes into the first folder only (two copies would be two
    histories); with ``phase_history`` files, each failover result gets its fault's phase trend
    and the report folder gets phase-trend.txt and one picture per fault.
    """
    cmd = generator(reports_dir)
    dirs = [results] if isinstance(results, Path) else list(results)
    missing = [str(d) for d in dirs if not d.is_dir()]
    if not dirs or missing:
        raise ReportError(f"no allure results at {', '.join(missing) or '(none given)'} "
                          "(run pytest with --alluredir first)")
    env = java_env()
    for extra in dirs[1:]:
        if (extra / "history").is_dir():
            shutil.rmtree(extra / "history")
    copy_history(report_dir, dirs[0])
    trends = history.read_history(phase_history) if phase_history else None
    if trends is not None:
        history.attach_trends(dirs, trends)
    args = [*cmd, "generate", *(str(d) for d in dirs), "--clean", "-o", str(report_dir)]
    try:
        done = bounded_run(args, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise ReportError(f"allure generate did not finish within {timeout:g} s") from None
    except OSError as err:
        raise ReportError(f"cannot run {cmd[0]}: {err}") from None
    index = report_dir / "index.html"
    if done.returncode != 0 or not index.exists():
        raise ReportError(f"allure generate failed (exit {done.returncode}): {_last_line(done)}")
    if trends is not None:
        history.write_overview(report_dir, trends)
    return index


def _last_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [ln.strip() for ln in (done.stderr + "\n" + done.stdout).splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def _is_result_file(path: Path) -> bool:
    name = path.name
    return name in _RESULT_NAMES or name.endswith(_RESULT_SUFFIXES) or "-attachment" in name


def clean_results(results_dir: Path) -> None:
    """Empty (or create) an allure-results folder; refuses one holding anything else.

    Why the refusal: a mistyped --alluredir (".", the repo, $HOME) must not be wiped.
    """
    if not results_dir.exists():
        results_dir.mkdir(parents=True)
        return
    if not results_dir.is_dir():
        raise ReportError(f"{results_dir} is not a directory")
    entries = list(results_dir.iterdir())
    foreign = [p.name for p in entries if not _is_result_file(p)]
    if foreign:
        raise ReportError(f"{results_dir} holds files that are not allure results "
                          f"({', '.join(sorted(foreign)[:3])}); not cleaning it")
    for path in entries:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


USAGE = ("usage: python -m halab.report.generate RESULTS_DIR [RESULTS_DIR ...] REPORT_DIR "
         "[--phase-history FILE ...]")


def _split_args(args: Sequence[str]) -> tuple[list[Path], list[Path]] | None:
    """(folders, phase history files): every path after --phase-history is a record file."""
    if "--phase-history" in args:
        at = list(args).index("--phase-history")
        folders, records = list(args[:at]), list(args[at + 1:])
        if not records:
            return None
    else:
        folders, records = list(args), []
    if len(folders) < 2:
        return None
    return [Path(a) for a in folders], [Path(a) for a in records]


def main(argv: Sequence[str] | None = None, reports_dir: Path = REPORTS_DIR) -> int:
    """``python -m halab.report.generate RESULTS_DIR... REPORT_DIR``: print the report's path."""
    args = list(sys.argv[1:] if argv is None else argv)
    split = _split_args(args)
    if split is None:
        print(USAGE, file=sys.stderr)
        return 2
    folders, records = split
    try:
        index = generate(folders[:-1], folders[-1], reports_dir=reports_dir, phase_history=records)
    except ReportError as err:
        print(f"halab report: {err}", file=sys.stderr)
        return err.exit_code
    print(index.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
