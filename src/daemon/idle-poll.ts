// Idle polling of the main thread (docs/daemon.md §9 "Threads"; measured in docs/performance.md
// "Inline when alone, idle polling"): when the daemon's last
// request in flight has been answered, the main thread keeps turning its event loop for a short
// window (each turn polls the sockets without sleeping, then yields the core with
// sched_yield) instead of going to sleep at once. An app in the middle of an exchange sends its
// next request a few tens of microseconds after it got a reply; a sleeping thread would first
// have to be woken for it, which on the 2-vCPU host measured here costs about 20 µs on the
// daemon's side and about 7 µs more in the client's write. The yield matters: the kernel wakes
// the client on the daemon's core (a Unix socket's wake-up says the writer is about to sleep),
// and a thread that polled without yielding kept it waiting for up to the whole window.
//
// The window adapts as Linux's guest halt-polling does (cpuidle-haltpoll: grow when a wake-up
// came just after the window, shrink when it came long after the longest one). It only polls
// while requests keep following each other closely; with requests far apart it shrinks to
// nothing within a few requests, so a lightly loaded daemon does not spin for nothing.
// Under load the daemon is never idle and this never runs.

/** First window after growing from zero, and the smallest kept before shrinking to zero (µs). */
export const IDLE_POLL_START_US = 20;
/** Most a window may be configured to (µs). */
export const MAX_IDLE_POLL_US = 1000;

export interface IdlePollStats {
  /** Windows started. */
  polls: number;
  /** Windows ended by a request. */
  hits: number;
  /** Time spent polling (seconds of wall time; the thread yielded on every turn, so other runnable threads ran first). */
  seconds: number;
  /** The current window (µs); 0 = the next idle period sleeps at once. */
  windowUs: number;
}

export interface IdlePollOptions {
  /** The longest window (µs), 0 = off; read at every idle period (a reload may change it). */
  maxUs: () => number;
  /** Gives the core to another runnable thread (sched_yield); false = cannot, so never poll. */
  yieldThread: () => boolean;
  /** Monotonic clock in ms (tests: a fake one). */
  now?: () => number;
  /** Runs a function on the next turn of the event loop, after its poll phase (setImmediate). */
  nextTurn?: (f: () => void) => void;
}

export interface IdlePoller {
  /** The last request in flight was answered. */
  idle(): void;
  /** A request arrived (ends a window; adapts it to how long the daemon was idle). */
  busy(): void;
  /** Ends a window and polls no more (shutdown). */
  stop(): void;
  readonly stats: Readonly<IdlePollStats>;
}

export function idlePoller(o: IdlePollOptions): IdlePoller {
  const now = o.now ?? (() => performance.now());
  const nextTurn = o.nextTurn ?? ((f: () => void) => void setImmediate(f));
  const stats: IdlePollStats = { polls: 0, hits: 0, seconds: 0, windowUs: 0 };
  let stopped = false;
  /** Start of the current idle period (ms), or -1 while busy. */
  let idleAt = -1;
  /** End of the current window (ms), or -1 when not polling. */
  let until = -1;
  let pollStart = 0;
  let ticking = false;
  let window = 0; // µs
  let lastMax = -1; // the maximum the window was last started from

  /** The configured longest window now, within 0..MAX_IDLE_POLL_US. */
  const maxNow = () => Math.min(Math.max(0, o.maxUs()), MAX_IDLE_POLL_US);
  const endPoll = (t: number) => {
    stats.seconds += (Math.min(t, until) - pollStart) / 1000;
    until = -1;
  };
  const tick = () => {
    ticking = false;
    if (until < 0) return;
    const t = now();
    if (t >= until || !o.yieldThread()) return endPoll(t);
    ticking = true;
    nextTurn(tick);
  };

  return {
    idle() {
      if (stopped) return;
      const max = maxNow();
      if (max !== lastMax) window = lastMax = max; // first use, or a reload changed it: start afresh
      stats.windowUs = window;
      idleAt = now();
      if (window === 0) return;
      stats.polls++;
      pollStart = idleAt;
      until = idleAt + window / 1000;
      if (!ticking) {
        ticking = true;
        nextTurn(tick);
      }
    },
    busy() {
      if (idleAt < 0) return;
      const t = now();
      const gapUs = (t - idleAt) * 1000;
      idleAt = -1;
      if (until >= 0) {
        stats.hits++;
        endPoll(t);
      }
      const max = maxNow();
      if (gapUs <= window) return; // the window caught it
      if (gapUs <= max) window = Math.min(max, window === 0 ? IDLE_POLL_START_US : window * 2);
      else window = window / 2 < IDLE_POLL_START_US ? 0 : Math.floor(window / 2);
      stats.windowUs = window;
    },
    stop() {
      stopped = true;
      if (until >= 0) endPoll(now());
    },
    stats,
  };
}
