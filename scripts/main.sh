#!/usr/bin/env bash
# README command 1: set up everything, then run the main job: the seed's fault matrix
# (3 faults x 2 targets) with the seed's timings on the embedded default lab (seed, pacemaker),
# and leave the Allure HTML report in reports/allure-report. Extra arguments go to pytest
# (e.g. --faults all, --timing fast, --stack rgmanager, --keep-lab).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit $?
.venv/bin/python -c 'from halab.report.generate import clean_results; from pathlib import Path; clean_results(Path("reports/allure-results"))'
.venv/bin/pytest -p no:cacheprovider -m failover tests_failover --alluredir reports/allure-results \
    --junitxml reports/junit-failover.xml "$@"
rc=$?
if [ $rc -eq 5 ]; then echo "[main] FAILED: no failover test ran (pytest exit 5)"; rc=1; fi
.venv/bin/python -m halab.report.generate reports/allure-results reports/allure-report \
    --phase-history reports/phase-history.jsonl || rc=1
exit $rc
