// Rejection reasons of the native engine. The names are exactly the EngineError reasons of
// src/engine/errors.ts; the JavaScript wrapper turns them into EngineError objects.
#pragma once

namespace ibaked {

enum class Reason {
  Ok = 0,
  Length,
  Type,
  NonCanonical,
  NotOnCurve,
  NotInSubgroup,
  Identity,
  ScalarRange,
  Freed,
  IbeCheck,  // fused BF core: l = 0, or the Fujisaki–Okamoto check [l]P == U failed
  Unavailable,  // P256Mul: no OpenSSL in this process (p256.h)
};

inline const char *reason_name(Reason r) {
  switch (r) {
    case Reason::Ok: return "ok";
    case Reason::Length: return "length";
    case Reason::Type: return "type";
    case Reason::NonCanonical: return "non-canonical";
    case Reason::NotOnCurve: return "not-on-curve";
    case Reason::NotInSubgroup: return "not-in-subgroup";
    case Reason::Identity: return "identity";
    case Reason::ScalarRange: return "scalar-range";
    case Reason::Freed: return "freed";
    case Reason::IbeCheck: return "ibe-check";
    case Reason::Unavailable: return "unavailable";
  }
  return "type";
}

/** A failed operation: reason plus a short, key-free message. */
struct Failure {
  Reason reason;
  const char *message;
};

}  // namespace ibaked
