"""Redaction: fence passwords and private keys must never reach the report.

The report is handed to operations and kept, so every text that goes into it (attachments, step
titles, parameters, environment values) passes through ``redact`` first. Three nets, each cheap:
private key blocks by their PEM/OpenSSH armour, password values by the key names the fence
agents, cluster.conf, the CIB and command lines use, and the exact secrets the caller knows
(``secrets_of_lab``: the lab's key files and password environment variables).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from halab.lab.paths import LabPaths

MASK = "***"

# Environment variables whose values are secrets the harness may hand to a fence agent.
SECRET_ENV_VARS: tuple[str, ...] = ("HALAB_FENCE_PASSWORD",)
# Any other HALAB_* variable whose name says it holds a secret is treated the same way.
_SECRET_ENV_NAME = re.compile(r"^HALAB_\w*(?:PASSWORD|PASSWD|SECRET|TOKEN)\w*$")

# A private key block, or what is left of one when the text was cut before its END line.
_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)
# Key names that carry a password: passwd, password, fence_password, login-passwd, HALAB_FENCE_PASSWORD.
# Not passwd_script / password_script: those name a program, not a secret.
_KEY = r"(?<![\w-])(?:[\w.-]*[_.-])?(?:passwd|password|community)(?![\w-])"
# key=value, key: value, "key": "value", passwd="value" (XML attribute), key = 'value'.
_ASSIGNED = re.compile(
    rf"(?P<key>{_KEY})(?P<close>[\"']?)(?P<sep>[ \t]*[=:][ \t]*)"
    r"(?P<val>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"'<>,;&]+)",
    re.IGNORECASE,
)
# Command-line option: --password X, --passwd=X, --fence-password 'X', --community X.
_OPTION = re.compile(
    r"(?P<key>--[\w-]*(?:passwd|password|community))(?![\w-])(?P<sep>[ \t]+|=)"
    r"(?P<val>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"']+)",
    re.IGNORECASE,
)
# The CIB keeps agent parameters as <nvpair name="passwd" value="..."/> (attributes in any order).
_NVPAIR = re.compile(
    rf"(?P<head>name=(?P<q1>[\"'])(?:{_KEY})(?P=q1)\s+(?:id=(?:\"[^\"]*\"|'[^']*')\s+)?value=)"
    r"(?P<val>\"[^\"]*\"|'[^']*')",
    re.IGNORECASE,
)
_NVPAIR_VALUE_FIRST = re.compile(
    rf"(?P<head>value=)(?P<val>\"[^\"]*\"|'[^']*')(?P<tail>\s+(?:id=(?:\"[^\"]*\"|'[^']*')\s+)?"
    rf"name=(?P<q1>[\"'])(?:{_KEY})(?P=q1))",
    re.IGNORECASE,
)
# Short password options of fence agents and friends: fence_virsh -p PW, ipmitool -P PW, sshpass -p PW,
# snmp tools' -c COMMUNITY. Only on those command lines: `iscsiadm -p PORTAL` is no secret.
_SHORT_OPTION = re.compile(
    r"(?P<head>\b(?:fence_[\w-]+|ipmitool|sshpass|snmp\w+)\b[^\n|;&]*?\s-(?:p|P|c|-community)[ \t]*)"
    r"(?P<val>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"']+)",
)
# Lines of a multi-line secret that are long enough to be recognised on their own (key body lines).
_MIN_SECRET_LINE = 16


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with private keys, password values and each of ``secrets`` replaced by ``***``.

    Explicit secrets go first (longest first, so a key file is masked whole before its lines), then
    the key blocks and the password forms; nothing else in the text changes.
    """
    out = _mask_secrets(text, secrets)
    out = _KEY_BLOCK.sub(MASK, out)
    out = _NVPAIR.sub(lambda m: m["head"] + _masked_value(m["val"]), out)
    out = _NVPAIR_VALUE_FIRST.sub(lambda m: m["head"] + _masked_value(m["val"]) + m["tail"], out)
    out = _SHORT_OPTION.sub(lambda m: m["head"] + _masked_value(m["val"]), out)
    out = _OPTION.sub(lambda m: m["key"] + m["sep"] + _masked_value(m["val"]), out)
    return _ASSIGNED.sub(lambda m: m["key"] + m["close"] + m["sep"] + _masked_value(m["val"]), out)


def _masked_value(value: str) -> str:
    """Keep the quotes so a redacted XML attribute or JSON string is still well formed."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[0] + MASK + value[0]
    return MASK


def _mask_secrets(text: str, secrets: Iterable[str]) -> str:
    for secret in _variants(secrets):
        text = text.replace(secret, MASK)
    return text


def _variants(secrets: Iterable[str]) -> list[str]:
    """Every form a secret can appear in: whole, stripped, JSON-escaped, and its long lines."""
    found: set[str] = set()
    for raw in secrets:
        stripped = raw.strip()
        if not stripped:
            continue
        found.update({stripped, json.dumps(stripped)[1:-1]})
        found.update(line.strip() for line in stripped.splitlines() if len(line.strip()) >= _MIN_SECRET_LINE)
    return sorted(found, key=len, reverse=True)


def key_secrets(keys_dir: Path) -> list[str]:
    """The contents of the private key files in ``keys_dir`` (``*_ed25519``, not ``.pub``).

    Unreadable files are skipped: what we cannot read we cannot leak, and the key-block pattern
    still masks one that shows up in a command's output.
    """
    out: list[str] = []
    for path in sorted(keys_dir.glob("*_ed25519")):
        try:
            out.append(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return out


def env_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of the password variables (``SECRET_ENV_VARS`` and any HALAB_*PASSWORD* name)."""
    env = os.environ if environ is None else environ
    names = {n for n in env if n in SECRET_ENV_VARS or _SECRET_ENV_NAME.match(n)}
    return [env[n] for n in sorted(names) if env[n].strip()]


def secrets_of_lab(paths: LabPaths, environ: Mapping[str, str] | None = None) -> list[str]:
    """Everything secret the harness knows about a lab: its key files and password variables.

    Callers pass the result to ``redact`` (and the allure_io helpers); never print it.
    """
    return key_secrets(paths.ssh_key.parent) + env_secrets(environ)


class RedactingStream(io.TextIOBase):
    """A text stream that redacts every write: the CLI's stdout and stderr go through one."""

    def __init__(self, inner: TextIO, secrets: Iterable[str] = ()) -> None:
        self.inner = inner
        self.secrets = list(secrets)

    def write(self, text: str) -> int:
        self.inner.write(redact(text, self.secrets))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.inner, "encoding", "utf-8"))


@contextlib.contextmanager
def redacted_stdio(secrets: Iterable[str] = ()) -> Iterator[None]:
    """sys.stdout and sys.stderr redacted for the duration (every print of a command)."""
    known = list(secrets)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(saved[0], known), RedactingStream(saved[1], known)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


TEXT_SUFFIXES = (".json", ".txt", ".log", ".xml", ".properties", ".csv", ".html", ".conf", ".uri")
MAX_TREE_FILE = 64 * 2**20


def redact_tree(folder: Path, secrets: Iterable[str] = ()) -> int:
    """Redact every text file in `folder` in place (Allure results: what allure-pytest wrote by
    itself, such as captured output, exception messages and traces); returns the files changed."""
    known = list(secrets)
    changed = 0
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        if not path.is_file() or not path.name.endswith(TEXT_SUFFIXES) or path.stat().st_size > MAX_TREE_FILE:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        clean = redact(text, known)
        if clean != text:
            path.write_text(clean, encoding="utf-8")
            changed += 1
    return changed


def shorten_report(report: Any, excinfo: Any, full_trace: bool, gone: Iterable[str] = ()) -> None:
    """A test that failed on a HalabError (a lab that cannot be built, a cluster that does not come
    up) reports its one line, not a traceback through the harness; --full-trace keeps it. ``gone``:
    lab daemons that died under the run, named because they are the likelier cause."""
    from halab.errors import HalabError

    if excinfo is not None and not full_trace and isinstance(excinfo.value, HalabError):
        dead = sorted(gone)
        note = f" [lab daemon(s) no longer running: {', '.join(dead)}]" if dead else ""
        report.longrepr = f"{type(excinfo.value).__name__}: {excinfo.value}{note}"


def redact_report(report: Any, secrets: Iterable[str] = ()) -> None:
    """A pytest report with its traceback and captured output redacted (before anything, Allure
    included, reads it): a failing assert that printed a password shows ***."""
    known = list(secrets)
    longrepr = getattr(report, "longrepr", None)
    if longrepr is not None:
        text = str(longrepr)
        clean = redact(text, known)
        if clean != text:
            report.longrepr = clean
    sections = getattr(report, "sections", None)
    if sections:
        report.sections = [(title, redact(content, known)) for title, content in sections]


def redact_object(obj: Any, secrets: Iterable[str], _depth: int = 0) -> None:
    """Every string inside an allure result (its status message and trace, step names and their
    details, parameters, labels), redacted in place. Why: allure-pytest writes the failure message
    from the exception itself (``excinfo.exconly()``), not from the redacted pytest report, and the
    folder-wide pass at the session's end never runs after a crash or a SIGKILL."""
    if _depth > 50 or obj is None or isinstance(obj, (bool, int, float, bytes)):
        return
    known = list(secrets)
    items: Iterable[tuple[Any, Any]]
    if isinstance(obj, list):
        items = list(enumerate(obj))
    elif isinstance(obj, dict):
        items = list(obj.items())
    elif hasattr(obj, "__dict__"):
        items = list(vars(obj).items())
    else:
        return
    for key, value in items:
        if isinstance(value, str):
            clean = redact(value, known)
            if clean != value:
                if isinstance(obj, (list, dict)):
                    obj[key] = clean
                else:
                    setattr(obj, key, clean)
        else:
            redact_object(value, known, _depth + 1)

