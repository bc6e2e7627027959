import assert from "node:assert/strict";
import {
  next,
  paired,
  pairOf,
  record,
  sequenceProblems,
  sleep,
  startServer,
  stream,
  until,
  upgraded,
} from "./_fixtures.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "after a server restart both peers re-pair on their own and no relayed message is lost or repeated",
  opts,
  async () => {
    const first = await startServer();
    const port = first.port;
    const [a, b] = pairOf(first.url, "phoenix");
    await using _a = a;
    await using _b = b;
    const atA = record(a);
    const atB = record(b);
    await paired(a, b);
    const rejoined = Promise.all([next(a, "reconnect", 30_000), next(b, "reconnect", 30_000)]);
    const attempts: number[] = [];
    a.on("reconnect_attempt", (n) => attempts.push(n));
    let second: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      let restarted = false;
      const restart = async (sent: number) => {
        if (sent < 300 || restarted) return;
        restarted = true;
        await first.close(); // frames in flight through the relay die with it
        second = await startServer({ port });
      };
      await Promise.all([stream(a, 1000, restart), stream(b, 1000, restart)]);
      await rejoined;
      await until(
        () => atA.length >= 1000 && atB.length >= 1000,
        "1,000 messages each way",
        30_000,
      );
      await Promise.all([a.flush(), b.flush()]);
      await sleep(50);
      assert.equal(sequenceProblems(atB, 1000), null);
      assert.equal(sequenceProblems(atA, 1000), null);
      assert.equal(a.path, "relay");
      assert.ok(attempts.length >= 1 && attempts[0] === 1, `reconnect attempts: ${attempts}`);
      assert.ok(a.connected && b.connected);
      assert.equal((await second!.stats()).paired, 1);
    } finally {
      await second?.close();
    }
  },
);

Deno.test(
  "an open DataChannel carries on through a server restart, and the peers re-pair",
  opts,
  async () => {
    const first = await startServer();
    const port = first.port;
    const [a, b] = pairOf(first.url, "direct-phoenix", { webrtc: true });
    await using _a = a;
    await using _b = b;
    await upgraded(a, b);
    const atB = record(b);
    const rejoined = Promise.all([next(a, "reconnect", 30_000), next(b, "reconnect", 30_000)]);
    await first.close();
    a.send("while the server is down");
    await until(() => atB.length === 1, "direct delivery with no server");
    const second = await startServer({ port });
    try {
      await rejoined;
      assert.equal(a.path, "p2p");
      a.send("after the restart");
      await until(() => atB.length === 2, "delivery after the restart");
      assert.deepEqual(atB, ["while the server is down", "after the restart"]);
    } finally {
      await second.close();
    }
  },
);
