// Placeholder until the native build lands: the package install must never fail.
console.warn('ibaked: native addon build not configured yet; engines fall back to wasm/ts');
