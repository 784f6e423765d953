#!/usr/bin/env bash
# Mutation testing (mutmut): do the tests notice a planted bug in the modules that hold the
# rules? Each module is mutated in a checkout of HEAD of its own and tried against the tests
# named for it, on SQLite. Prints the score per module and every surviving mutant (see one
# with `cd <folder> && mutmut show NAME`); exits 1 when a module scores under 90 %.
# Slow (minutes for timing, hours for the policy): not part of CI.
#
#   bash scripts/mutation.sh                 every module below
#   bash scripts/mutation.sh timing workflow some of them
#   bash scripts/mutation.sh --fast access   one pytest session for all mutants (scripts/mutation_pass.py)
#
# --fast keeps its results in docs/mutation/NAME.json (committed): the next run tries only the
# mutants whose function changed since, or not judged yet, so a long module is done over
# several sittings and its score is of the code as it stands.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
"$VENV"/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
ROOT="$PWD"
VENV="$(cd "$VENV" && pwd)"  # the runs below start in another folder
PASS_AT=90

# name: the module, then the test files named for it.
declare -A MODULE TESTS
MODULE[timing]=coop/timing.py
TESTS[timing]="tests/test_timing.py tests/test_timing_vocabulary.py"
MODULE[access]=coop/access.py
TESTS[access]="tests/test_policy_table.py tests/test_policy.py tests/test_policy_holes.py tests/test_policy_parts.py tests/test_access_matrix.py tests/test_saved_views.py tests/test_data_requests.py tests/test_added_fields.py tests/test_invitations.py tests/test_history_display.py"
MODULE[tenancy]=coop/tenancy.py
TESTS[tenancy]="tests/test_tenancy_layer.py tests/test_policy.py tests/test_policy_holes.py tests/test_security.py"
MODULE[workflow]=coop/workflow.py
TESTS[workflow]="tests/test_workflow_table.py tests/test_workflow.py tests/test_journeys_workflow.py tests/test_partner_confirmation.py"
MODULE[importer]=coop/plan_io/importer.py
TESTS[importer]="tests/test_import_files.py tests/test_import_seed.py tests/test_import_web.py tests/test_import_atomic.py tests/test_import_similar.py tests/test_import_positions.py tests/test_import_cli.py tests/test_import_template.py tests/test_added_fields_import.py"
MODULE[base]=coop/views/base.py
# The base view serves every list and form: its killers are in the tests of pages, writes,
# the trash, saved views, search, sign-in (its redirect's `next`), labels (a view built in a
# test: its __init__ runs after the app's), look-ups (an id out of reach refused), added
# fields, history's authors, outcomes and files, and the view's own checks with the ORM guard
# detached; about 4 min clean in all.
TESTS[base]="tests/test_access_matrix.py tests/test_writes.py tests/test_bad_input.py tests/test_security.py tests/test_journeys_workflow.py tests/test_admin_forms.py tests/test_trash.py tests/test_pages_display.py tests/test_saved_views.py tests/test_added_fields_forms.py tests/test_history_display.py tests/test_search.py tests/test_page_queries.py tests/test_remark_form.py tests/test_partner_side.py tests/test_labels.py tests/test_scale.py tests/test_added_fields.py tests/test_added_fields_pages.py tests/test_history_actor.py tests/test_outcomes.py tests/test_uploads.py tests/test_view_layer.py"

fast=0
if [ "${1:-}" = "--fast" ]; then
  fast=1
  shift
fi
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(timing access tenancy workflow importer base)
failed=0
for name in "${names[@]}"; do
  if [ -z "${MODULE[$name]:-}" ]; then
    echo "Нет такого модуля: $name (есть: ${!MODULE[*]})" >&2
    exit 2
  fi
  work="$ROOT/test-artifacts/mutation/$name"
  git worktree remove --force "$work" 2>/dev/null || rm -rf "$work"
  git worktree add --quiet --detach "$work" HEAD
  tests=$(printf '"%s", ' ${TESTS[$name]})
  cat >>"$work/pyproject.toml" <<EOF

[tool.mutmut]
source_paths = ["coop"]
only_mutate = ["${MODULE[$name]}"]
pytest_add_cli_args_test_selection = [${tests%, }]
also_copy = ["app.py", "migrations", "tests", "babel.cfg"]
pytest_add_cli_args = ["-p", "no:xdist", "-p", "no:cacheprovider", "-q"]
# Each mutant's pytest sets the session up again (migrations, the demo): tens of CPU seconds
# that the tests' own durations do not count. The default limit, (tests + 1 s) × 15 × 2, sent
# SIGXCPU to every mutant only fast tests cover, and a timeout counts as caught.
timeout_multiplier = 2.0
timeout_constant = 120.0
EOF
  echo "== ${MODULE[$name]} against ${TESTS[$name]}"
  if [ $fast = 1 ]; then
    (cd "$work" && env -u DATABASE_URL "$VENV"/bin/python "$ROOT/scripts/mutation_pass.py" generate >generate.log 2>&1)
    # shellcheck disable=SC2086  # the test files, one word each
    # The results kept in the repository (docs/mutation/NAME.json): a run goes on where the last stopped.
    mkdir -p "$ROOT/docs/mutation"
    (cd "$work/mutants" && env -u DATABASE_URL PYTHONPATH="$ROOT/scripts" MUTATION_KEPT="$ROOT/docs/mutation/$name.json" \
      MUTATION_COMMIT="$(git -C "$work" rev-parse --short HEAD)" "$VENV"/bin/python -m pytest \
      --rootdir=. -p mutation_pass -p no:xdist -p no:cacheprovider -q ${TESTS[$name]} >../pass.log 2>&1 || true)
    "$VENV"/bin/python - "$work/mutants/mutation-pass.json" "$PASS_AT" "$work/survivors.txt" <<'EOF' || failed=1
import json, sys
found = json.load(open(sys.argv[1]))
results = found["mutants"]
statuses = [r["status"] for r in results.values()]
caught, total = statuses.count("killed"), len(statuses)
score = 100.0 * caught / total if total else 0.0
kept = sum(1 for r in results.values() if r.get("kept"))
print(f"   score: {score:.1f} %  ({caught} of {total} caught; survived {statuses.count('survived')}, "
      f"no tests {statuses.count('no tests')}, unsure {statuses.count('unsure')}, "
      f"not tried {statuses.count('not tried')}; {kept} judged in earlier runs; "
      f"clean after all: {found['clean_after']})")
left = [f"{name}: {r['status']}" for name, r in results.items() if r["status"] not in ("killed", "not tried")]
open(sys.argv[3], "w").write("\n".join(left) + "\n")
print("\n".join("   " + line for line in left))
sys.exit(0 if score >= float(sys.argv[2]) and found["clean_after"] else 1)
EOF
    continue
  fi
  (cd "$work" && env -u DATABASE_URL "$VENV"/bin/mutmut run >mutmut.log 2>&1 || true)
  (cd "$work" && "$VENV"/bin/mutmut export-cicd-stats >/dev/null && "$VENV"/bin/mutmut results >survivors.txt 2>&1 || true)
  score=$("$VENV"/bin/python - "$work/mutants/mutmut-cicd-stats.json" "$PASS_AT" <<'EOF'
import json, sys
stats = json.load(open(sys.argv[1]))
caught = stats["killed"] + stats["timeout"]
total = stats["total"]
score = 100.0 * caught / total if total else 0.0
print(f"{score:.1f}")
print(f"   {caught} of {total} mutants caught (killed {stats['killed']}, timed out {stats['timeout']}); "
      f"survived {stats['survived']}, no test {stats['no_tests']}, skipped {stats['skipped']}", file=sys.stderr)
EOF
)
  echo "   score: $score %  (folder: $work)"
  grep -E ": (survived|no tests)" "$work/survivors.txt" | sed 's/^ */   /' || true
  if ! awk -v s="$score" -v at="$PASS_AT" 'BEGIN { exit !(s >= at) }'; then
    failed=1
  fi
done
exit $failed
