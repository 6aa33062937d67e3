"""--shard I/N: every test in exactly one shard, the same shard on every run, clear errors."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from halab.nightly.shard import Shard, ShardError, parse_shard, shard_of, split

ROOT = Path(__file__).resolve().parents[2]
MATRIX = [f"tests_failover/test_failover.py::TestSeedCluster::test_failover[{f}-{n}-{r}]"
          for f in ("heartbeat-down", "iscsi-block", "suspend", "power-off", "kill-daemon")
          for n, r in (("node01", "owner"), ("node02", "standby"))]


@given(st.lists(st.text(min_size=1), unique=True, max_size=60), st.integers(min_value=1, max_value=9))
def test_every_test_lands_in_exactly_one_shard(ids: list[str], total: int) -> None:
    shards = split(ids, total)
    assert sorted(shards) == list(range(1, total + 1))
    flat = [i for part in shards.values() for i in part]
    assert sorted(flat) == sorted(ids)
    for index, part in shards.items():
        assert all(Shard(index, total).holds(i) for i in part)
        assert not any(Shard(index, total).holds(i) for j, other in shards.items() if j != index for i in other)


def test_the_shard_depends_on_the_id_only_not_on_order_or_company() -> None:
    before = {i: shard_of(i, 3) for i in MATRIX}
    shuffled = random.Random(7).sample(MATRIX, len(MATRIX))
    after = {i: s for s, part in split([*shuffled, "tests_x.py::test_new"], 3).items() for i in part}
    assert all(after[i] == before[i] for i in MATRIX)


def test_the_hash_is_pinned_so_every_host_and_python_agrees() -> None:
    # sha256 of the id, first 8 bytes big-endian, mod N, 1-based: these values must never move,
    # or a night's shards would differ from the last night's on a runner with another Python.
    nodeid = "tests_failover/test_failover.py::TestSeedCluster::test_failover[suspend-node01-owner]"
    assert [shard_of(nodeid, n) for n in (1, 2, 3, 7)] == [1, 1, 2, 2]
    assert [shard_of("a", n) for n in (2, 3, 7)] == [1, 2, 5]


def test_the_same_id_in_a_fresh_interpreter_gets_the_same_shard() -> None:
    code = "from halab.nightly.shard import shard_of; print(shard_of('x::y[z]', 5))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
                         env={"PYTHONPATH": str(ROOT / "lib"), "PYTHONHASHSEED": "123"})
    assert int(out.stdout) == shard_of("x::y[z]", 5)


@pytest.mark.parametrize("value", ["1/2", " 2/2 ", "1/1", "7/9"])
def test_parse_accepts_i_of_n(value: str) -> None:
    shard = parse_shard(value)
    assert str(shard) == value.strip()


@pytest.mark.parametrize("value", ["0/2", "3/2", "1/0", "2", "a/b", "", "1/-1", "-1/2"])
def test_parse_rejects_anything_else_with_one_line(value: str) -> None:
    with pytest.raises(ShardError, match=r"want I/N with 1 <= I <= N"):
        parse_shard(value)


def _collect(*args: str) -> tuple[int, list[str]]:
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q",
                           "-m", "failover", "tests_failover", "--faults", "all", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
                          env={"PYTHONPATH": str(ROOT / "lib"), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    return proc.returncode, [ln for ln in proc.stdout.splitlines() if "::" in ln]


def test_the_option_splits_the_failover_matrix_into_disjoint_shards_covering_it() -> None:
    rc, everything = _collect()
    assert rc == 0
    assert len(everything) > 10
    parts = [_collect("--shard", f"{i}/3")[1] for i in (1, 2, 3)]
    assert sorted(i for part in parts for i in part) == sorted(everything)
    assert all(parts), "with 21 tests no shard of 3 should be empty"
    for i, part in enumerate(parts, start=1):
        assert all(shard_of(nodeid, 3) == i for nodeid in part)


def test_a_bad_shard_option_is_a_usage_error_without_traceback() -> None:
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q",
                           "tests_failover", "--shard", "3/2"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False,
                          env={"PYTHONPATH": str(ROOT / "lib"), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    assert proc.returncode == 4
    assert "--shard '3/2': want I/N" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
