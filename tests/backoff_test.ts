import assert from "node:assert/strict";
import { backoffDelay, MAX_RETRY_DELAY } from "../client/backoff.ts";

Deno.test("backoffDelay() tries at once, then doubles the base delay after each failure", () => {
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => backoffDelay(n, 1000)), [0, 1000, 2000, 4000, 8000]);
});

Deno.test("backoffDelay() never exceeds its bound, however many failures", () => {
  assert.equal(backoffDelay(6, 1000), MAX_RETRY_DELAY);
  assert.equal(backoffDelay(1000, 1000), MAX_RETRY_DELAY);
  assert.equal(backoffDelay(3, 100, 250), 250);
});
