import assert from "node:assert/strict";
import { TokenBucket } from "../protocol/token_bucket.ts";
import { AddressThrottle, ConnectionCounter, RelayRateLimiter } from "../server/limits.ts";

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

Deno.test("TokenBucket allows a burst, refuses past it, and refills with time", () => {
  const c = clock();
  const bucket = new TokenBucket(10, 5, c.now);
  for (let i = 0; i < 5; i++) assert.ok(bucket.take());
  assert.equal(bucket.take(), false);
  c.advance(100); // one token
  assert.ok(bucket.take());
  assert.equal(bucket.take(), false);
  c.advance(10_000);
  for (let i = 0; i < 5; i++) assert.ok(bucket.take(), "refills only up to capacity");
  assert.equal(bucket.take(), false);
});

Deno.test("RelayRateLimiter warns once past the rate, then disconnects a socket that stays past it", () => {
  const c = clock();
  const limiter = new RelayRateLimiter({ messagesPerSecond: 10, bytesPerSecond: 1e9 }, 1000, c.now);
  const verdicts: string[] = [];
  for (let i = 0; i < 25; i++) verdicts.push(limiter.frame(10));
  assert.deepEqual(verdicts.slice(0, 20), Array(20).fill("ok"), "two seconds of burst");
  assert.equal(verdicts[20], "warn");
  assert.deepEqual(verdicts.slice(21), Array(4).fill("ok"), "grace after the warning");
  // Keep flooding at ten times the rate: 2 frames every 20 ms.
  let verdict = "ok";
  for (let step = 0; step < 100 && verdict !== "disconnect"; step++) {
    c.advance(20);
    limiter.frame(10);
    verdict = limiter.frame(10);
  }
  assert.equal(verdict, "disconnect");
  assert.ok(c.now() > 1000, "not before the grace period ended");
});

Deno.test("RelayRateLimiter forgives a socket that slows down within the grace period", () => {
  const c = clock();
  const limiter = new RelayRateLimiter({ messagesPerSecond: 10, bytesPerSecond: 1e9 }, 1000, c.now);
  for (let i = 0; i < 20; i++) limiter.frame(1);
  assert.equal(limiter.frame(1), "warn");
  c.advance(500);
  assert.equal(limiter.frame(1), "ok", "back within the rate");
  c.advance(5000);
  assert.equal(limiter.frame(1), "ok");
});

Deno.test("RelayRateLimiter counts bytes as well as frames", () => {
  const c = clock();
  const limiter = new RelayRateLimiter(
    { messagesPerSecond: 1e6, bytesPerSecond: 1000 },
    1000,
    c.now,
  );
  assert.equal(limiter.frame(2000), "ok");
  assert.equal(limiter.frame(1), "warn");
});

Deno.test("ConnectionCounter caps connections per address and frees them on close", () => {
  const counter = new ConnectionCounter();
  assert.ok(counter.tryAdd("1.2.3.4", 2));
  assert.ok(counter.tryAdd("1.2.3.4", 2));
  assert.equal(counter.tryAdd("1.2.3.4", 2), false);
  assert.ok(counter.tryAdd("__proto__", 2), "addresses are plain keys");
  counter.remove("1.2.3.4");
  assert.ok(counter.tryAdd("1.2.3.4", 2));
  assert.equal(counter.count("1.2.3.4"), 2);
});

Deno.test("AddressThrottle lets an address make its quota of requests, then refuses", () => {
  const throttle = new AddressThrottle(3);
  assert.ok(throttle.allow("a"));
  assert.ok(throttle.allow("a"));
  assert.ok(throttle.allow("a"));
  assert.equal(throttle.allow("a"), false);
  assert.ok(throttle.allow("b"), "other addresses are unaffected");
});
