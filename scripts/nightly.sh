#!/usr/bin/env bash
# The nightly job on a bare-metal runner (root, KVM where the CPU has it). Subcommands:
#   nightly.sh run [--shard I/N] [PYTEST ARGS...]  set-up, this runner's shard of the failover matrix
#                                                   -> reports/nightly/shard-I-of-N/{allure-results,
#                                                      junit.xml, phase-history.jsonl}
#   nightly.sh report [SHARD DIR ...]              merge the shards' results into one Allure report
#                                                   with the previous nights' history -> reports/allure-report
#   nightly.sh all [PYTEST ARGS...]                run (one shard) + report, on one runner
#   nightly.sh commands                            the subcommands (the CI examples' test reads it)
# Across nights the report's history/ and the phase records live in $HALAB_NIGHTLY_HOME (default
# /var/lib/halab/nightly) on the runner that makes the report. $HALAB_WORKERS (default auto) labs
# run at once on one runner (pytest-xdist, one lab per worker). $HALAB_RUN_ID names the night
# (CI: the pipeline id). With HALAB_NIGHTLY_DRY=1 every command is printed instead of run.
set -uo pipefail
cd "$(dirname "$0")/.."
HOME_DIR=${HALAB_NIGHTLY_HOME:-/var/lib/halab/nightly}
OUT=${HALAB_NIGHTLY_OUT:-reports/nightly}
export HALAB_RUN_ID=${HALAB_RUN_ID:-nightly-$(date -u +%Y%m%dT%H%M%S)}
say() { printf '[nightly] %s\n' "$*"; }
x() { if [ "${HALAB_NIGHTLY_DRY:-0}" = 1 ]; then printf '+ %s\n' "$*"; else "$@"; fi; }

run_shard() {
    local shard="1/1" args=()
    while [ $# -gt 0 ]; do
        case $1 in
            --shard) shard=${2:-}; shift 2 || { say "--shard needs I/N"; return 2; } ;;
            --shard=*) shard=${1#--shard=}; shift ;;
            *) args+=("$1"); shift ;;
        esac
    done
    [[ $shard =~ ^[0-9]+/[0-9]+$ ]] || { say "--shard $shard: want I/N (e.g. 1/2)"; return 2; }
    local dir="$OUT/shard-${shard%/*}-of-${shard#*/}"
    x bash scripts/setup.sh || return $?
    x .venv/bin/python -c "from halab.report.generate import clean_results; from pathlib import Path; \
clean_results(Path('$dir/allure-results'))" || return $?
    local workers=()
    [ "${HALAB_WORKERS:-auto}" != 1 ] && workers=(-n "${HALAB_WORKERS:-auto}")
    say "run $HALAB_RUN_ID, shard $shard -> $dir"
    x .venv/bin/pytest -p no:cacheprovider -m failover tests_failover --shard "$shard" "${workers[@]}" \
        --alluredir "$dir/allure-results" --junitxml "$dir/junit.xml" "${args[@]}"
    local rc=$?
    [ $rc -eq 5 ] && { say "FAILED: no failover test ran in shard $shard (pytest exit 5)"; rc=1; }
    # this night's records only: the checkout's file also holds every earlier run's
    if [ -f reports/phase-history.jsonl ]; then
        x .venv/bin/python -m halab.report.history merge "$dir/phase-history.jsonl" reports/phase-history.jsonl \
            --run "$HALAB_RUN_ID" || rc=1
    fi
    x .venv/bin/halab down --all || rc=1  # nothing of any lab stays on the runner
    return $rc
}

report() {
    local dirs=("$@") results=() phases=()
    [ ${#dirs[@]} -eq 0 ] && mapfile -t dirs < <(ls -d "$OUT"/shard-* 2>/dev/null)
    [ ${#dirs[@]} -eq 0 ] && { say "no shard folders under $OUT (run first)"; return 2; }
    for d in "${dirs[@]}"; do
        if [ -d "$d/allure-results" ]; then results+=("$d/allure-results"); else say "no results in $d"; fi
        [ -f "$d/phase-history.jsonl" ] && phases+=("$d/phase-history.jsonl")
    done
    [ ${#results[@]} -eq 0 ] && { say "no allure-results in ${dirs[*]}"; return 2; }
    x mkdir -p "$HOME_DIR/allure-report"
    phases+=("$HOME_DIR/phase-history.jsonl")
    # The report is generated where the history is kept, then copied next to the checkout.
    x .venv/bin/python -m halab.report.generate "${results[@]}" "$HOME_DIR/allure-report" \
        --phase-history "${phases[@]}" || return $?
    x .venv/bin/python -m halab.report.history merge "$HOME_DIR/phase-history.jsonl" "${phases[@]}" || return $?
    x rm -rf reports/allure-report
    x cp -r "$HOME_DIR/allure-report" reports/allure-report
    say "report: $PWD/reports/allure-report/index.html (phase trend: reports/allure-report/phase-trend.txt)"
}

cmd=${1:-}
shift || true
case $cmd in
    run) run_shard "$@" ;;
    report) report "$@" ;;
    all) run_shard "$@"; rc=$?; report "$OUT/shard-1-of-1" || rc=1; exit $rc ;;
    commands) echo "run report all commands" ;;
    *) echo "usage: scripts/nightly.sh run [--shard I/N] [PYTEST ARGS] | report [SHARD DIR ...] | all [PYTEST ARGS]" >&2
       exit 2 ;;
esac
