// Browser-safe: no Deno or Node APIs.
/**
 * A token bucket, shared by the server (which enforces its relay rate) and
 * the client (which paces itself below it).
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./token_bucket.ts";
 * const bucket = new TokenBucket(10, 20); // 10 per second, bursts of 20
 * if (!bucket.take(1)) console.log("over the limit");
 * ```
 *
 * @module
 */

/**
 * The default clock, in ms. One bound function for every bucket: a server
 * holds a few buckets per socket, and a binding each would cost 48 bytes.
 */
export const monotonicNow: () => number = performance.now.bind(performance);

/** A token bucket: `rate` tokens a second, holding at most `capacity`. */
export class TokenBucket {
  #tokens: number;
  #last: number;

  /**
   * @param rate Tokens added per second.
   * @param capacity The most tokens held (the burst).
   * @param now The clock, in ms (for tests).
   */
  constructor(
    readonly rate: number,
    readonly capacity: number,
    private readonly now: () => number = monotonicNow,
  ) {
    this.#tokens = capacity;
    this.#last = now();
  }

  /** The tokens held now, refilled to this moment. */
  get level(): number {
    this.take(0);
    return this.#tokens;
  }

  /**
   * Takes `n` tokens when there are enough.
   *
   * @param n Tokens to take.
   * @param now The time now, in ms, when the caller has read the clock
   * already (one read serves several buckets).
   * @returns False (and takes nothing) when there are fewer than `n`.
   */
  take(n = 1, now: number = this.now()): boolean {
    this.#tokens = refill(this.#tokens, now - this.#last, this.rate, this.capacity);
    this.#last = now;
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }
}

/**
 * The tokens a bucket holds `ms` after it held `tokens`: `rate` more a
 * second, at most `capacity`. For counters that keep a bucket's two numbers
 * themselves rather than a {@linkcode TokenBucket}.
 *
 * @example
 * ```ts
 * refill(0, 500, 10, 20); // 5
 * refill(18, 1000, 10, 20); // 20
 * ```
 */
export function refill(tokens: number, ms: number, rate: number, capacity: number): number {
  return Math.min(capacity, tokens + ms / 1000 * rate);
}
