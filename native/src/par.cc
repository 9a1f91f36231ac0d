// The helper thread behind par::run2 (see par.h for the rules). A process-wide singleton,
// created with `new` on first use and never destroyed; its thread is detached. So nothing
// runs at static-destruction time, Node's exit never waits for it (it holds no libuv handle)
// and worker_threads that load the addon again share it. The addon is linked with
// -z nodelete (binding.gyp) so its code can never be unmapped under the sleeping thread.
//
// Hand-off: the owner (the caller that won `busy`) publishes the task under the mutex and
// signals; the helper takes it under the mutex, runs it unlocked, then sets `done` (release)
// under the mutex and signals only if the owner went to sleep. The owner first spins on
// `done` for a few tens of µs with a pause instruction, then sleeps on the condition
// variable. If the helper has not taken the task when the owner finished its own part, the
// owner takes it back and runs it (never waits for a thread that has not started).
#include "par.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <thread>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#endif
#if defined(__linux__)
#include <sched.h>
#endif

namespace ibaked {
namespace par {
namespace {

// How long the owner spins for the helper's result before blocking. The parts handed over
// take 100-200 µs and are balanced against the owner's part (the Miller-loop cut and the GT
// digits adapt to the two threads' measured progress), so the wait is normally short; a
// futex wake-up of the owner costs 15-30 µs on these VMs. Spinning longer would take CPU
// from the helper itself when the other core is busy (the two threads then share one).
constexpr std::chrono::microseconds kSpin{50};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

struct Helper {
  std::mutex m;
  std::condition_variable work_cv;  // the helper sleeps here while idle
  std::condition_variable done_cv;  // the owner sleeps here after spinning
  // Guarded by m.
  bool has_work = false;
  bool owner_blocked = false;
  Fn fn = nullptr;
  void *ctx = nullptr;
  std::exception_ptr error;
  // Lock-free.
  std::atomic<bool> busy{false};  // exactly one owner at a time
  std::atomic<bool> done{false};  // the posted task has finished
  std::chrono::steady_clock::time_point posted;  // guarded by m: for the start-latency counters
  int owner_cpu = -1;                             // guarded by m
};

std::atomic<Helper *> g_helper{nullptr};
std::atomic<int> g_state{0};  // 0 not started, 1 running, 2 unavailable
std::atomic<bool> g_enabled{true};
std::atomic<bool> g_forked{false};
std::atomic<bool> g_take_back{true};
std::atomic<uint64_t> g_parallel{0}, g_inline{0}, g_stolen{0};
// Post->start latency of the tasks the helper ran: sum, and how many took < 10, < 50, < 100 µs,
// and how many started on the CPU the owner was on when it posted.
// Of the parallel runs: time of the owner's own part, of the helper's task, and the owner's
// wait at the join (after its own part), summed in ns.
std::atomic<uint64_t> g_mine_ns{0}, g_task_ns{0}, g_join_ns{0};
std::atomic<uint64_t> g_start_ns{0}, g_start_lt10{0}, g_start_lt50{0}, g_start_lt100{0}, g_same_cpu{0};

int current_cpu() {
#if defined(__linux__)
  return sched_getcpu();
#else
  return -1;
#endif
}

std::mutex &init_mutex() {
  static std::mutex *m = new std::mutex();  // never destroyed (see the header comment)
  return *m;
}

unsigned cpu_count() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return (unsigned)CPU_COUNT(&set);
#endif
  return std::thread::hardware_concurrency();
}

void helper_main(Helper *h) noexcept {
  std::unique_lock<std::mutex> lock(h->m);
  for (;;) {
    h->work_cv.wait(lock, [h] { return h->has_work; });
    h->has_work = false;
    Fn fn = h->fn;
    void *ctx = h->ctx;
    auto posted = h->posted;
    int owner_cpu = h->owner_cpu;
    lock.unlock();
    uint64_t ns = (uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - posted).count();
    g_start_ns.fetch_add(ns, std::memory_order_relaxed);
    if (ns < 10000) g_start_lt10.fetch_add(1, std::memory_order_relaxed);
    if (ns < 50000) g_start_lt50.fetch_add(1, std::memory_order_relaxed);
    if (ns < 100000) g_start_lt100.fetch_add(1, std::memory_order_relaxed);
    if (owner_cpu >= 0 && owner_cpu == current_cpu()) g_same_cpu.fetch_add(1, std::memory_order_relaxed);
    std::exception_ptr err;
    auto t0 = std::chrono::steady_clock::now();
    try {
      fn(ctx);
    } catch (...) {
      err = std::current_exception();
    }
    g_task_ns.fetch_add((uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count(),
                        std::memory_order_relaxed);
    lock.lock();
    h->error = std::move(err);
    h->done.store(true, std::memory_order_release);
    if (h->owner_blocked) h->done_cv.notify_one();
  }
}

Helper *start_helper() {
  std::lock_guard<std::mutex> guard(init_mutex());
  Helper *h = g_helper.load(std::memory_order_acquire);
  if (h || g_state.load() == 2) return h;
  const char *env = std::getenv("IBAKED_NATIVE_PAR");
  if (cpu_count() < 2 || (env && std::strcmp(env, "0") == 0)) {
    g_state.store(2);
    return nullptr;
  }
  h = new (std::nothrow) Helper();
  if (!h) return nullptr;  // try again next time
#if defined(__unix__) || defined(__APPLE__)
  // The helper inherits a full signal mask: signals stay with Node's own threads.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
#endif
  bool ok = true;
  try {
    std::thread t(helper_main, h);
#if defined(__linux__)
    pthread_setname_np(t.native_handle(), "ibaked-par");
#endif
    t.detach();
  } catch (...) {
    ok = false;
  }
#if defined(__unix__) || defined(__APPLE__)
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  static bool atfork_set = false;
  if (ok && !atfork_set) {
    // A forked child has no helper thread: it runs everything inline.
    pthread_atfork(nullptr, nullptr, [] { g_forked.store(true); });
    atfork_set = true;
  }
#endif
  if (!ok) {
    delete h;
    g_state.store(2);
    return nullptr;
  }
  g_state.store(1);
  g_helper.store(h, std::memory_order_release);
  return h;
}

Helper *helper() {
  if (!g_enabled.load(std::memory_order_relaxed) || g_forked.load(std::memory_order_relaxed)) return nullptr;
  Helper *h = g_helper.load(std::memory_order_acquire);
  if (h) return h;
  if (g_state.load(std::memory_order_relaxed) == 2) return nullptr;
  return start_helper();
}

}  // namespace

bool run2_raw(Fn task, void *task_ctx, Fn mine, void *mine_ctx) {
  Helper *h = helper();
  if (!h || h->busy.exchange(true, std::memory_order_acquire)) {
    // Inline: the caller's part first. The users' own parts take over whatever work the
    // helper has not claimed (the Miller loop's lines, the GT digits), so the task left
    // afterwards is only what cannot move (the subgroup check): no extra work inline.
    g_inline.fetch_add(1, std::memory_order_relaxed);
    mine(mine_ctx);
    task(task_ctx);
    return false;
  }
  h->done.store(false, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(h->m);
    h->fn = task;
    h->ctx = task_ctx;
    h->posted = std::chrono::steady_clock::now();
    h->owner_cpu = current_cpu();
    h->has_work = true;
  }
  h->work_cv.notify_one();

  std::exception_ptr mine_err, task_err;
  auto t_mine = std::chrono::steady_clock::now();
  try {
    mine(mine_ctx);
  } catch (...) {
    mine_err = std::current_exception();
  }
  auto t_join = std::chrono::steady_clock::now();

  bool taken_back = false;
  {
    std::lock_guard<std::mutex> lock(h->m);
    if (h->has_work && g_take_back.load(std::memory_order_relaxed)) {
      h->has_work = false;
      taken_back = true;
    }
  }
  if (taken_back) {
    g_stolen.fetch_add(1, std::memory_order_relaxed);
    g_inline.fetch_add(1, std::memory_order_relaxed);
    try {
      task(task_ctx);
    } catch (...) {
      task_err = std::current_exception();
    }
  } else {
    if (!h->done.load(std::memory_order_acquire)) {
      auto deadline = std::chrono::steady_clock::now() + kSpin;
      for (unsigned i = 1; !h->done.load(std::memory_order_acquire); i++) {
        cpu_relax();
        if ((i & 63) == 0 && std::chrono::steady_clock::now() > deadline) break;
      }
    }
    if (!h->done.load(std::memory_order_acquire)) {
      std::unique_lock<std::mutex> lock(h->m);
      h->owner_blocked = true;
      h->done_cv.wait(lock, [h] { return h->done.load(std::memory_order_acquire); });
      h->owner_blocked = false;
    }
    task_err = std::move(h->error);
    h->error = nullptr;
    g_parallel.fetch_add(1, std::memory_order_relaxed);
    auto t_end = std::chrono::steady_clock::now();
    g_mine_ns.fetch_add((uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(t_join - t_mine).count(),
                        std::memory_order_relaxed);
    g_join_ns.fetch_add((uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(t_end - t_join).count(),
                        std::memory_order_relaxed);
  }
  h->busy.store(false, std::memory_order_release);
  if (mine_err) std::rethrow_exception(mine_err);
  if (task_err) std::rethrow_exception(task_err);
  return !taken_back;
}

Stats stats() {
  Stats s;
  s.parallel = g_parallel.load();
  s.inline_ = g_inline.load();
  s.stolen = g_stolen.load();
  s.available = g_helper.load() != nullptr;
  s.start_ns_sum = g_start_ns.load();
  s.mine_ns_sum = g_mine_ns.load();
  s.task_ns_sum = g_task_ns.load();
  s.join_ns_sum = g_join_ns.load();
  s.start_lt10 = g_start_lt10.load();
  s.start_lt50 = g_start_lt50.load();
  s.start_lt100 = g_start_lt100.load();
  s.same_cpu = g_same_cpu.load();
  return s;
}

void set_enabled(bool on) { g_enabled.store(on); }

void set_take_back(bool on) { g_take_back.store(on); }

}  // namespace par
}  // namespace ibaked
