#!/usr/bin/env bash
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# `make test`: run the given make targets (stages) one after another, stop at the first that fails, and print each
# stage's wall time at the end. Exits with the failing stage's status (0 when all passed), so .ci/run fails with it.
#
# VAULTLOCK_STAGES_TARBALL: the tarball that `make build` writes. Once a stage that builds it (build, galaxy-import)
# has passed, later stages get it as VAULTLOCK_COLLECTION_TARBALL: the integration tests install that tarball instead
# of building their own, so one make test builds the collection once (make install's own test aside).
set -u
cd "$(dirname "$0")/../.."
MAKE=${MAKE:-make}

now() { date +%s.%N; }
names=()
times=()
marks=()
failed=
status=0
started=$(now)
for stage in "$@"; do
    echo "=== make $stage"
    begin=$(now)
    "$MAKE" --no-print-directory "$stage"
    status=$?
    names+=("$stage")
    times+=("$(echo "$(now) $begin" | awk '{printf "%.1f", $1 - $2}')")
    if [ "$status" -ne 0 ]; then
        marks+=("FAILED (exit $status)")
        failed=$stage
        break
    fi
    marks+=("ok")
    case $stage in
        build|galaxy-import)
            if [ -n "${VAULTLOCK_STAGES_TARBALL:-}" ] && [ -f "$VAULTLOCK_STAGES_TARBALL" ]; then
                export VAULTLOCK_COLLECTION_TARBALL=$VAULTLOCK_STAGES_TARBALL
            fi
            ;;
    esac
done
total=$(echo "$(now) $started" | awk '{printf "%.1f", $1 - $2}')

echo
echo "make test: wall time per stage"
check=0.0
for i in "${!names[@]}"; do
    printf '  %-14s %8s s  %s\n' "${names[$i]}" "${times[$i]}" "${marks[$i]}"
    case ${names[$i]} in
        venv|sanity|lint|units) check=$(echo "$check ${times[$i]}" | awk '{printf "%.1f", $1 + $2}') ;;
    esac
done
printf '  %-14s %8s s  (venv + sanity + lint + units: make check)\n' "check" "$check"
printf '  %-14s %8s s\n' "total" "$total"
if [ -n "$failed" ]; then
    skipped=$(( $# - ${#names[@]} ))
    echo "make test: FAILED at stage $failed (exit $status); $skipped later stage(s) not run"
    exit "$status"
fi
echo "make test: all ${#names[@]} stages passed"
