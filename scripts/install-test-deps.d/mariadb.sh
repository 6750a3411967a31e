#!/usr/bin/env bash
# MariaDB server binaries for the integration suite (tests/integration/fixtures/mariadb.py runs
# mariadb-install-db + mariadbd in a temp datadir on a loopback port; no service is started here).
# Idempotent: does nothing when the binaries are already present.
set -euo pipefail
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
if have mariadbd && have mariadb-install-db; then
  echo "mariadb: server already installed"
  exit 0
fi
SUDO=${SUDO-}
if [ "$(id -u)" != 0 ] && [ -z "$SUDO" ] && command -v sudo >/dev/null; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
# The package's postinst starts a system service when it can; nothing in the tests uses it, and
# policy-rc.d is the Debian way to say "do not start services" during an install.
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod +x "$POLICY"
  CREATED_POLICY=1
fi
cleanup() { if [ -n "$CREATED_POLICY" ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends mariadb-server
have mariadbd || { echo "mariadb: mariadbd still missing after install" >&2; exit 1; }
