"""Reading a user's input file: bounded in size, and never echoed whole.

Why: `/dev/zero` or a multi-GB log handed to `halab parse` must be a clear one-line error, not a
MemoryError; a 5 MB line that does not parse must not land on the terminal in full.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from halab.errors import HalabError

MAX_INPUT_BYTES = 64 * 2**20  # a day of a busy cluster's log fits; /dev/zero does not
MAX_SPEC_BYTES = 2**20
Fail = Callable[[str], HalabError]


def read_input(name: str | Path, fail: Fail, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of file `name` ('-' for stdin), at most `limit`; `fail(what)` otherwise."""
    try:
        if str(name) == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            path = Path(name)
            if path.is_dir():
                raise fail(f"{name} is a directory")
            with path.open("rb") as fh:
                data = fh.read(limit + 1)
    except OSError as err:
        raise fail(f"cannot read {name}: {err.strerror or type(err).__name__}") from None
    if len(data) > limit:
        raise fail(f"{name} is larger than {limit // 2**20} MiB (not an input halab reads)")
    return data
