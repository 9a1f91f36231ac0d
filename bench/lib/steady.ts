// "Until it stops getting faster": repeats a measurement until, after at least minMs, two values
// in a row are not 3 % below the best before them (one such value alone is often noise), or
// maxMs. Fresh JavaScript tiers up over its first seconds, so a fixed short warm-up leaves that
// in whatever is measured next. One rule for the daemons (daemon-load.ts warmUntilSteady) and
// the gate's in-process calls (gate-run.ts), so both reach their steady state the same way.

/** Runs `step` until steady (see above); a non-finite value (nothing measured) is skipped. */
export async function untilSteady(step: () => Promise<number>, o: { minMs: number; maxMs: number }): Promise<{ ms: number; values: number[] }> {
  const t0 = performance.now();
  const values: number[] = [];
  let flat = 0;
  for (;;) {
    const v = await step();
    if (Number.isFinite(v)) {
      flat = v >= 0.97 * Math.min(...values) ? flat + 1 : 0;
      values.push(v);
    }
    const ms = performance.now() - t0;
    if (ms >= o.maxMs || (ms >= o.minMs && flat >= 2)) return { ms, values };
  }
}
