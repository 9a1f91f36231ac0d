// Two-way parallel sections for the hot native operations (prepared pairing, fixed-base GT
// pow). The machines this daemon runs on have 2 cores and calls are sequential, so per-op
// latency is what counts: an op hands one independent part of its work to a single helper
// thread and runs the other part itself.
//
// Rules (see docs/native.md, "Parallel sections"):
//  * One helper thread per process (per loaded addon file), started on first use, detached,
//    never stopped; it sleeps on a condition variable while idle (no spinning) and blocks all
//    signals. The object it uses is never destroyed, so exit/unload order cannot hurt it.
//  * run2() never queues: if the helper is busy with another caller, is unavailable (1 CPU,
//    thread creation failed, after fork(), IBAKED_NATIVE_PAR=0) or has not picked the task up
//    by the time the caller finished its own part, the caller runs the task itself.
//  * The caller spins briefly (pause instruction) for the helper's result, then blocks.
//  * An exception thrown by the helper's task is carried to the caller and rethrown there;
//    nothing escapes the helper thread. If the caller's part throws, run2 still waits for the
//    helper before unwinding (the task uses the caller's stack).
//  * A task must touch only its own buffers (read-only shared inputs are fine) and must not
//    call run2 itself.
#pragma once
#include <cstdint>
#include <type_traits>
#include <utility>

namespace ibaked {
namespace par {

using Fn = void (*)(void *ctx);

/** Runs helper(helper_ctx) on the helper thread (or inline, after mine) while the caller runs
 *  mine(mine_ctx); returns when both are done. Returns true when the two ran in parallel. */
bool run2_raw(Fn helper, void *helper_ctx, Fn mine, void *mine_ctx);

/** run2_raw for callables (no allocation: the callables stay on the caller's stack). */
template <class H, class M>
bool run2(H &&helper, M &&mine) {
  using HT = typename std::remove_reference<H>::type;
  using MT = typename std::remove_reference<M>::type;
  return run2_raw([](void *p) { (*static_cast<HT *>(p))(); }, (void *)&helper,
                  [](void *p) { (*static_cast<MT *>(p))(); }, (void *)&mine);
}

/** Counters for tests and benchmarks (never for control flow). */
struct Stats {
  uint64_t parallel;  // tasks the helper ran
  uint64_t inline_;   // tasks the caller ran itself (helper busy/unavailable/late)
  uint64_t stolen;    // of those: posted, but taken back because the helper had not started
  bool available;     // the helper thread exists (or can be started)
  // Post->start latency of the tasks the helper ran (the VM's thread wake-up cost).
  uint64_t start_ns_sum, start_lt10, start_lt50, start_lt100;
  uint64_t same_cpu;  // started on the CPU its owner posted from
  // Of the parallel runs, summed: the owner's own part, the helper's task, the owner's wait
  // after its own part (spin or sleep until the helper is done).
  uint64_t mine_ns_sum, task_ns_sum, join_ns_sum;
};
Stats stats();

/** Turns the helper off (every task inline) or on again; for tests and benchmarks. */
void set_enabled(bool on);

/** false: the owner never takes a posted task back but waits for the helper to run it, so
 *  that a check (scripts/ct-check under valgrind) sees every task run on the helper thread.
 *  For tests only; default true. */
void set_take_back(bool on);

}  // namespace par
}  // namespace ibaked
