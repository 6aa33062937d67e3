#!/usr/bin/env bash
# Idempotent set-up of everything halab needs on a fresh Debian 12 machine (run as root):
# Debian packages, the virtualenv at .venv with halab installed, and the npm report tools.
# A second run only checks stamps and returns in a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
say() { printf '[setup] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "[setup] halab needs root (network namespaces, libvirt, tgtd); run as root" >&2
    exit 2
fi

# 1. Debian packages, only when one is missing.
mapfile -t pkgs < <(grep -v '^\s*#' scripts/debian-packages.txt | sed '/^\s*$/d')
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    # no package starts its daemon in the root namespace (tgtd, sshd, libvirtd, corosync-qnetd):
    # halab starts its own inside each lab's netns. policy-rc.d 101 = "do not start" (invoke-rc.d,
    # deb-systemd-invoke); one the host already has is left alone.
    guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        guard=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' > "$guard" && chmod 755 "$guard"
        trap 'rm -f "$guard"' EXIT
    fi
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    if [ -n "$guard" ]; then rm -f "$guard"; fi
else
    say "Debian packages present"
fi

# 2. The virtualenv, rebuilt only when pyproject.toml changes.
stamp=.venv/.halab-stamp
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "creating .venv and installing halab (editable) with its dependencies"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    # (this machine's pip.conf names local mirrors that may be absent: drop those warnings only)
    .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v "is ignored: it is neither" || true
    .venv/bin/pip install -q -e ".[dev]" 2>&1 | grep -v "is ignored: it is neither" || true
    .venv/bin/python -c "import halab, libvirt, fabric, allure, lxml, matplotlib" \
        || { echo "[setup] the Python dependencies did not install (see above)" >&2; exit 2; }
    echo "$want" > "$stamp"
else
    say ".venv up to date"
fi

# 3. npm tools for the offline Allure report.
nstamp=reports/node_modules/.halab-stamp
nwant=$(sha256sum reports/package.json | cut -c1-16)
if [ "$(cat "$nstamp" 2>/dev/null)" != "$nwant" ]; then
    say "installing the Allure report generator (npm)"
    (cd reports && npm install --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$nwant" > "$nstamp"
else
    say "npm report tools up to date"
fi
# 4. The guest image of the default lab, built from Debian packages once and cached by content.
.venv/bin/halab image | sed 's/^/[setup] /'
say "done: $ROOT/.venv/bin/halab"
