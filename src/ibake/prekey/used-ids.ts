// The prekey ids of one user a mailbox has handed out (or dropped), kept until they can no longer
// matter: as sorted, disjoint ranges [lo, hi] of ids, each with the latest expiry (seconds) of
// the bundles its ids came from. A user's store makes consecutive ids and the mailbox hands out
// the lowest first, so an honest user's used ids stay one or a few ranges however many calls were
// served: memory and file size follow the ranges, not the ids. A range can be forgotten once its
// expiry has passed: every bundle holding one of its ids has expired, and `add` refuses expired
// bundles (MailboxPrekeys keeps a watermark against a clock that goes back).

/** [lo, hi, expiry]: ids lo..hi (inclusive), forgettable after `expiry` (seconds since 1970). */
export type UsedRange = [number, number, number];

/** Expiry of ids whose bundle is unknown (a version-2 table): never forgotten. */
export const NEVER = Number.MAX_SAFE_INTEGER;

export class UsedIds {
  /** Sorted by lo, disjoint, non-adjacent. */
  readonly #r: UsedRange[] = [];
  #count = 0;

  /** Index of the first range with hi >= id (r.length if none). */
  #find(id: number): number {
    let lo = 0;
    let hi = this.#r.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#r[mid]![1] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(id: number): boolean {
    const r = this.#r[this.#find(id)];
    return r !== undefined && r[0] <= id;
  }

  /** Marks `id` used; a range it joins keeps the later expiry (forgetting later is safe). */
  add(id: number, expiry: number): void {
    const i = this.#find(id);
    const at = this.#r[i];
    if (at && at[0] <= id) {
      at[2] = Math.max(at[2], expiry);
      return;
    }
    this.#count++;
    const before = this.#r[i - 1];
    const joinsBefore = before !== undefined && before[1] === id - 1;
    const joinsAfter = at !== undefined && at[0] === id + 1;
    if (joinsBefore && joinsAfter) {
      before[1] = at[1];
      before[2] = Math.max(before[2], at[2], expiry);
      this.#r.splice(i, 1);
    } else if (joinsBefore) {
      before[1] = id;
      before[2] = Math.max(before[2], expiry);
    } else if (joinsAfter) {
      at[0] = id;
      at[2] = Math.max(at[2], expiry);
    } else {
      this.#r.splice(i, 0, [id, id, expiry]);
    }
  }

  /**
   * Appends a range read from a file: false (nothing changed) unless it is well formed and lies
   * above every range already held (the file keeps them sorted and disjoint).
   */
  appendRange(r: unknown): boolean {
    if (!Array.isArray(r) || r.length !== 3 || !r.every((v) => Number.isSafeInteger(v))) return false;
    const [lo, hi, exp] = r as UsedRange;
    const last = this.#r[this.#r.length - 1];
    if (lo < 1 || hi < lo || hi > 0xffffffff || exp < 0 || (last !== undefined && lo <= last[1] + 1)) return false;
    this.#r.push([lo, hi, exp]);
    this.#count += hi - lo + 1;
    return true;
  }

  /** Forgets the ranges whose expiry is at or before `nowSec`; returns the latest expiry forgotten (0 if none). */
  prune(nowSec: number): number {
    let latest = 0;
    for (let i = this.#r.length - 1; i >= 0; i--) {
      const [lo, hi, exp] = this.#r[i]!;
      if (exp > nowSec) continue;
      latest = Math.max(latest, exp);
      this.#count -= hi - lo + 1;
      this.#r.splice(i, 1);
    }
    return latest;
  }

  /** How many ids. */
  get size(): number {
    return this.#count;
  }

  /** How many ranges (what they cost). */
  get ranges(): number {
    return this.#r.length;
  }

  /** The ranges, for the snapshot (copies). */
  toJSON(): UsedRange[] {
    return this.#r.map((r) => [...r] as UsedRange);
  }
}
