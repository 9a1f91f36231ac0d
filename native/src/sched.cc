// ibaked_sched: the scheduling policy of the calling thread (Linux sched_setscheduler with
// pid 0), for the daemon's router (src/daemon/router-sched.ts). When every core already runs
// an exchange's work, the main thread runs as SCHED_BATCH: its wake-ups (a reply from a
// shard, a request from a socket) then no longer preempt a running shard at once, so each of
// its runs takes what has arrived meanwhile; below that load it runs as SCHED_OTHER again, so
// a lone call is routed without delay. Both are normal, unprivileged policies (nice value
// unchanged). It also lets the main thread give up its core while it polls an idle event loop
// (src/daemon/idle-poll.ts). A tiny separate addon like ibaked_peercred: no crypto, optional.
//   setBatch(on: boolean) -> boolean   true if the thread now runs with that policy
//   policy() -> 'batch' | 'other' | 'unknown'   the calling thread's policy
//   yield() -> boolean   sched_yield(): another runnable thread on this core runs first
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <node_api.h>
#include <sched.h>

static napi_value Bool(napi_env env, bool v) {
  napi_value out;
  napi_get_boolean(env, v, &out);
  return out;
}

static napi_value SetBatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool on = false;
  napi_valuetype t = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 ||
      napi_typeof(env, argv[0], &t) != napi_ok || t != napi_boolean || napi_get_value_bool(env, argv[0], &on) != napi_ok) {
    napi_throw_type_error(env, nullptr, "setBatch(on) needs a boolean");
    return nullptr;
  }
#if defined(__linux__) && defined(SCHED_BATCH)
  struct sched_param p {};
  p.sched_priority = 0;
  return Bool(env, sched_setscheduler(0, on ? SCHED_BATCH : SCHED_OTHER, &p) == 0);
#else
  (void)on;
  return Bool(env, false);
#endif
}

static napi_value Policy(napi_env env, napi_callback_info) {
  const char* name = "unknown";
#if defined(__linux__) && defined(SCHED_BATCH)
  int p = sched_getscheduler(0);
  if (p == SCHED_BATCH) name = "batch";
  else if (p == SCHED_OTHER) name = "other";
#endif
  napi_value out;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &out);
  return out;
}

static napi_value Yield(napi_env env, napi_callback_info) {
#if defined(__linux__)
  return Bool(env, sched_yield() == 0);
#else
  return Bool(env, false);
#endif
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "yield", NAPI_AUTO_LENGTH, Yield, nullptr, &fn);
  napi_set_named_property(env, exports, "yield", fn);
  napi_create_function(env, "setBatch", NAPI_AUTO_LENGTH, SetBatch, nullptr, &fn);
  napi_set_named_property(env, exports, "setBatch", fn);
  napi_create_function(env, "policy", NAPI_AUTO_LENGTH, Policy, nullptr, &fn);
  napi_set_named_property(env, exports, "policy", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
