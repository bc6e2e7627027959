/**
 * Bounds on what one hostile connection can make the server hold: each test
 * reproduces a hole the adversarial suite found (a burst of namespace
 * connects, refusals piling up for a client that never reads, signals to a
 * stalled receiver), now closed.
 */
import assert from "node:assert/strict";
import { describeAttack, growthOf, refusalFloodAttack, stalledSignalAttack } from "./_abuse.ts";
import { concat, latin1, mb, startServerProcess, upgradeRequest, wsFrame } from "./_faults.ts";
import { sleep, startServer } from "./_fixtures.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const MB = 1024 * 1024;
const encoder = new TextEncoder();

/**
 * Opens a raw WebSocket to the server, waits for the Engine.IO handshake,
 * and sends 10,000 namespace connects (`40`) in one write. socket.io makes
 * each namespace socket on the next tick, so every `40` of one read arrives
 * before the first is registered, and each is taken as a new socket.
 */
async function connectBurst(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encoder.encode(upgradeRequest(port)));
  const buffer = new Uint8Array(64 * 1024);
  let seen = "";
  while (!seen.includes('0{"sid"')) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("closed during the handshake");
    seen += latin1(buffer.subarray(0, n));
  }
  await conn.write(concat(Array.from({ length: 10_000 }, () => wsFrame(1, "40"))));
  return conn;
}

/** Polls `value` until it holds still for a few polls (or `ms` pass); returns it. */
async function settled(value: () => Promise<number> | number, ms = 15_000): Promise<number> {
  const deadline = Date.now() + ms;
  let last = await value();
  let steady = 0;
  while (steady < 5 && Date.now() < deadline) {
    await sleep(100);
    const now = await value();
    steady = now === last ? steady + 1 : 0;
    last = now;
  }
  return last;
}

Deno.test(
  "one connection holds one socket: a burst of 10,000 namespace connects (40) does not open 10,000 sockets",
  opts,
  async () => {
    await using server = await startServer();
    const conn = await connectBurst(Number(new URL(server.url).port));
    try {
      const sockets = await settled(async () => (await server.stats()).sockets);
      console.log(`one connection, one burst: ${sockets} sockets`);
      assert.ok(sockets <= 1, `one connection opened ${sockets} sockets`);
    } finally {
      conn.close();
    }
  },
);

Deno.test(
  "one connection is authorized once: a burst of 10,000 namespace connects does not call authorize() 10,000 times",
  opts,
  async () => {
    let calls = 0;
    await using server = await startServer({
      authorize: () => {
        calls++;
        return true;
      },
    });
    const conn = await connectBurst(Number(new URL(server.url).port));
    try {
      await settled(() => calls);
      console.log(`one connection, one burst: ${calls} authorize() calls`);
      assert.ok(calls <= 1, `authorize() ran ${calls} times for one connection`);
    } finally {
      conn.close();
    }
  },
);

Deno.test(
  "a client that never reads cannot make the server queue refusals without bound: it is disconnected and server RSS grows by at most 64 MB",
  opts,
  async () => {
    await using server = await startServerProcess();
    const attack = await refusalFloodAttack(server);
    const growth = growthOf(attack);
    console.log(describeAttack(attack, "unknown events from a client that never reads"));
    assert.ok(server.alive());
    assert.ok(growth <= 64 * MB, `server RSS grew by ${mb(growth)} for ${mb(attack.pushed)} sent`);
    assert.ok(attack.dropped, "the server kept reading from a client that never reads");
  },
);

Deno.test(
  "signals to a receiver that stops reading are bounded like data: it is dropped, and server RSS grows by at most 64 MB",
  opts,
  async () => {
    await using server = await startServerProcess();
    const attack = await stalledSignalAttack(server);
    const growth = growthOf(attack);
    console.log(describeAttack(attack, "offers at a receiver that stopped reading"));
    assert.ok(attack.dropped, "the stalled receiver was never dropped");
    assert.ok(growth <= 64 * MB, `server RSS grew by ${mb(growth)}`);
  },
);
