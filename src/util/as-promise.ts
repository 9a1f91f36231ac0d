// A call whose synchronous throw must reach the caller as a rejected promise, like every other
// failure of an API that returns promises (engines' operations, the daemon's request handlers
// and the guards around them). A promise that `fn` returns is passed on as it is, without a
// further promise layer, so wrapping costs the hot path nothing but the call.

/** `fn()` as a promise: its value resolved, its promise as it is, its throw a rejection. */
export function asPromise<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}
