#!/usr/bin/env bash
# Mutation check of the loom models: each model must be able to fail.
#
# Each deliberate bug (a "mutant") is a small patch, loom-tests/mutants/NAME.patch, against the
# runtime's real source, which carries no trace of it. For every line of the table below, this
# script applies one patch to a scratch copy of the workspace, runs the model meant to catch that
# bug, and takes the patch out again. The model must fail; the script prints the line of loom's
# output that says why. It exits non-zero if a bug survives its model, if a patch no longer
# applies (so the bugs cannot rot as the code changes), if a patch is missing from the table, or
# if a model has no bug to catch. loom-tests/README.md has the table with loom's verdicts.
#
#   loom-tests/mutants.sh            # the table below
#   loom-tests/mutants.sh --matrix   # every bug against every model (slower; for the README)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export RUSTFLAGS="--cfg loom -C debug-assertions"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
target=$root/target/loom-mutants
scratch=$root/target/mutants-scratch
patches=$root/loom-tests/mutants

#  bug (mutant)                              suite     model that must catch it
table='
park_ignores_a_notification                  core      remote_wake_races_the_poll_and_the_park
main_waker_skips_notify                      core      remote_wake_of_the_main_future_is_never_lost
waker_drop_keeps_its_reference               core      a_waker_cloned_and_dropped_on_another_thread_races_completion
shutdown_leaves_the_inbox_open               core      handle_spawn_races_shutdown
shutdown_forgets_the_inbox                   core      call_soon_threadsafe_races_shutdown
shutdown_leaves_the_inbox_open               core      run_coroutine_threadsafe_races_shutdown
abort_does_not_schedule                      core      abort_from_another_thread_races_completion
abort_does_not_schedule                      core      abort_from_another_thread_cancels_an_idle_task
join_drop_ignores_completion                 core      a_join_handle_dropped_on_another_thread_races_completion
complete_is_relaxed                          core      a_thread_blocking_on_a_task_result_is_woken
inbox_skips_notify                           core      a_thread_blocking_on_a_task_result_is_woken
unpark_sets_no_flag                          core      a_thread_blocking_on_a_task_result_is_woken
job_result_wakes_nobody                      blocking  a_job_result_wakes_the_awaiting_task
start_ignores_cancel                         blocking  cancel_races_the_worker_claiming_the_job
shutdown_wakes_no_worker                     blocking  submit_races_shutdown
retire_with_jobs_queued                      blocking  submit_races_idle_exit
spinner_sleeps_without_looking               blocking  a_submit_racing_the_spinning_worker_is_not_missed
publish_before_counting_idle                 blocking  a_sequential_submit_reuses_the_idle_worker
late_callback_is_kept_forever                blocking  a_done_callback_added_while_the_job_finishes_runs_once
broken_pool_keeps_queued_jobs                blocking  a_submit_racing_a_failing_initializer_never_hangs
child_wake_skips_the_parent                  blocking  as_completed_sees_every_completion
ready_set_forgets_the_parent                 compose   a_group_child_woken_from_another_thread_completes_the_group
no_grant_after_queueing                      sync      a_semaphore_excludes_and_conserves_permits
release_ignores_the_queue                    sync      a_semaphore_serves_three_threads_in_turn
dropped_grant_is_lost                        sync      a_cancelled_waiter_racing_a_release_loses_no_permit
dropped_grant_is_lost                        sync      a_timed_out_acquire_racing_a_release_loses_no_permit
timed_out_waiter_ignores_its_notification    sync      a_timed_out_condition_wait_racing_a_notify_keeps_the_notification
timed_out_barrier_wait_leaves_it_whole       sync      a_timed_out_barrier_wait_races_the_trip
event_set_wakes_nobody                       sync      event_set_races_wait
event_wait_rechecks_the_flag                 sync      event_clear_does_not_strand_a_released_waiter
relaxed_take                                 sync      a_mutex_excludes_even_with_a_cancelled_waiter
condition_unlocks_before_queueing            sync      condition_notify_races_wait
cancelled_waiter_keeps_its_notification      sync      a_cancelled_condition_waiter_passes_its_notification_on
barrier_trip_wakes_nobody                    sync      a_barrier_releases_both_threads
barrier_abort_wakes_nobody                   sync      a_barrier_abort_releases_a_waiter_on_another_thread
cancelled_get_keeps_its_item                 sync      queue_items_survive_a_cancelled_get
queue_shutdown_wakes_no_getter               sync      queue_shutdown_releases_a_waiting_getter
cancelled_put_keeps_its_room                 sync      a_cancelled_put_passes_its_room_on
receiver_drop_keeps_the_value                sync      oneshot_send_races_receiver_poll_and_drop
sender_drop_wakes_nobody                     sync      oneshot_sender_drop_wakes_the_receiver
'

# Every patch has a line in the table, and every model a bug to catch.
for patch in "$patches"/*.patch; do
    bug=$(basename "$patch" .patch)
    if ! grep -qE "^$bug[[:space:]]" <<<"$table"; then
        echo "$patch is in no line of this script's table" >&2
        exit 1
    fi
done
for suite in core blocking compose sync; do
    for model in $(grep -A1 '^#\[test\]' "loom-tests/tests/$suite.rs" | sed -nE 's/^fn ([a-z0-9_]+).*/\1/p'); do
        if ! grep -qE "[[:space:]]$suite[[:space:]]+$model\$" <<<"$table"; then
            echo "loom-tests/tests/$suite.rs: model $model has no bug in this script's table" >&2
            exit 1
        fi
    done
done

# The scratch copy: this workspace as it is (committed or not), without its build output.
rm -rf "$scratch"
mkdir -p "$scratch"
tar --exclude=./target --exclude=./.git -cf - . | tar -xf - -C "$scratch"
git -C "$scratch" init -q # its own repository, so that `git apply` patches it and nothing else
build() {
    cargo test --manifest-path "$scratch/Cargo.toml" -p loom-tests --profile mutants \
        --target-dir "$target" "$@"
}

# First, with no bug in, the scratch copy must pass every model: a failure below is then the
# bug's doing, not the build's.
build -q --tests >/dev/null

# Runs one model with one bug patched in; prints loom's verdict, succeeds if the model failed.
catches() {
    local bug=$1 suite=$2 model=$3 output status=0
    if ! git -C "$scratch" apply --check "$patches/$bug.patch" 2>/dev/null; then
        echo "(the patch no longer applies: update $patches/$bug.patch)"
        return 2
    fi
    git -C "$scratch" apply "$patches/$bug.patch"
    output=$(timeout 600 cargo test -q --manifest-path "$scratch/Cargo.toml" -p loom-tests \
        --profile mutants --target-dir "$target" --test "$suite" -- --exact "$model" 2>&1) \
        || status=$?
    git -C "$scratch" apply -R "$patches/$bug.patch"
    case $status in
        0) return 1 ;;                                # the model passed: the bug survived
        124) echo "(no verdict: timed out)"; return 1 ;;
    esac
    # Why: the panic message, on the line after the first "panicked at" (loom's deadlock or
    # causality report, a leak, or the model's own failed assertion).
    awk '/panicked at/ { getline; print; exit }' <<<"$output" | cut -c1-160
}

if [[ ${1:-} == --matrix ]]; then
    bugs=$(awk 'NF { print $1 }' <<<"$table" | sort -u)
    models=$(awk 'NF { print $2 " " $3 }' <<<"$table" | sort -u)
    while read -r bug; do
        caught=()
        while read -r suite model; do
            if catches "$bug" "$suite" "$model" >/dev/null; then caught+=("$model"); fi
        done <<<"$models"
        echo "$bug: ${caught[*]:-(none)}"
    done <<<"$bugs"
    exit 0
fi

survivors=0
stale=0
while read -r bug suite model; do
    [[ -n $bug ]] || continue
    started=$SECONDS
    status=0
    verdict=$(catches "$bug" "$suite" "$model") || status=$?
    case $status in
        0) printf 'caught    %-40s by %s::%s (%d s)\n          %s\n' \
               "$bug" "$suite" "$model" $((SECONDS - started)) "$verdict" ;;
        2) printf 'STALE     %-40s %s\n' "$bug" "$verdict"
           stale=$((stale + 1)) ;;
        *) printf 'SURVIVED  %-40s %s::%s passed with the bug in\n' "$bug" "$suite" "$model"
           survivors=$((survivors + 1)) ;;
    esac
done <<<"$table"

if ((stale > 0)); then
    echo "$stale patch(es) no longer apply to the runtime: rewrite them against today's code" >&2
    exit 1
fi
if ((survivors > 0)); then
    echo "$survivors bug(s) survived: their models cannot fail as written" >&2
    exit 1
fi
echo "every bug was caught"
