import assert from "node:assert/strict";
import { backoffDelay, MAX_RETRY_DELAY, retryDelay } from "../client/backoff.ts";

Deno.test("backoffDelay() tries at once, then doubles the base delay after each failure", () => {
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => backoffDelay(n, 1000)), [0, 1000, 2000, 4000, 8000]);
});

Deno.test("backoffDelay() never exceeds its bound, however many failures", () => {
  assert.equal(backoffDelay(6, 1000), MAX_RETRY_DELAY);
  assert.equal(backoffDelay(1000, 1000), MAX_RETRY_DELAY);
  assert.equal(backoffDelay(3, 100, 250), 250);
});

Deno.test("retryDelay() retries a first failure at once, then backs off from the base delay", () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelay(n, 1000)), [0, 1000, 2000, 4000, 8000]);
  assert.equal(retryDelay(1000, 1000), MAX_RETRY_DELAY);
  assert.equal(retryDelay(4, 100, 250), 250);
});
