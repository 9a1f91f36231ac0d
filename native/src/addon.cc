// Node-API surface of the native engine (node-addon-api). JavaScript sees:
//   run(op, args[]) -> Promise<Uint8Array | undefined | Handle>  (work runs on the libuv pool)
//   runInline(op, args[]) -> the same promise, settled: the work ran on the calling thread
//   runSync(op, args[]) -> Uint8Array                              (generators only: no work)
//   Handle#run(op, args[] [, second Handle]) -> Promise, Handle#runInline (same args), Handle#free(), Handle#key, Handle#kind
//   cpu() -> { adx, bmi2 }, liveHandles() -> number, variant -> 'adx' | 'portable',
//   p256 -> whether the process's OpenSSL serves op P256Mul (p256.h),
//   sha256Blocks(buf, blocks) -> undefined (SHA-256 compressions in place, sha256_blocks.h), sha256OpenSsl -> boolean
//   mikeyPrfSha256(buf, inkeyLen, labelLen, outLen) -> undefined (the MIKEY PRF in place, mikey_prf.h)
// Arguments are copied into native, wiping buffers before the work is queued, so JavaScript
// may mutate or detach its buffers at any time. Rejections carry an Error with `reason`.
#include <napi.h>

#include <cstring>
#include <new>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

#include "ct.h"
#include "ops.h"
#include "p256.h"
#include "sha256_blocks.h"
#include "mikey_prf.h"
#include "par.h"

namespace ibaked {
namespace {

Napi::Error make_error(Napi::Env env, Reason reason, const char *message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("reason", Napi::String::New(env, reason_name(reason)));
  return e;
}

/** Copies a JS value into an Arg; anything but a Uint8Array (or Buffer) is untyped. */
Arg to_arg(const Napi::Value &v) {
  Arg a;
  if (!v.IsTypedArray()) return a;
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) return a;
  Napi::Uint8Array u = v.As<Napi::Uint8Array>();
  a.typed = true;
  size_t n = u.ElementLength();
  const uint8_t *p = u.Data();
  if (n && p) a.data.assign(p, p + n);
  return a;
}

bool read_call(const Napi::CallbackInfo &info, size_t first, Op *op, std::vector<Arg> *args) {
  if (info.Length() < first + 2 || !info[first].IsNumber() || !info[first + 1].IsArray()) return false;
  double d = info[first].As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d < (double)Op::Count) || d != (double)(int)d) return false;
  int code = (int)d;
  *op = (Op)code;
  Napi::Array arr = info[first + 1].As<Napi::Array>();
  uint32_t n = arr.Length();
  if (n > kMaxArgs) return false;
  args->reserve(n);
  for (uint32_t i = 0; i < n; i++) args->push_back(to_arg(arr.Get(i)));
  return true;
}

/** Resolves (or rejects) an op's promise with its result: a Handle, undefined or the output bytes. */
void settle(Napi::Env env, Napi::Promise::Deferred &deferred, Op op, Result &result) {
  if (result.reason != Reason::Ok) {
    deferred.Reject(make_error(env, result.reason, result.message).Value());
    return;
  }
  if (result.handle) {
    auto *holder = new std::shared_ptr<HandleData>(std::move(result.handle));
    Napi::External<std::shared_ptr<HandleData>> ext = Napi::External<std::shared_ptr<HandleData>>::New(
        env, holder, [](Napi::Env, std::shared_ptr<HandleData> *h) { delete h; });
    deferred.Resolve(env.GetInstanceData<Napi::FunctionReference>()->New({ext}));
    return;
  }
  if (op == Op::GtValidate) {
    deferred.Resolve(env.Undefined());
    return;
  }
  Napi::Uint8Array out = Napi::Uint8Array::New(env, result.out.size());
  std::memcpy(out.Data(), result.out.data(), result.out.size());
  deferred.Resolve(out);
}

class OpWorker : public Napi::AsyncWorker {
 public:
  OpWorker(Napi::Env env, Op op, std::vector<Arg> args, std::shared_ptr<HandleData> handle,
           std::shared_ptr<HandleData> second)
      : Napi::AsyncWorker(env, "ibaked:native"),
        deferred_(Napi::Promise::Deferred::New(env)),
        op_(op),
        args_(std::move(args)),
        handle_(std::move(handle)),
        second_(std::move(second)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      result_ = run_op(op_, args_, handle_, second_);
    } catch (const std::bad_alloc &) {
      SetError("out of memory");
    }
    args_.clear();
    handle_.reset();
    second_.reset();
  }

  void OnOK() override { settle(Env(), deferred_, op_, result_); }

  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Op op_;
  std::vector<Arg> args_;
  std::shared_ptr<HandleData> handle_;
  std::shared_ptr<HandleData> second_;
  Result result_;
};

Napi::Value queue(Napi::Env env, Op op, std::vector<Arg> args, std::shared_ptr<HandleData> handle,
                  std::shared_ptr<HandleData> second = nullptr) {
  auto *w = new OpWorker(env, op, std::move(args), std::move(handle), std::move(second));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

/**
 * The op run now, on the calling thread, as a settled promise (runInline): for a thread whose
 * only job is this work (a daemon shard worker), where a hop to the libuv pool and back would
 * cost two thread wake-ups per operation and gain nothing.
 */
Napi::Value inline_run(Napi::Env env, Op op, std::vector<Arg> args, std::shared_ptr<HandleData> handle,
                       std::shared_ptr<HandleData> second = nullptr) {
  auto deferred = Napi::Promise::Deferred::New(env);
  Result r;
  try {
    r = run_op(op, args, handle, second);
  } catch (const std::bad_alloc &) {
    deferred.Reject(Napi::Error::New(env, "out of memory").Value());
    return deferred.Promise();
  }
  args.clear();
  handle.reset();
  second.reset();
  settle(env, deferred, op, r);
  return deferred.Promise();
}

Napi::Value rejected(Napi::Env env, Reason r, const char *msg) {
  auto d = Napi::Promise::Deferred::New(env);
  d.Reject(make_error(env, r, msg).Value());
  return d.Promise();
}

/** run / runInline: an op without a handle, queued to the pool or run now. */
Napi::Value run_plain(const Napi::CallbackInfo &info, bool now) {
  Op op;
  std::vector<Arg> args;
  if (!read_call(info, 0, &op, &args)) return rejected(info.Env(), Reason::Type, "bad native call");
  if (op_uses_handle(op)) return rejected(info.Env(), Reason::Type, "handle op without a handle");
  if (now) return inline_run(info.Env(), op, std::move(args), nullptr);
  return queue(info.Env(), op, std::move(args), nullptr);
}

Napi::Value Run(const Napi::CallbackInfo &info) { return run_plain(info, false); }
Napi::Value RunInline(const Napi::CallbackInfo &info) { return run_plain(info, true); }

Napi::Value RunSync(const Napi::CallbackInfo &info) {
  Op op;
  std::vector<Arg> args;
  if (!read_call(info, 0, &op, &args) || (op != Op::G1Generator && op != Op::G2Generator))
    throw make_error(info.Env(), Reason::Type, "bad native call");
  Result r = run_op(op, args, nullptr);
  // A misuse (e.g. arguments to a generator) is an error, never an empty result.
  if (r.reason != Reason::Ok) throw make_error(info.Env(), r.reason, r.message);
  Napi::Uint8Array out = Napi::Uint8Array::New(info.Env(), r.out.size());
  std::memcpy(out.Data(), r.out.data(), r.out.size());
  return out;
}

class Handle : public Napi::ObjectWrap<Handle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeHandle",
                       {InstanceMethod("run", &Handle::RunOp), InstanceMethod("runInline", &Handle::RunOpInline),
                        InstanceMethod("free", &Handle::Free),
                        InstanceAccessor("key", &Handle::Key, nullptr),
                        InstanceAccessor("kind", &Handle::Kind, nullptr)});
  }

  explicit Handle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Handle>(info) {
    if (info.Length() != 1 || !info[0].IsExternal())
      throw make_error(info.Env(), Reason::Type, "NativeHandle is created by the engine only");
    // Take the reference out of the External (left empty): this Handle is then the only owner
    // besides in-flight work, so free() releases (and wipes) the data at once, not at GC.
    data_ = std::move(*info[0].As<Napi::External<std::shared_ptr<HandleData>>>().Data());
    if (!data_) throw make_error(info.Env(), Reason::Type, "empty handle");
    key_ = data_->key;
    kind_ = (int)data_->kind;
    accounted_ = (int64_t)data_->bytes();
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), accounted_);
  }

  ~Handle() override {
    data_.reset();
    wipe(key_.data(), key_.size());
  }

  void Finalize(Napi::Env env) override {
    if (accounted_) Napi::MemoryManagement::AdjustExternalMemory(env, -accounted_);
    accounted_ = 0;
  }

 private:
  Napi::Value RunOp(const Napi::CallbackInfo &info) { return dispatch(info, false); }
  Napi::Value RunOpInline(const Napi::CallbackInfo &info) { return dispatch(info, true); }

  Napi::Value dispatch(const Napi::CallbackInfo &info, bool now) {
    Op op;
    std::vector<Arg> args;
    if (!read_call(info, 0, &op, &args) || !op_uses_handle(op))
      return rejected(info.Env(), Reason::Type, "bad native call");
    if (!data_) return rejected(info.Env(), Reason::Freed, "precompute handle used after free()");
    std::shared_ptr<HandleData> second;
    if (op_uses_second_handle(op)) {
      // The second handle follows the arguments: run(op, args, other).
      Handle *other = info.Length() > 2 ? of(info.Env(), info[2]) : nullptr;
      if (!other) return rejected(info.Env(), Reason::Type, "bad native call: a second handle is required");
      if (!other->data_) return rejected(info.Env(), Reason::Freed, "precompute handle used after free()");
      second = other->data_;
    }
    if (now) return inline_run(info.Env(), op, std::move(args), data_, std::move(second));
    return queue(info.Env(), op, std::move(args), data_, std::move(second));
  }

  /** The Handle behind a JavaScript value, or null when it is not one of ours. */
  static Handle *of(Napi::Env env, const Napi::Value &v) {
    if (!v.IsObject()) return nullptr;
    Napi::Object o = v.As<Napi::Object>();
    if (!o.InstanceOf(env.GetInstanceData<Napi::FunctionReference>()->Value())) return nullptr;
    return Handle::Unwrap(o);
  }

  Napi::Value Free(const Napi::CallbackInfo &info) {
    // The last owner wipes (~HandleData: the key and the G2 lines); in-flight work keeps its
    // own reference, and the data goes (wiped) when it finishes.
    data_.reset();
    wipe(key_.data(), key_.size());
    key_.clear();
    if (accounted_) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -accounted_);
    accounted_ = 0;
    return info.Env().Undefined();
  }

  Napi::Value Key(const Napi::CallbackInfo &info) {
    Napi::Uint8Array out = Napi::Uint8Array::New(info.Env(), key_.size());
    std::memcpy(out.Data(), key_.data(), key_.size());
    return out;
  }

  Napi::Value Kind(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), kind_); }

  std::shared_ptr<HandleData> data_;
  Bytes key_;
  int kind_ = 0;
  int64_t accounted_ = 0;
};

Napi::Value Cpu(const Napi::CallbackInfo &info) {
  bool adx = false, bmi2 = false;
#if defined(__x86_64__) || defined(_M_X64)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    bmi2 = (b >> 8) & 1;
    adx = (b >> 19) & 1;
  }
#endif
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("adx", Napi::Boolean::New(info.Env(), adx));
  o.Set("bmi2", Napi::Boolean::New(info.Env(), bmi2));
  return o;
}

// sha256Blocks(buf, blocks): `blocks` SHA-256 compressions of buf[32 ..] into the chaining value
// at buf[0, 32) (8 words, host order), in place; for the MIKEY layer's HMAC (sha256_blocks.h).
// buf: a Uint8Array aligned to 4 octets with room for the blocks. Throws TypeError/RangeError.
Napi::Value Sha256Blocks(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsTypedArray() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "sha256Blocks(buf: Uint8Array, blocks: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, "sha256Blocks: buf must be a Uint8Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array buf = info[0].As<Napi::Uint8Array>();
  double n = info[1].As<Napi::Number>().DoubleValue();
  size_t len = buf.ByteLength();
  uint8_t *p = buf.Data();
  if (!(n >= 0) || n != (double)(size_t)n || (size_t)n > (len < 32 ? 0 : (len - 32) / 64) || ((uintptr_t)p & 3) != 0) {
    Napi::RangeError::New(env, "sha256Blocks: blocks out of range for buf, or buf not aligned to 4 octets").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t h[8];
  std::memcpy(h, p, sizeof h);
  sha256_blocks(h, p + 32, (size_t)n);
  std::memcpy(p, h, sizeof h);
  wipe(h, sizeof h);
  return env.Undefined();
}

// mikeyPrfSha256(buf, inkeyLen, labelLen, outLen): the MIKEY PRF-HMAC-SHA-256 (mikey_prf.h) of
// inkey = buf[0, inkeyLen) and label = buf[inkeyLen, inkeyLen + labelLen), written to the outLen
// octets after them, in place: one scratch buffer (over 64 octets, so it has an ArrayBuffer of
// its own) rather than three small arrays that N-API would first move out of V8's heap. The
// caller copies the output and wipes the scratch. Throws TypeError / RangeError.
Napi::Value MikeyPrfSha256(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber()) {
    Napi::TypeError::New(env, "mikeyPrfSha256(buf: Uint8Array, inkeyLen: number, labelLen: number, outLen: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, "mikeyPrfSha256: buf must be a Uint8Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array buf = info[0].As<Napi::Uint8Array>();
  const size_t len = buf.ByteLength();
  size_t n[3];
  for (int i = 0; i < 3; i++) {
    double d = info[1 + i].As<Napi::Number>().DoubleValue();
    if (!(d >= 0) || d > (double)len || d != (double)(size_t)d) {
      Napi::RangeError::New(env, "mikeyPrfSha256: lengths must be integers within buf").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    n[i] = (size_t)d;
  }
  if (n[0] == 0 || n[2] == 0 || n[0] + n[1] + n[2] > len) {
    Napi::RangeError::New(env, "mikeyPrfSha256: inkeyLen and outLen must be positive, and inkey, label and output must fit in buf").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint8_t *p = buf.Data();
  mikey_prf_sha256(p, n[0], p + n[0], n[1], p + n[0] + n[1], n[2]);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = Handle::Define(env);
  env.SetInstanceData<Napi::FunctionReference>(new Napi::FunctionReference(Napi::Persistent(ctor)));
  exports.Set("run", Napi::Function::New(env, Run));
  exports.Set("runSync", Napi::Function::New(env, RunSync));
  exports.Set("runInline", Napi::Function::New(env, RunInline));
  exports.Set("cpu", Napi::Function::New(env, Cpu));
  exports.Set("p256", Napi::Boolean::New(env, p256_available()));
  exports.Set("sha256Blocks", Napi::Function::New(env, Sha256Blocks));
  exports.Set("sha256OpenSsl", Napi::Boolean::New(env, sha256_blocks_openssl()));
  exports.Set("mikeyPrfSha256", Napi::Function::New(env, MikeyPrfSha256));
  exports.Set("liveHandles", Napi::Function::New(env, [](const Napi::CallbackInfo &info) -> Napi::Value {
    return Napi::Number::New(info.Env(), (double)live_handle_count());
  }));
  // The parallel sections on or off, process-wide (every worker thread's engine shares the
  // helper): the daemon turns them off while it has more concurrent work than cores to spare.
  exports.Set("setParEnabled", Napi::Function::New(env, [](const Napi::CallbackInfo &info) -> Napi::Value {
    if (info.Length() != 1 || !info[0].IsBoolean()) {
      Napi::TypeError::New(info.Env(), "setParEnabled(boolean)").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    par::set_enabled(info[0].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  }));
  // Parallel-section counters (native/src/par.h), for tests: which path ran, never timing.
  exports.Set("parInfo", Napi::Function::New(env, [](const Napi::CallbackInfo &info) -> Napi::Value {
    par::Stats st = par::stats();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("available", Napi::Boolean::New(info.Env(), st.available));
    o.Set("parallel", Napi::Number::New(info.Env(), (double)st.parallel));
    o.Set("inline", Napi::Number::New(info.Env(), (double)st.inline_));
    o.Set("stolen", Napi::Number::New(info.Env(), (double)st.stolen));
    o.Set("startUsMean", Napi::Number::New(info.Env(), st.parallel ? st.start_ns_sum / 1e3 / (double)st.parallel : 0));
    o.Set("startUnder10us", Napi::Number::New(info.Env(), (double)st.start_lt10));
    o.Set("startUnder50us", Napi::Number::New(info.Env(), (double)st.start_lt50));
    o.Set("startUnder100us", Napi::Number::New(info.Env(), (double)st.start_lt100));
    double n = st.parallel ? (double)st.parallel : 1;
    o.Set("ownPartUsMean", Napi::Number::New(info.Env(), st.mine_ns_sum / 1e3 / n));
    o.Set("helperTaskUsMean", Napi::Number::New(info.Env(), st.task_ns_sum / 1e3 / n));
    o.Set("joinWaitUsMean", Napi::Number::New(info.Env(), st.join_ns_sum / 1e3 / n));
    o.Set("startedOnOwnersCpu", Napi::Number::New(info.Env(), (double)st.same_cpu));
    return o;
  }));
#if defined(IBAKED_VARIANT_ADX)
  exports.Set("variant", Napi::String::New(env, "adx"));
#else
  exports.Set("variant", Napi::String::New(env, "portable"));
#endif
  exports.Set("abiVersion", Napi::Number::New(env, 2));
  return exports;
}

}  // namespace
}  // namespace ibaked

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return ibaked::Init(env, exports); }

NODE_API_MODULE(ibaked_native, InitModule)
