"""`--shard I/N`: which tests a runner takes when N runners split one matrix.

Why a hash of the node id and not the collection order: a test must land in the same shard on
every night and on every runner, whatever else was collected (a new fault, a `-k`, another
plugin reordering items), so each runner decides alone, from the test's id only, with no shared
list. The price is balance: with few tests the shards can differ in size by a few tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from halab.errors import HalabError


class ShardError(HalabError):
    """A malformed --shard value."""


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based, as CI systems number parallel jobs) of `total`."""

    index: int
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"

    def holds(self, nodeid: str) -> bool:
        return shard_of(nodeid, self.total) == self.index


def parse_shard(value: str) -> Shard:
    """'2/4' -> Shard(2, 4); one clear error for anything else."""
    index_s, sep, total_s = value.strip().partition("/")
    try:
        index, total = int(index_s), int(total_s)
    except ValueError:
        index, total = 0, 0
    if not sep or total < 1 or not 1 <= index <= total:
        raise ShardError(f"--shard {value!r}: want I/N with 1 <= I <= N (e.g. 1/2)")
    return Shard(index, total)


def shard_of(nodeid: str, total: int) -> int:
    """The 1-based shard of a test id: sha256 of the id, so stable across hosts and Python runs
    (the built-in hash() is salted per process)."""
    digest = hashlib.sha256(nodeid.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % total + 1


def split(nodeids: Iterable[str], total: int) -> dict[int, list[str]]:
    """Every shard's ids (for the report line and the tests)."""
    out: dict[int, list[str]] = {i: [] for i in range(1, total + 1)}
    for nodeid in nodeids:
        out[shard_of(nodeid, total)].append(nodeid)
    return out
