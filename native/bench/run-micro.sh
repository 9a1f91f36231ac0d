#!/usr/bin/env bash
# Builds and runs native/bench/micro.cc against blst (ADX build if the CPU has it, else portable);
# `run-micro.sh VARIANT par` runs native/bench/par_bench.cc (wall clock, parallel paths) instead.
# Needs the addon built first (npm install / node scripts/install-native.mjs) for the blst archive.
set -euo pipefail
cd "$(dirname "$0")/../.."
variant=${1:-adx}
lib=build/Release/obj.target/blst_${variant}.a
[ -f "$lib" ] || { echo "missing $lib: build the addon first" >&2; exit 1; }
out=$(mktemp -d)/micro
src=native/bench/micro.cc
[ "${2:-}" = par ] && src=native/bench/par_bench.cc
g++ -O2 -std=c++17 -Inative/blst/bindings "$src" native/src/codec.cc native/src/gt_exp.cc \
  native/src/g1_table.cc native/src/miller.cc native/src/par.cc -pthread "$lib" -o "$out"
"$out" "${ROUNDS:-15}"
