#!/usr/bin/env bash
# A real Apache Superset (SQLite metadata) for the integration suite: tests/integration/test_superset_database.py
# starts it on loopback and stops it by process group; nothing is started as a service here. It lives in its own
# venv, ${LAKEHOUSE_SUPERSET_VENV:-~/.cache/lakehouse/superset}, so its dependencies never move the pins of .venv.
# Pins: tests/requirements-superset.txt, every other package at tests/constraints-superset.txt.
# Besides the packages, a template metadata database is built once (superset db upgrade, fab create-admin,
# superset init: about 45 s of CPU); the test fixture copies it, so a start costs only the app's import (~8 s).
# Idempotent: does nothing when Superset is installed at the pinned version and the template exists.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${LAKEHOUSE_SUPERSET_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/lakehouse/superset}
REQS=tests/requirements-superset.txt
PYTHON=${PYTHON:-python3}
want() { grep -E "^$1(\[[^]]*\])?==" "$REQS" | sed -E 's/.*==//'; }
have() { "$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || true; }
TEMPLATE=$VENV/superset-template.db
# The test-only admin of the template (the fixture logs in with it; it never leaves this machine's loopback).
ADMIN_USER=admin
ADMIN_PASSWORD=lakehouse-test-admin
STAMP="$(want apache-superset) $ADMIN_USER"
if [ -x "$VENV/bin/python" ] && [ "$(have apache-superset)" = "$(want apache-superset)" ] \
    && [ "$(have pymysql)" = "$(want pymysql)" ] && [ -s "$TEMPLATE" ] \
    && [ "$(cat "$TEMPLATE.stamp" 2>/dev/null)" = "$STAMP" ]; then
  echo "superset: apache-superset $(have apache-superset) and its template database already in $VENV"
  exit 0
fi
mkdir -p "$(dirname "$VENV")"
[ -x "$VENV/bin/python" ] || .venv/bin/uv venv -q --python "$PYTHON" "$VENV"
echo "superset: installing $(grep -vE '^(#|$)' "$REQS" | tr '\n' ' ')into $VENV"
.venv/bin/uv pip install -q --python "$VENV/bin/python" -r "$REQS" -c tests/constraints-superset.txt
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/superset_config.py" <<CONFIG
SECRET_KEY = "lakehouse-template-only-secret-key"
SQLALCHEMY_DATABASE_URI = "sqlite:///$WORK/superset.db"
CONFIG
export SUPERSET_CONFIG_PATH=$WORK/superset_config.py FLASK_APP=superset SUPERSET_LOAD_EXAMPLES=no
"$VENV/bin/superset" db upgrade >"$WORK/log" 2>&1 || { tail -40 "$WORK/log"; exit 1; }
"$VENV/bin/superset" fab create-admin --username "$ADMIN_USER" --firstname Lakehouse --lastname Test \
  --email admin@lakehouse.test --password "$ADMIN_PASSWORD" >>"$WORK/log" 2>&1 || { tail -40 "$WORK/log"; exit 1; }
"$VENV/bin/superset" init >>"$WORK/log" 2>&1 || { tail -40 "$WORK/log"; exit 1; }
mv "$WORK/superset.db" "$TEMPLATE"
echo "$STAMP" > "$TEMPLATE.stamp"
echo "superset: apache-superset $(have apache-superset) with a template database in $VENV"
