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
  }
  return "type";
}

/** A failed operation: reason plus a short, key-free message. */
struct Failure {
  Reason reason;
  const char *message;
};

}  // namespace ibaked
