"""Value rule: attributes that must be numbers or booleans are.

The reader keeps such values as written instead of refusing the file; this rule reports each one
at its line, because cman/qdiskd read them with atoi() and silently get 0.
"""

from __future__ import annotations

from collections.abc import Iterator

from halab.checks.base import At, Context, Issue, error, rule


@rule("config.values", "numeric and boolean attributes hold numbers and booleans")
def values(ctx: Context) -> Iterator[Issue]:
    for p in ctx.conf.problems:
        if p.attr == "config_version" and (p.locator == "cluster" or p.locator.startswith("cluster[")):
            continue  # resources.config-version reports it
        yield error(At(p.locator, p.line), f"{p.attr}={p.value!r} is not {p.expected} (atoi() reads 0)")


RULES = (values,)
