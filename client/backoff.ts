// Browser-safe: runs in browsers and in Deno.
/**
 * The retry schedule of upgrade attempts: at once the first time, then the
 * base delay doubled after each failure, never more than a bound.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * [0, 1, 2, 3, 10].map((n) => backoffDelay(n, 1000, 30_000)); // [0, 1000, 2000, 4000, 30000]
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
