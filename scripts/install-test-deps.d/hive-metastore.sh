#!/usr/bin/env bash
# A real Hive Metastore 2.3 for the integration suite (tests/integration/fixtures/hive_metastore.py runs it as a
# Java process on loopback; nothing is started as a service here). It needs:
#   - a Java runtime (17; Debian's openjdk-17-jre-headless when no java is on PATH)
#   - the PostgreSQL JDBC driver, /usr/share/java/postgresql.jar (Debian's libpostgresql-jdbc-java)
#   - the Hive Metastore, DataNucleus and Hadoop jars pyspark ships in pyspark/jars (pyspark is pinned in
#     tests/requirements.txt; installed into .venv here only if that step was skipped)
#   - s3a: hadoop-aws-3.3.1.jar and aws-java-sdk-bundle-1.11.901.jar, taken from the PyPI sdist
#     sagemaker_pyspark==1.4.5 (deps/jars/) into ${LAKEHOUSE_HMS_CACHE:-~/.cache/lakehouse/hive-metastore}/jars
# Idempotent: does nothing when every piece is present.
set -euo pipefail
cd "$(dirname "$0")/../.."
SUDO=${SUDO-}
if [ "$(id -u)" != 0 ] && [ -z "$SUDO" ] && command -v sudo >/dev/null; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
PY=${PYTHON_VENV:-.venv/bin/python}
CACHE=${LAKEHOUSE_HMS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lakehouse/hive-metastore}
JARS=$CACHE/jars
S3A_JARS="hadoop-aws-3.3.1.jar aws-java-sdk-bundle-1.11.901.jar"
SDIST=sagemaker_pyspark==1.4.5

packages=""
command -v java >/dev/null 2>&1 || packages="$packages openjdk-17-jre-headless"
[ -e /usr/share/java/postgresql.jar ] || packages="$packages libpostgresql-jdbc-java"
if [ -n "$packages" ]; then
  echo "hive-metastore: installing$packages"
  # the JRE's postinst wants the man directory that slim images drop
  $SUDO mkdir -p /usr/share/man/man1
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $packages
fi

pyspark_jars() {
  "$PY" - <<'PY'
import importlib.util, os, sys
spec = importlib.util.find_spec("pyspark")
sys.exit(1) if spec is None else print(os.path.join(list(spec.submodule_search_locations)[0], "jars"))
PY
}
if ! dir=$(pyspark_jars) || ! ls "$dir"/hive-metastore-2.3.*.jar >/dev/null 2>&1; then
  pin=$(grep -E '^pyspark==' tests/requirements.txt || echo pyspark==4.3.0)
  echo "hive-metastore: installing $pin into .venv"
  .venv/bin/uv pip install -q --python "$PY" "$pin"
  dir=$(pyspark_jars)
fi

missing=""
for jar in $S3A_JARS; do [ -s "$JARS/$jar" ] || missing="$missing $jar"; done
if [ -n "$missing" ]; then
  echo "hive-metastore: fetching$missing from the $SDIST sdist"
  mkdir -p "$JARS"
  work=$(mktemp -d "$CACHE/download.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  "$PY" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
    -d "$work" "$SDIST"
  for jar in $missing; do
    tar -xzf "$work"/sagemaker_pyspark-1.4.5.tar.gz -O "sagemaker_pyspark-1.4.5/deps/jars/$jar" > "$work/$jar"
    mv "$work/$jar" "$JARS/$jar"  # atomically: a half-written jar never counts as present
  done
fi

java -version 2>&1 | head -1 | sed 's/^/hive-metastore: /'
echo "hive-metastore: pyspark jars in $dir; s3a jars in $JARS; JDBC /usr/share/java/postgresql.jar"
