"""Report-wide files in allure-results: environment.properties and categories.json.

environment.properties answers "what exactly was tested, on what": stack and package versions,
accelerator, kernel, config hash, run seed (the lead supplies them; ``host_facts`` reads the host's
part). categories.json sorts failures into the kinds ops act on differently (``Category``, defined
once with the judge); it matches on the verdict's headline prefix and on the "broken" status every
non-assertion error (LabError, ...) gets.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from halab.errors import HalabError
from halab.observe.verdict import Category
from halab.proc import run as bounded_run
from halab.report.redact import redact
from halab.spec import LabSpec

ENVIRONMENT_FILE = "environment.properties"
CATEGORIES_FILE = "categories.json"
COMMAND_TIMEOUT_S = 5.0

# (property, command): the first line of the command's output, version numbers only where possible.
HOST_COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("qemu", ("qemu-system-x86_64", "--version")),
    ("libvirt", ("libvirtd", "--version")),
    ("tgt", ("tgtadm", "--version")),
)


def _prefix_regex(prefix: str) -> str:
    """Allure matches the whole message (Java ``matches``): the prefix at its start, after the
    exception name allure-pytest puts first ("AssertionError: ", "Failed: ")."""
    return f"(?s)(?:[\\w.]+: )?{re.escape(prefix)}.*"


# One entry per category, in the headline's precedence (allure takes the first that matches);
# non-assertion errors (LabError, timeouts: status "broken") are harness errors too.
CATEGORIES: tuple[dict[str, Any], ...] = (
    *({"name": c.title, "matchedStatuses": ["failed"], "messageRegex": _prefix_regex(c.prefix),
       "description": c.description} for c in Category),
    {"name": Category.HARNESS_ERROR.title, "matchedStatuses": ["broken"],
     "description": Category.HARNESS_ERROR.description},
)


def write_categories(results_dir: Path) -> Path:
    """Write categories.json into ``results_dir`` (created if missing)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / CATEGORIES_FILE
    path.write_text(json.dumps(list(CATEGORIES), indent=2) + "\n", encoding="utf-8")
    return path


def write_environment(results_dir: Path, props: Mapping[str, str], secrets: Iterable[str] = ()) -> Path:
    """Write environment.properties (Java properties syntax, keys sorted, values redacted)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    secrets = tuple(secrets)
    lines = [f"{_escape(str(k), key=True)}={_escape(redact(str(v), secrets))}"
             for k, v in sorted(props.items())]
    path = results_dir / ENVIRONMENT_FILE
    path.write_text("".join(line + "\n" for line in lines), encoding="ascii")
    return path


def _escape(text: str, key: bool = False) -> str:
    """java.util.Properties escaping: backslash, line breaks, separators in keys, non-ASCII as \\uXXXX."""
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\n\r\t\f":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f"}[ch])
        elif (key and ch in " =:#!") or (ch == " " and i == 0) or (i == 0 and ch in "#!"):
            out.append("\\" + ch)
        elif ord(ch) > 0x7E or ord(ch) < 0x20:
            out.append("".join(f"\\u{unit:04x}" for unit in _utf16(ch)))
        else:
            out.append(ch)
    return "".join(out)


def _utf16(ch: str) -> Sequence[int]:
    data = ch.encode("utf-16-be")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def read_environment(path: Path) -> dict[str, str]:
    """Read back a file ``write_environment`` wrote (tests and the bench use it)."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="ascii").splitlines():
        key, value = _split_property(line)
        out[_unescape(key)] = _unescape(value)
    return out


def _split_property(line: str) -> tuple[str, str]:
    i = 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == "=":
            return line[:i], line[i + 1:]
        i += 1
    return line, ""


_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "f": "\f"}


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            if text[i + 1] == "u":
                out.append(chr(int(text[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(_UNESCAPE.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16")


def host_facts(timeout: float = COMMAND_TIMEOUT_S) -> dict[str, str]:
    """Kernel, python, qemu, libvirt and tgt versions of this host ("not installed" when absent)."""
    facts = {"kernel": platform.release(), "python": platform.python_version()}
    for name, cmd in HOST_COMMANDS:
        facts[name] = _version(cmd, timeout)
    return facts


def _version(cmd: Sequence[str], timeout: float) -> str:
    try:
        done = bounded_run(cmd, timeout=timeout)
    except FileNotFoundError:
        return "not installed"
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"unknown ({type(err).__name__})"
    lines = (done.stdout or done.stderr).strip().splitlines()
    if done.returncode != 0 or not lines:
        return f"unknown (exit {done.returncode})"
    return _short_version(lines[0])


def _short_version(line: str) -> str:
    """'QEMU emulator version 7.2.22 (Debian ...)' -> '7.2.22 (Debian ...)'; a bare number stays."""
    m = re.search(r"\d+(?:\.\d+)+.*", line)
    return m[0].strip() if m else line.strip()


def config_hash(spec: LabSpec, length: int = 12) -> str:
    """A short stable hash of everything that decides the prediction: the spec without its path,
    plus the cluster.conf it points to. Two runs with the same hash tested the same configuration."""
    data = dataclasses.asdict(spec)
    data.pop("path", None)
    blob = json.dumps(data, sort_keys=True, default=str).encode()
    digest = hashlib.sha256(blob)
    conf = _cluster_conf(spec)
    if conf is not None:
        digest.update(b"\0cluster.conf\0" + conf)
    for key in ("cib", "corosync"):  # the pacemaker design's own files
        rel = spec.stacks.get("pacemaker", {}).get(key)
        path = spec.path.parent / str(rel) if rel else None
        if path is not None and path.is_file():
            digest.update(f"\0{key}\0".encode() + path.read_bytes())
    return digest.hexdigest()[:length]


def _cluster_conf(spec: LabSpec) -> bytes | None:
    try:
        return spec.cluster_conf_path().read_bytes()
    except (HalabError, OSError):
        return None
