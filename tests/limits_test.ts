import assert from "node:assert/strict";
import { TokenBucket } from "../protocol/token_bucket.ts";
import {
  AddressThrottle,
  ConnectionCounter,
  type RelayRate,
  RelayRateLimiter,
} from "../server/limits.ts";

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

/**
 * The verdicts of a relay rate kept in two token buckets (two seconds of burst each): a packet
 * takes from the byte bucket only once the packet bucket let it through; past the rate a socket
 * is warned, forgiven once both buckets refilled halfway, disconnected after `graceMs` past it.
 */
function referenceLimiter(rate: RelayRate, graceMs: number, now: () => number) {
  const messages = new TokenBucket(rate.messagesPerSecond, rate.messagesPerSecond * 2, now);
  const bytes = new TokenBucket(rate.bytesPerSecond, rate.bytesPerSecond * 2, now);
  let overSince: number | null = null;
  return (size: number): string => {
    const within = messages.take(1) && bytes.take(size);
    if (overSince === null) {
      if (within) return "ok";
      overSince = now();
      return "warn";
    }
    if (within && messages.level >= messages.capacity / 2 && bytes.level >= bytes.capacity / 2) {
      overSince = null;
      return "ok";
    }
    return now() - overSince > graceMs ? "disconnect" : "ok";
  };
}

Deno.test("RelayRateLimiter gives the verdicts of a packet bucket and a byte bucket", () => {
  const c = clock();
  const rate = { messagesPerSecond: 1000, bytesPerSecond: 128_000 };
  let seed = 42;
  const random = (n: number) => Math.floor((seed = (seed * 16807) % 2147483647) / 2147483647 * n);
  const seen: Record<string, number> = { ok: 0, warn: 0, disconnect: 0 };
  for (let socket = 0; socket < 16; socket++) {
    const limiter = new RelayRateLimiter(rate, 5000, c.now);
    const expected = referenceLimiter(rate, 5000, c.now);
    // Phases of random length: within the rate, then a flood of small packets (at times a long
    // one) or of large ones, and so on.
    for (let phase = 0, verdict = "ok"; phase < 40 && verdict !== "disconnect"; phase++) {
      const kind = phase % 2 === 0 ? 0 : 1 + random(2);
      const length = random(kind === 1 && random(4) === 0 ? 40_000 : 4000);
      for (let i = length; i >= 0 && verdict !== "disconnect"; i--) {
        c.advance(kind === 0 ? random(8) : Number(random(4) === 0));
        const size = kind === 2 ? random(2000) : random(200);
        verdict = limiter.frame(size);
        assert.equal(verdict, expected(size), `socket ${socket}, phase ${phase}`);
        seen[verdict]++;
      }
    }
  }
  assert.ok(seen.warn > 16, `warned ${seen.warn} times: forgiven in between`);
  assert.ok(seen.disconnect > 0, "some socket stayed past its rate");
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
