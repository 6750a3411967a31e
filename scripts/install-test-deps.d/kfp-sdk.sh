#!/usr/bin/env bash
# The real Kubeflow Pipelines SDK (kfp) for the test that recompiles the shipped validation pipeline
# (tests/integration/test_kfp_pipeline_spec.py). Its own venv, ${LAKEHOUSE_KFP_SDK_VENV:-~/.cache/lakehouse/kfp-sdk}:
# kfp pins kubernetes<31 and would downgrade .venv's kubernetes 33 (kubernetes.core's). Pins:
# tests/requirements-kfp-sdk.txt. Idempotent: does nothing when kfp is installed at the pinned version.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${LAKEHOUSE_KFP_SDK_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/lakehouse/kfp-sdk}
REQS=tests/requirements-kfp-sdk.txt
PYTHON=${PYTHON:-python3}
want=$(grep -E '^kfp==' "$REQS" | sed -E 's/.*==//')
have=$("$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('kfp'))" 2>/dev/null || true)
if [ "$have" = "$want" ]; then
  echo "kfp-sdk: kfp $have already in $VENV"
  exit 0
fi
mkdir -p "$(dirname "$VENV")"
[ -x "$VENV/bin/python" ] || .venv/bin/uv venv -q --python "$PYTHON" "$VENV"
echo "kfp-sdk: installing $(grep -vE '^(#|$)' "$REQS" | tr '\n' ' ')into $VENV"
.venv/bin/uv pip install -q --python "$VENV/bin/python" -r "$REQS"
"$VENV/bin/python" -c "import kfp; print('kfp-sdk: kfp', kfp.__version__)"
