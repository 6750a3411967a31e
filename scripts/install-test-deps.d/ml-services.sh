#!/usr/bin/env bash
# A real MLflow tracking server and a real Ray head for the integration suite
# (tests/integration/fixtures/ml_services.py starts them on loopback and stops them by PID; nothing is
# started as a service here). They live in their own venv, ${LAKEHOUSE_ML_SERVICES_VENV:-~/.cache/lakehouse/ml-services},
# so their dependencies never change the pins of .venv. Pins: tests/requirements-ml-services.txt.
# Idempotent: does nothing when both are installed at the pinned versions.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${LAKEHOUSE_ML_SERVICES_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/lakehouse/ml-services}
REQS=tests/requirements-ml-services.txt
PYTHON=${PYTHON:-python3}
want() { grep -E "^$1(\[[^]]*\])?==" "$REQS" | sed -E 's/.*==//'; }
have() { "$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || true; }
# A SQLite tracking store already migrated to this MLflow's schema: the test fixture copies it, so the server
# starts without running the migrations (about 10 s of CPU on every start otherwise).
TEMPLATE=$VENV/mlflow-template.db
if [ -x "$VENV/bin/python" ] && [ "$(have mlflow)" = "$(want mlflow)" ] && [ "$(have ray)" = "$(want ray)" ] \
    && [ -s "$TEMPLATE" ]; then
  echo "ml-services: mlflow $(have mlflow) and ray $(have ray) already in $VENV"
  exit 0
fi
mkdir -p "$(dirname "$VENV")"
[ -x "$VENV/bin/python" ] || .venv/bin/uv venv -q --python "$PYTHON" "$VENV"
echo "ml-services: installing $(grep -vE '^(#|$)' "$REQS" | tr '\n' ' ')into $VENV"
.venv/bin/uv pip install -q --python "$VENV/bin/python" -r "$REQS"
rm -f "$TEMPLATE.tmp"
MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false "$VENV/bin/mlflow" db upgrade "sqlite:///$TEMPLATE.tmp" >/dev/null 2>&1
mv "$TEMPLATE.tmp" "$TEMPLATE"
"$VENV/bin/mlflow" --version | sed 's/^/ml-services: /'
"$VENV/bin/ray" --version | sed 's/^/ml-services: /'
