#!/usr/bin/env bash
# PostgreSQL 15 server binaries for the integration suite (tests/integration/fixtures/postgres.py runs
# initdb + postgres from /usr/lib/postgresql/15/bin in a temp dir; nothing is started as a service here).
# Idempotent: does nothing when the binaries are already present.
set -euo pipefail
PG_BIN=/usr/lib/postgresql/15/bin
if [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/postgres" ] && [ -x "$PG_BIN/pg_dump" ]; then
  echo "postgres: PostgreSQL 15 already installed in $PG_BIN"
  exit 0
fi
SUDO=${SUDO-}
if [ "$(id -u)" != 0 ] && [ -z "$SUDO" ] && command -v sudo >/dev/null; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends postgresql-15 postgresql-client-15
test -x "$PG_BIN/initdb" || { echo "postgres: $PG_BIN/initdb still missing after install" >&2; exit 1; }
