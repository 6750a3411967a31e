#!/usr/bin/env bash
# Set up a checkout of lakehouse.platform on a fresh Debian/Ubuntu machine.
#   scripts/install.sh          controller only: .venv with requirements.txt (enough for the phase playbooks)
#   scripts/install.sh --test   also test requirements, the real services the integration suite runs
#                               (PostgreSQL, Ceph object gateway, MariaDB), kubectl and helm
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WITH_TESTS=false
[ "${1:-}" = "--test" ] && WITH_TESTS=true

log() { printf '\n== install: %s\n' "$*"; }

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)'; then
  echo "install: Python >= 3.11 is required (found $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PYTHON" -m venv .venv || { apt-get update -qq && apt-get install -y -qq python3-venv && "$PYTHON" -m venv .venv; }
fi
.venv/bin/python -m pip install -q --disable-pip-version-check uv==0.13.9
REQS=requirements.txt
$WITH_TESTS && REQS=tests/requirements.txt
log "python packages from $REQS"
.venv/bin/uv pip install -q --python .venv/bin/python -r "$REQS"
# uv installs without bytecode, and the tests run with PYTHONDONTWRITEBYTECODE=1: without this every
# module run would compile the kubernetes client's ~1,000 files again (import kubernetes: 5 s instead of 1 s).
# The bundled collections the playbooks never load are left alone (15,000 files, a minute of compiling).
log "byte-compiling the installed packages"
SITE=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
.venv/bin/python -m compileall -q -j 0 -x '/ansible_collections/' "$SITE" >/dev/null || true
for c in kubernetes/core amazon/aws community/postgresql; do
  [ -d "$SITE/ansible_collections/$c" ] && .venv/bin/python -m compileall -q -j 0 "$SITE/ansible_collections/$c" >/dev/null || true
done

# Make the checkout resolvable as lakehouse.platform (ansible.cfg: collections_path = ./collections).
mkdir -p collections/ansible_collections/lakehouse
ln -sfn ../../.. collections/ansible_collections/lakehouse/platform

if $WITH_TESTS; then
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; else SUDO=; fi
  export SUDO
  $SUDO apt-get update -qq || true
  for dep in scripts/install-test-deps.d/*.sh; do
    [ -e "$dep" ] || continue
    log "test dependency $(basename "$dep" .sh)"
    bash "$dep"
  done
fi
log "done"
