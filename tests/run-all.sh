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

run_integration() {
  # Tests marked `latency` assert how soon a change is seen (a watch within about a second, a grace
  # respected); they run first, alone, so the figures are the code's and not a loaded machine's.
  pytest tests/integration -q -p no:cacheprovider -m latency --durations=5 \
    --junitxml=.tmp/results/integration-latency.xml
  local latency_rc=$?
  # The rest spend most of their time waiting on ansible-playbook runs and simulated operators, so three
  # workers overlap those waits on two cores; --dist loadfile keeps each file's module-scoped fixtures
  # (simulators) in one worker. Every worker starts its own servers on its own free ports.
  pytest tests/integration -q -p no:cacheprovider -m "not latency" -n "${LAKEHOUSE_TEST_WORKERS:-3}" \
    --dist loadfile --durations=15 --junitxml=.tmp/results/integration.xml
  local rc=$?
  [ $latency_rc = 0 ] && [ $rc = 0 ]
}

stage lint       ansible-lint --profile production
stage sanity     run_sanity
stage unit       pytest tests/unit -q -p no:cacheprovider --junitxml=.tmp/results/unit.xml
stage integration run_integration
if ls molecule/*/molecule.yml >/dev/null 2>&1; then
  for scenario in molecule/*/molecule.yml; do
    s=$(basename "$(dirname "$scenario")")
    stage "molecule:$s" molecule test -s "$s"
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
