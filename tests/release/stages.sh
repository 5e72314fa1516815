#!/usr/bin/env bash
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# `make test` and `make check`: run make targets (stages) step by step, stop at the first stage that fails, and print
# each stage's wall time at the end. Exits with the failing stage's status (0 when all passed), so .ci/run fails with it.
#
#   stages.sh [--name NAME] STEP...
#
# A STEP is one stage (`venv`), or lanes separated by ` | ` that run at the same time, each lane its stages one after
# another: `"sanity | lint units"` runs sanity beside lint-then-units, so a single-core stage uses the idle core.
# A step ends when all its lanes have passed; when a stage fails, the stages still running in the other lanes are
# stopped (their whole process group) and no later step runs.
#
# Every stage's output goes to tests/output/stages/STAGE.log. A stage that is a step of its own also prints its output
# as it runs; the stages of a step with lanes print one line when they start and one when they end (their outputs would
# interleave), and a failing one's log is printed then.
#
# VAULTLOCK_STAGES_TARBALL: the tarball that `make build` writes. Once a stage that builds it (build, or galaxy-import
# when it is handed none) has passed, the later stages of its lane and the later steps get it as
# VAULTLOCK_COLLECTION_TARBALL: galaxy-import then checks that file without building, and the integration tests install
# it instead of building their own, so one make test builds the collection once (make install's own test aside). The
# runner notes the tarball's checksum when it hands it on and fails the run if the file changed before the end (a stage
# that built it again while another read it).
set -u
cd "$(dirname "$0")/../.."
MAKE=${MAKE:-make}
LOGS=${VAULTLOCK_STAGES_LOGS:-tests/output/stages}
# How many lines of a failing lane stage's log to print (the whole log stays in LOGS).
TAIL_LINES=${VAULTLOCK_STAGES_TAIL:-200}

now() { date +%s.%N; }
tarball_sum=    # the handed tarball's checksum when it was handed on (see VAULTLOCK_STAGES_TARBALL above)
# After a stage passed: the tarball it built, for what runs after it (see VAULTLOCK_STAGES_TARBALL above).
pass_tarball() {
    case $1 in
        build|galaxy-import)
            if [ -n "${VAULTLOCK_STAGES_TARBALL:-}" ] && [ -f "$VAULTLOCK_STAGES_TARBALL" ]; then
                export VAULTLOCK_COLLECTION_TARBALL=$VAULTLOCK_STAGES_TARBALL
                [ -z "$tarball_sum" ] && tarball_sum=$(cksum < "$VAULTLOCK_COLLECTION_TARBALL")
            fi
            ;;
    esac
}
since() { echo "$(now) $1" | awk '{printf "%.1f", $1 - $2}'; }

# One lane of a step: `stages.sh --lane DIR STAGE...`, started by the step in a process group of its own. Writes each
# stage's name to DIR/started when it starts and "STAGE STATUS SECONDS" to DIR/results when it ends, and stops at the
# first stage that fails.
if [ "${1:-}" = --lane ]; then
    dir=$2
    shift 2
    for stage in "$@"; do
        echo "$stage" >> "$dir/started"
        echo "=== make $stage: started (output in $LOGS/$stage.log)"
        begin=$(now)
        "$MAKE" --no-print-directory "$stage" > "$LOGS/$stage.log" 2>&1 < /dev/null
        status=$?
        took=$(since "$begin")
        echo "$stage $status $took" >> "$dir/results"
        if [ "$status" -ne 0 ]; then
            echo "=== make $stage: FAILED (exit $status) after $took s"
            exit "$status"
        fi
        echo "=== make $stage: ok ($took s)"
        pass_tarball "$stage"
    done
    exit 0
fi

name=test
if [ "${1:-}" = --name ]; then
    name=$2
    shift 2
fi
mkdir -p "$LOGS"
work=$(mktemp -d "${TMPDIR:-/tmp}/vaultlock-stages-XXXXXX")

declare -A took=() mark=()
order=()        # every stage, in the order given
steps=()        # each step's text and wall time, for the table
failed=
status=0
lanes=()        # process groups of the running step's lanes

stop_lanes() {
    local pid
    for pid in "${lanes[@]}"; do
        kill -TERM -- "-$pid" 2> /dev/null
    done
    for pid in "${lanes[@]}"; do
        wait "$pid" 2> /dev/null
    done
    lanes=()
}
interrupted() {
    echo "make $name: interrupted; stopping the running stages"
    stop_lanes
    rm -rf "$work"
    exit 130
}
trap interrupted INT TERM

for step in "$@"; do
    for stage in ${step//|/ }; do
        order+=("$stage")
    done
done

started=$(now)
for step in "$@"; do
    [ -n "$failed" ] && break
    begin=$(now)
    if [[ $step != *"|"* ]]; then
        for stage in $step; do
            echo "=== make $stage"
            stage_begin=$(now)
            "$MAKE" --no-print-directory "$stage" 2>&1 | tee "$LOGS/$stage.log"
            status=${PIPESTATUS[0]}
            took[$stage]=$(since "$stage_begin")
            if [ "$status" -ne 0 ]; then
                mark[$stage]="FAILED (exit $status)"
                failed=$stage
                break
            fi
            mark[$stage]=ok
        done
    else
        IFS='|' read -r -a parts <<< "$step"
        declare -A lane_of=()
        results="$work/results"
        : > "$results"
        : > "$work/started"
        for part in "${parts[@]}"; do
            read -r -a stages <<< "$part"
            [ "${#stages[@]}" -eq 0 ] && continue
            # set -m: the lane gets a process group of its own, so stopping it stops everything it started.
            set -m
            bash "$0" --lane "$work" "${stages[@]}" < /dev/null &
            pid=$!
            set +m
            lanes+=("$pid")
            lane_of[$pid]="${stages[*]}"
        done
        running=("${lanes[@]}")
        while [ "${#running[@]}" -gt 0 ]; do
            done_pid=
            wait -n -p done_pid "${running[@]}"
            lane_status=$?
            remaining=()
            for pid in "${running[@]}"; do
                [ "$pid" != "$done_pid" ] && remaining+=("$pid")
            done
            running=("${remaining[@]}")
            if [ "$lane_status" -ne 0 ]; then
                status=$lane_status
                # The lane's stage that failed: the last it started.
                for stage in ${lane_of[$done_pid]}; do
                    if grep -qx "$stage" "$work/started"; then
                        failed=$stage
                    fi
                done
                [ -z "$failed" ] && failed=${lane_of[$done_pid]%% *}
                break
            fi
        done
        if [ -n "$failed" ]; then
            lanes=("${running[@]}")
            stop_lanes
        fi
        lanes=()
        while read -r stage stage_status seconds; do
            took[$stage]=$seconds
            if [ "$stage_status" -eq 0 ]; then
                mark[$stage]=ok
            else
                mark[$stage]="FAILED (exit $stage_status)"
            fi
        done < "$results"
        if [ -n "$failed" ]; then
            [ -z "${mark[$failed]:-}" ] && mark[$failed]="FAILED (exit $status)"
            for part in "${parts[@]}"; do
                for stage in $part; do
                    if [ -z "${mark[$stage]:-}" ] && grep -qx "$stage" "$work/started"; then
                        mark[$stage]="stopped (make $failed failed)"
                    fi
                done
            done
            echo
            echo "=== make $failed FAILED (exit $status); the last $TAIL_LINES lines of $LOGS/$failed.log:"
            tail -n "$TAIL_LINES" "$LOGS/$failed.log"
            echo "=== end of $LOGS/$failed.log"
        fi
        unset lane_of
    fi
    steps+=("$(echo "$step" | tr -s ' ')")
    steps+=("$(since "$begin")")
    if [ -z "$failed" ]; then
        for stage in ${step//|/ }; do
            pass_tarball "$stage"
        done
    fi
done
total=$(since "$started")
rm -rf "$work"

echo
echo "make $name: wall time per stage (stages of one step ran at the same time)"
skipped=0
for stage in "${order[@]}"; do
    if [ -z "${mark[$stage]:-}" ]; then
        mark[$stage]="not run"
        skipped=$((skipped + 1))
    fi
    printf '  %-14s %8s s  %s\n' "$stage" "${took[$stage]:--}" "${mark[$stage]}"
done
echo "make $name: wall time per step"
for ((i = 0; i < ${#steps[@]}; i += 2)); do
    printf '  %8s s  %s\n' "${steps[$((i + 1))]}" "${steps[$i]}"
done
printf '  %8s s  total\n' "$total"
if [ -n "$failed" ]; then
    echo "make $name: FAILED at stage $failed (exit $status; its output is in $LOGS/$failed.log); $skipped stage(s) not run"
    exit "$status"
fi
# Every stage passed, but what they checked and what they installed must be one tarball.
if [ -n "$tarball_sum" ] && [ "$(cksum < "$VAULTLOCK_COLLECTION_TARBALL" 2> /dev/null)" != "$tarball_sum" ]; then
    echo "make $name: FAILED: $VAULTLOCK_COLLECTION_TARBALL changed during the run, after it was handed on (a stage built it again)"
    exit 1
fi
echo "make $name: all ${#order[@]} stages passed"
