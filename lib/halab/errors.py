"""One error type per thing that can go wrong for a user, each rendered as one clear line.

The CLI and the pytest plugin print ``str(err)`` and exit non-zero; nobody sees a traceback for a
problem the user can fix (bad spec, bad cluster.conf, missing package, no /dev/kvm ...).
"""

from __future__ import annotations

MAX_MESSAGE = 300  # a message quotes input (a bad line, a value): never a 5 MB line in full


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """One line of at most about `limit` characters: newlines shown as \\n, the middle cut."""
    flat = text.replace("\r", "\\r").replace("\n", "\\n")
    if len(flat) <= limit:
        return flat
    keep = limit // 2
    return f"{flat[:keep]} ...[{len(flat) - 2 * keep} chars cut]... {flat[-keep:]}"


class HalabError(Exception):
    """Base of every user-facing error. ``exit_code`` is what the CLI returns."""

    exit_code = 2

    def __init__(self, what: str, where: str = "") -> None:
        what, where = clip(what), clip(where, 200)
        self.what = what
        self.where = where
        super().__init__(f"{where}: {what}" if where else what)


class SpecError(HalabError):
    """The lab spec is unusable (missing file, bad TOML, missing or inconsistent field)."""


class ConfigError(HalabError):
    """A cluster configuration (cluster.conf, pacemaker design) is unusable."""


class ParseError(HalabError):
    """An output or log could not be read: names the kind and the line."""

    def __init__(self, kind: str, what: str, line: int | None = None) -> None:
        where = f"{kind} line {line}" if line is not None else kind
        super().__init__(what, where)
        self.kind = kind
        self.line = line


class HostError(HalabError):
    """The host cannot run a lab (no root, package missing, no accelerator, subnet clash)."""


class LabError(HalabError):
    """Something in a running lab failed (a node never answered, a daemon did not start)."""


class NotApplicable(HalabError):
    """A fault does not apply to this topology: the oracle says so instead of inventing an answer."""

    exit_code = 3
