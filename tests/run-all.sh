#!/usr/bin/env bash
# The one test command: every check the collection has, failing on any failure.
#   1. ansible-lint --profile production
#   2. ansible-test sanity (on a copy at $TMPDIR/lakehouse-sanity/ansible_collections/lakehouse/platform)
#   3. pytest unit tests
#   4. pytest integration suite (starts/stops its own Kubernetes API test server, operator simulators,
#      PostgreSQL, Ceph object gateway, MariaDB — 127.0.0.1 only, stopped by PID)
#   5. molecule scenarios
# Run scripts/install.sh --test first (README command (b) does both). Arguments limit the run to the
# named stages (lint sanity unit integration molecule) while developing; CI passes none.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
export PATH=$VENV/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$ROOT/collections
export PYTHONDONTWRITEBYTECODE=1
export NO_COLOR=1 ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0  # plain CI logs
mkdir -p .tmp/results
rm -f .tmp/results/*.xml

declare -a STAGES=() RESULTS=() TIMES=()
ONLY=" $* "  # optional stage names to run (e.g. `tests/run-all.sh sanity unit`); default: all
stage() {  # stage <name> <command...>
  local name=$1; shift
  if [ "$ONLY" != "  " ] && [[ "$ONLY" != *" ${name%%:*} "* ]]; then return 0; fi
  printf '\n==== %s: %s\n' "$name" "$*"
  local start=$SECONDS
  "$@"
  local rc=$?
  STAGES+=("$name"); RESULTS+=("$rc"); TIMES+=($((SECONDS - start)))
  printf '==== %s: %s (%ss)\n' "$name" "$([ $rc = 0 ] && echo ok || echo "FAILED rc=$rc")" $((SECONDS - start))
}

run_sanity() {
  # ansible-test wants the collection at ansible_collections/<ns>/<name>/ (a symlink does not work:
  # it resolves the working directory), so test a copy of the tracked (and new, unignored) files,
  # with the bundled collections' namespaces linked beside it for imports.
  # Not under a dot-directory: ansible-test skips every target whose path has one.
  local tree=${TMPDIR:-/tmp}/lakehouse-sanity
  local dest=$tree/ansible_collections/lakehouse/platform
  rm -rf "$tree"; mkdir -p "$dest"
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && { mkdir -p "$dest/$(dirname "$f")"; cp -P "$f" "$dest/$f"; }
  done
  local site; site=$("$VENV/bin/python" -c 'import ansible_collections.kubernetes, os; print(os.path.dirname(os.path.dirname(ansible_collections.kubernetes.__path__[0])))')
  for ns in kubernetes amazon community; do ln -sfn "$site/ansible_collections/$ns" "$tree/ansible_collections/$ns"; done
  # ansible-test bootstraps pip in its venvs with a get-pip script it downloads from a host this
  # network cannot reach; it uses a cached copy first, so cache a stand-in built on ensurepip.
  local pipver; pipver=$("$VENV/bin/python" -c 'import re,ansible_test,os;p=os.path.join(os.path.dirname(ansible_test.__file__),"_internal","python_requirements.py");print(re.search(r"pip=\x27([0-9.]+)\x27",open(p).read()).group(1))')
  mkdir -p ~/.ansible/test/cache
  cp "$ROOT/tests/sanity/get_pip_standin.py" ~/.ansible/test/cache/get_pip_${pipver//./_}.py
  # pip's download chatter from --requirements is filtered out; results and errors stay.
  (cd "$dest" && ansible-test sanity --venv --requirements --python 3.11 --color no 2>&1) |
    grep -v -E '^(Collecting |  Downloading |WARNING: Location |Installing collected|Successfully (installed|uninstalled)|Looking in |Requirement already| +━|  Attempting uninstall|    (Found existing|Uninstalling))'
  return "${PIPESTATUS[0]}"
}

count_pytest() {  # sum tests/failures/errors/skipped over the junit files
  "$VENV/bin/python" - .tmp/results/*.xml <<'PY'
import sys, xml.etree.ElementTree as ET
t = f = s = 0
failures = []
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        continue
    for suite in ([root] if root.tag == "testsuite" else root.iter("testsuite")):
        t += int(suite.get("tests", 0)); s += int(suite.get("skipped", 0))
        f += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        for case in suite.iter("testcase"):
            for bad in list(case.findall("failure")) + list(case.findall("error")):
                msg = " ".join((bad.get("message") or "").split())[:300]
                failures.append(f"{case.get('classname')}::{case.get('name')} ({case.get('time')}s): {msg}")
# the log's tail is what a CI summary shows: name every failed test there
for line in failures[:25]:
    print(f"  FAILED {line}")
print(f"pytest: {t - f - s} passed, {f} failed, {s} skipped")
PY
}

run_latency() {
  # Tests marked `latency` assert how soon a change is seen (a watch within about a second, a grace
  # respected); they run first, alone, so the figures are the code's and not a loaded machine's.
  pytest tests/integration -q -p no:cacheprovider -m latency --durations=5 \
    --junitxml=.tmp/results/integration-latency.xml
}

run_integration() {
  # The rest spend most of their time waiting on ansible-playbook runs and simulated operators, so three
  # workers overlap those waits on two cores; --dist loadfile keeps each file's module-scoped fixtures
  # (simulators) in one worker. Every worker starts its own servers on its own free ports.
  pytest tests/integration -q -p no:cacheprovider -m "not latency" -n "${LAKEHOUSE_TEST_WORKERS:-3}" \
    --dist loadfile --durations=15 --junitxml=.tmp/results/integration.xml
}

run_molecule_scenarios() {  # every scenario in turn, each with its own log, rc and time (shown by molecule_result)
  for scenario in molecule/*/molecule.yml; do
    local s; s=$(basename "$(dirname "$scenario")")
    local start=$SECONDS
    molecule test -s "$s" > ".tmp/results/molecule-$s.log" 2>&1
    echo $? > ".tmp/results/molecule-$s.rc"
    echo $((SECONDS - start)) > ".tmp/results/molecule-$s.time"
  done
}
molecule_result() {  # molecule_result <scenario>: waits for the background scenarios, prints one, returns its rc
  [ -n "${BG_PID[molecule]:-}" ] && wait "${BG_PID[molecule]}"
  cat ".tmp/results/molecule-$1.log"
  echo "(ran in the background beside the integration suite, $(cat ".tmp/results/molecule-$1.time" 2>/dev/null)s)"
  return "$(cat ".tmp/results/molecule-$1.rc" 2>/dev/null || echo 1)"
}

# ansible-test sanity and ansible-lint each keep about one core busy for a minute or more: sanity runs in the
# background while lint runs, its log printed as its own stage once both are done.
in_background() {  # in_background <name> <command...>: start a stage's command, its output kept for later
  local name=$1; shift
  if [ "$ONLY" != "  " ] && [[ "$ONLY" != *" ${name%%:*} "* ]]; then return 0; fi
  BG_START[$name]=$SECONDS
  ( "$@" > ".tmp/results/$name.log" 2>&1; echo $? > ".tmp/results/$name.rc" ) &
  BG_PID[$name]=$!
}
from_background() {  # the stage function of a command in_background started: waits, prints, returns its rc
  local name=$1
  wait "${BG_PID[$name]}"
  cat ".tmp/results/$name.log"
  echo "(ran in the background for $((SECONDS - BG_START[$name]))s)"
  return "$(cat ".tmp/results/$name.rc")"
}
declare -A BG_PID=() BG_START=()
in_background sanity run_sanity
stage lint       ansible-lint --profile production
[ -n "${BG_PID[sanity]:-}" ] && stage sanity from_background sanity
# two workers: the unit tests are independent (each uses its own temporary directory)
stage unit       pytest tests/unit -q -p no:cacheprovider -n 2 --junitxml=.tmp/results/unit.xml
stage integration:latency run_latency
# The molecule scenarios render only (no cluster, no timing): they run beside the integration workers, whose
# time goes mostly into waiting.
if ls molecule/*/molecule.yml >/dev/null 2>&1; then
  rm -f .tmp/results/molecule-*
  in_background molecule run_molecule_scenarios
fi
stage integration run_integration
if [ -n "${BG_PID[molecule]:-}" ]; then
  for scenario in molecule/*/molecule.yml; do
    s=$(basename "$(dirname "$scenario")")
    stage "molecule:$s" molecule_result "$s"
  done
fi

printf '\n==== summary\n'
failed=0
for i in "${!STAGES[@]}"; do
  printf '  %-28s %-7s %5ss\n' "${STAGES[$i]}" "$([ "${RESULTS[$i]}" = 0 ] && echo ok || echo FAILED)" "${TIMES[$i]}"
  [ "${RESULTS[$i]}" = 0 ] || failed=$((failed + 1))
done
echo "stages: $(( ${#STAGES[@]} - failed )) passed, $failed failed"
count_pytest
[ $failed = 0 ]
