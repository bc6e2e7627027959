// Browser-safe: runs in browsers and in Deno.
/**
 * The retry schedule of upgrade attempts: at once the first time, then the
 * base delay doubled after each failure, never more than a bound; a failed
 * attempt is retried at once the first time ({@linkcode retryDelay}).
 *
 * @example
 * ```ts
 * import { backoffDelay, retryDelay } from "./backoff.ts";
 * [0, 1, 2, 3, 10].map((n) => backoffDelay(n, 1000, 30_000)); // [0, 1000, 2000, 4000, 30000]
 * [1, 2, 3, 4].map((n) => retryDelay(n, 1000)); // [0, 1000, 2000, 4000]
 * ```
 *
 * @module
 */

/** The longest wait between two attempts, in ms. */
export const MAX_RETRY_DELAY = 30_000;

/**
 * How long to wait before the next attempt.
 *
 * @param failures Attempts failed in a row so far.
 * @param base The delay after the first failure, in ms.
 * @param max The bound, in ms.
 * @returns The delay in ms.
 */
export function backoffDelay(
  failures: number,
  base: number,
  max: number = MAX_RETRY_DELAY,
): number {
  if (failures <= 0) return 0;
  return Math.min(base * 2 ** Math.min(failures - 1, 30), max);
}

/**
 * How long to wait before the next attempt after a failed one: no time after
 * the first failure in a row, then as {@linkcode backoffDelay} from the base.
 *
 * Why at once: on a network where the direct path works, a failure is a
 * transient race, and one more attempt costs a few signals. With
 * node-datachannel 0.33.4 (libdatachannel 0.24.5) the offerer's ICE can
 * connect while it applies the answer, before the partner's certificate
 * fingerprint is recorded; the DTLS handshake then fails, in about one
 * pairing in a few hundred on a loaded machine, and the next attempt
 * succeeds.
 *
 * @param failures Attempts failed in a row so far, at least 1.
 * @param base The delay after the second failure, in ms.
 * @param max The bound, in ms.
 * @returns The delay in ms.
 */
export function retryDelay(
  failures: number,
  base: number,
  max: number = MAX_RETRY_DELAY,
): number {
  return failures <= 1 ? 0 : backoffDelay(failures - 1, base, max);
}
