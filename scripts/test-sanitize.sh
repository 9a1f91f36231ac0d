#!/usr/bin/env bash
# `npm run test:sanitize`: builds an AddressSanitizer + UndefinedBehaviorSanitizer variant of
# the native addon in build/sanitize/ (a copy of binding.gyp built with -Dsanitize=1, so the
# release build in build/Release is untouched), then runs the engine tests against it with
# the ASan runtime preloaded into node. Any ASan report or UB aborts the process -> failure.
#   SANITIZE_TESTS="test/a.test.ts ..."   override the test files
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT="$ROOT/build/sanitize"
node native/blst-sources.mjs >/dev/null
rm -rf "$OUT"
mkdir -p "$OUT/native"
cp binding.gyp "$OUT/"
cp -r native/src "$OUT/native/src"
ln -s "$ROOT/native/blst" "$OUT/native/blst"

GYP=${npm_config_node_gyp:-}
if [ -z "$GYP" ]; then
  for c in "$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js" \
           /usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js; do
    [ -f "$c" ] && GYP=$c && break
  done
fi
[ -n "$GYP" ] || { echo "node-gyp not found" >&2; exit 1; }
NODEDIR_ARG=()
if [ -n "${npm_config_nodedir:-}" ]; then NODEDIR_ARG=(--nodedir="$npm_config_nodedir");
elif [ -f /usr/include/node/common.gypi ]; then NODEDIR_ARG=(--nodedir=/usr); fi

echo "test:sanitize: building the ASan+UBSan addon in $OUT"
(cd "$OUT" && NODE_PATH="$ROOT/node_modules" node "$GYP" rebuild -j 2 "${NODEDIR_ARG[@]}" -- -Dsanitize=1 >"$OUT/build.log" 2>&1) \
  || { tail -30 "$OUT/build.log"; exit 1; }

ASAN_LIB=$(gcc -print-file-name=libasan.so)
[ -f "$ASAN_LIB" ] || { echo "libasan not found (install gcc's libasan)" >&2; exit 1; }
export LD_PRELOAD="$ASAN_LIB"
# Node itself is not instrumented and keeps memory until exit: no leak check; stop on any error.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_odr_violation=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export IBAKED_REQUIRE_NATIVE=1

TESTS=${SANITIZE_TESTS:-"test/engine-native-misuse.test.ts test/engine-native-edges.test.ts test/engine-native-par.test.ts test/engine-reject.test.ts test/engine-properties.test.ts test/engine-vectors.test.ts test/ibe-bf-core.test.ts test/ibake-ecdh.test.ts test/engine-multipairing.test.ts test/engine-native-inline.test.ts test/mikey-hmac.test.ts test/mikey-prf.test.ts"}
status=0
for variant in ibaked_native_adx ibaked_native; do
  node_file="$OUT/build/Release/$variant.node"
  if [ "$variant" = ibaked_native_adx ] && ! grep -qw adx /proc/cpuinfo 2>/dev/null; then
    echo "test:sanitize: CPU without ADX, skipping $variant"; continue
  fi
  echo "test:sanitize: running engine tests against $variant (sanitized)"
  # shellcheck disable=SC2086
  IBAKED_NATIVE_PATH="$node_file" TEST_ENGINES=native npx vitest run $TESTS || status=1
done
# The cross test also runs the ts backend beside native: once, against the ADX/default variant.
if [ -z "${SANITIZE_TESTS:-}" ] && [ -f test/engine-cross.test.ts ]; then
  v=ibaked_native_adx; grep -qw adx /proc/cpuinfo 2>/dev/null || v=ibaked_native
  IBAKED_NATIVE_PATH="$OUT/build/Release/$v.node" TEST_ENGINES=ts,native npx vitest run test/engine-cross.test.ts || status=1
fi
# The tiny OS addons (ibaked_sched; ibaked_peercred through the daemon tests that use it),
# sanitized, through their own tests.
if [ -z "${SANITIZE_TESTS:-}" ]; then
  echo "test:sanitize: ibaked_sched and ibaked_peercred (sanitized)"
  IBAKED_SCHED_PATH="$OUT/build/Release/ibaked_sched.node" IBAKED_PEERCRED_PATH="$OUT/build/Release/ibaked_peercred.node" \
    npx vitest run test/router-sched.test.ts test/daemon-identity-uids.test.ts || status=1
fi
# The parallel sections' C++ check (native/check/par_check.cc: helper thread, adaptive cut,
# concurrent callers) built with the same sanitizers, without node.
if [ -z "${SANITIZE_TESTS:-}" ]; then
  echo "test:sanitize: scripts/par-check with ASan+UBSan"
  (unset LD_PRELOAD; ITERS=60 PAR_CHECK_CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
    bash scripts/par-check) || status=1
  # ThreadSanitizer on the same check: our hand-off and the parts' buffers (blst's assembly is
  # not instrumented; every buffer a part hands over is copied in instrumented code).
  echo "test:sanitize: scripts/par-check with TSan"
  (unset LD_PRELOAD; ITERS=60 TSAN_OPTIONS="halt_on_error=1" PAR_CHECK_CFLAGS="-O1 -g -fsanitize=thread" \
    bash scripts/par-check) || status=1
fi
[ $status -eq 0 ] && echo "test:sanitize: PASS" || echo "test:sanitize: FAIL"
exit $status
