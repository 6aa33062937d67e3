"""Timing rules: does qdiskd start at all, and does the quorum disk decide before totem does?

The numbers are the effective ones (clusterconf.derived), so a config that leaves tko or the
token unset is judged by what qdiskd and cman really use (FACTS.md section 1c).
"""

from __future__ import annotations

from collections.abc import Iterator

from halab.checks.base import Context, Issue, Located, error, rule, warning
from halab.clusterconf import defaults as d


def _token_where(ctx: Context) -> Located:
    """Point at <totem> when it exists (that is where the fix goes), else at <quorumd>."""
    conf = ctx.conf
    if conf.totem is not None:
        return conf.totem
    assert conf.quorumd is not None
    return conf.quorumd


@rule("timing.qdisk-min-token", "qdiskd refuses to start when the totem token is below 10000 ms")
def qdisk_min_token(ctx: Context) -> Iterator[Issue]:
    conf = ctx.conf
    token = conf.effective_token_ms
    if conf.quorumd is not None and token < d.QDISK_MIN_TOKEN_MS:
        yield error(_token_where(ctx), f"token {token} ms is below {d.QDISK_MIN_TOKEN_MS} ms: qdiskd "
                    "will not start (3.0.12 logs it only at DEBUG level)")


@rule("timing.qdisk-startup",
      "qdiskd exits at start unless token >= interval*(tko+master_wait+upgrade_wait) + interval")
def qdisk_startup(ctx: Context) -> Iterator[Issue]:
    q = ctx.conf.qdisk_effective()
    token = ctx.conf.effective_token_ms
    if q is not None and token < q.min_token_ms:
        yield error(_token_where(ctx), (
            f"token {token} ms < {q.interval_s}s*(tko {q.tko} + master_wait {q.master_wait} + "
            f"upgrade_wait {q.upgrade_wait}) + {q.interval_s}s = {q.min_token_ms} ms: qdiskd exits with "
            "'Quorum disk timings are too slow'"))


@rule("timing.token-vs-qdisk", "Red Hat guidance: totem token >= 2 x the qdisk timeout (interval*tko)")
def token_vs_qdisk(ctx: Context) -> Iterator[Issue]:
    q = ctx.conf.qdisk_effective()
    token = ctx.conf.effective_token_ms
    if q is not None and token < 2 * q.timeout_s * 1000:
        yield warning(_token_where(ctx), (
            f"token {token} ms < 2 x qdisk timeout {q.interval_s}s*{q.tko} = {2 * q.timeout_s * 1000} ms: "
            "totem may declare a node dead before qdiskd has decided (qdisk.5, RHEL 5/6 guidance)"))


@rule("timing.qdisk-tko", "qdiskd warns when its tko (set or derived from the token) is below 4")
def qdisk_tko(ctx: Context) -> Iterator[Issue]:
    q = ctx.conf.qdisk_effective()
    if q is not None and ctx.conf.quorumd is not None and q.tko < d.QDISK_TKO_WARN_BELOW:
        how = f"derived from token {ctx.conf.effective_token_ms} ms" if q.tko_auto else "set"
        yield warning(ctx.conf.quorumd, f"qdisk tko {q.tko} ({how}) is below {d.QDISK_TKO_WARN_BELOW}: "
                      "qdiskd logs 'Quorum disk TKO is too low!' and evicts on a short I/O stall")


@rule("timing.quorum-dev-poll", "cman's quorum_dev_poll must outlast a qdisk cycle and match the token")
def quorum_dev_poll(ctx: Context) -> Iterator[Issue]:
    conf = ctx.conf
    q = conf.qdisk_effective()
    if q is None:
        return
    poll, token = conf.quorum_dev_poll_ms, conf.effective_token_ms
    where: Located = conf.cman if conf.cman is not None else _token_where(ctx)
    if poll <= q.interval_s * 1000:
        yield error(where, f"quorum_dev_poll {poll} ms <= qdisk interval {q.interval_s} s: cman declares the "
                    "quorum device dead between two qdiskd updates")
    elif q.master_wins and poll != token:
        yield warning(where, f"quorum_dev_poll {poll} ms != token {token} ms: with master_wins qdisk.5 asks "
                      "for them equal, else the loser keeps the qdisk vote and both sides fence")
    elif poll < q.timeout_s * 1000:
        yield warning(where, f"quorum_dev_poll {poll} ms < qdisk timeout {q.timeout_s * 1000} ms: cman may "
                      "drop the qdisk votes before qdiskd decides")


RULES = (qdisk_min_token, qdisk_startup, token_vs_qdisk, qdisk_tko, quorum_dev_poll)
