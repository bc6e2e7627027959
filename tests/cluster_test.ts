/**
 * Cluster mode end to end: a real redis-server, server nodes as processes of
 * their own (`server.ts` with `REDIS_URL`, or tests/_cluster_node.ts where a
 * short node timeout is needed), Deno peers on different nodes.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { SocketPeer } from "../client.ts";
import { health, healthUntil, metrics, type Node, startNode, startProxy } from "./_cluster.ts";
import {
  next,
  nodeWrtc,
  paired,
  peer,
  record,
  sequenceProblems,
  sleep,
  startServer,
  stream,
  until,
  upgraded,
} from "./_fixtures.ts";
import { startRedis } from "./_redis.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Starts `n` nodes on one Redis. */
async function nodes(
  redisUrl: string,
  n: number,
  options?: Parameters<typeof startNode>[1],
): Promise<Node[] & AsyncDisposable> {
  const started = await Promise.all(Array.from({ length: n }, () => startNode(redisUrl, options)));
  return Object.assign(started, {
    [Symbol.asyncDispose]: async () => void await Promise.all(started.map((s) => s.kill())),
  });
}

Deno.test(
  "peers on two nodes pair, relay both ways and upgrade to P2P; a third peer on a third node is busy",
  opts,
  async () => {
    await using redis = await startRedis();
    await using cluster = await nodes(redis.url, 3);
    const [one, two, three] = cluster;
    await using a = peer(one.url, { pairCode: "across", wrtc: nodeWrtc });
    await using b = peer(two.url, { pairCode: "across", wrtc: nodeWrtc });
    const atA = record(a);
    const atB = record(b);
    a.send("relayed from a");
    a.send(new Uint8Array([0, 1, 255]));
    b.send({ relayed: "from b" });
    await until(() => atB.length === 2 && atA.length === 1, "relayed data both ways");
    assert.equal(atB[0], "relayed from a");
    assert.deepEqual([...new Uint8Array(atB[1] as ArrayBuffer)], [0, 1, 255]);
    assert.deepEqual(atA[0], { relayed: "from b" });
    assert.ok(a.stats().relay.messagesSent >= 2 && b.stats().relay.messagesSent >= 1);
    assert.equal(a.stats().partnerId, b.peerId);
    assert.equal(b.stats().partnerId, a.peerId);

    await upgraded(a, b);
    a.send("direct from a");
    b.send("direct from b");
    await until(() => atB.length === 3 && atA.length === 2, "direct data both ways");
    assert.deepEqual([atB[2], atA[1]], ["direct from a", "direct from b"]);
    assert.ok(a.stats().p2p.messagesSent >= 1 && b.stats().p2p.messagesSent >= 1);

    await using c = peer(three.url, { pairCode: "across" });
    const [err] = await next(c, "busy");
    assert.equal(err.code, "ERR_BUSY");
    assert.ok(a.connected && b.connected, "the pair is untouched");
    const [h1, h2, h3] = await Promise.all(cluster.map(health));
    for (const h of [h1, h2, h3]) {
      assert.equal(h.code, 200);
      assert.equal(h.redis, "ok");
      assert.equal(h.paired, 1, "pair counts are the cluster's");
    }
    assert.ok((h1.framesRelayed as number) > 0 && (h2.framesRelayed as number) > 0);
    assert.equal(h3.busy, 1);
    assert.match(
      await metrics(one),
      /^socketpeer_signals_total\{type="(offer|answer)"\} [1-9]\d*$/m,
    );
    assert.match(await metrics(three), /^socketpeer_busy_total 1$/m);
  },
);

Deno.test(
  "binary frames cross Redis as MessagePack bin, not base64: Redis reads about one byte per byte relayed",
  opts,
  async () => {
    await using redis = await startRedis();
    await using cluster = await nodes(redis.url, 2);
    await using a = peer(cluster[0].url, { pairCode: "bytes" });
    await using b = peer(cluster[1].url, { pairCode: "bytes" });
    await paired(a, b);
    const inputBytes = async () =>
      Number(/total_net_input_bytes:(\d+)/.exec(await redis.command("INFO", "stats"))![1]);
    const payload = 8 * 1024 * 1024;
    const chunk = new Uint8Array(60_000).map((_, i) => i % 251);
    const before = await inputBytes();
    let sent = 0;
    while (sent < payload) {
      if (!a.send(chunk)) await next(a, "drain", 30_000);
      sent += chunk.byteLength;
    }
    await a.flush();
    const ratio = (await inputBytes() - before) / sent;
    console.log(`Redis read ${ratio.toFixed(3)} bytes per payload byte relayed across nodes`);
    assert.ok(ratio >= 1, `the frames went through Redis (ratio ${ratio})`);
    assert.ok(ratio < 1.1, `no base64 inflation (which would be ≥ 1.33): ratio ${ratio}`);
  },
);

Deno.test(
  "fifty pairs racing to pair across three nodes each pair exactly once",
  opts,
  async () => {
    await using redis = await startRedis();
    await using cluster = await nodes(redis.url, 3);
    const pairs = Array.from({ length: 50 }, (_, k) => [
      peer(cluster[k % 3].url, { pairCode: `race-${k}`, autoconnect: false }),
      peer(cluster[(k + 1) % 3].url, { pairCode: `race-${k}`, autoconnect: false }),
    ]);
    const all = pairs.flat();
    const found = new Map<SocketPeer, number>();
    let busy = 0;
    for (const p of all) {
      p.on("peer.found", () => found.set(p, (found.get(p) ?? 0) + 1));
      p.on("busy", () => busy++);
    }
    try {
      for (const p of all) p.connect(); // all at once
      await until(() => all.every((p) => p.connected), "every peer is paired", 60_000);
      await sleep(200); // a second introduction, if there were one, would show now
      assert.equal(busy, 0);
      for (const [x, y] of pairs) {
        assert.equal(x.stats().partnerId, y.peerId);
        assert.equal(y.stats().partnerId, x.peerId);
      }
      assert.deepEqual([...found.values()].filter((n) => n !== 1), [], "each found once");
      assert.equal(found.size, 100);
      const h = await health(cluster[0]);
      assert.deepEqual([h.paired, h.waiting], [50, 0]);
    } finally {
      for (const p of all) p.close();
    }
  },
);

/**
 * Streams 1,000 numbered messages each way between `a` and `b`, lets `fault`
 * strike once 300 are sent, and checks that both re-pair and that nothing
 * is lost, repeated or reordered.
 */
async function streamThrough(a: SocketPeer, b: SocketPeer, fault: () => Promise<unknown>) {
  const atA = record(a);
  const atB = record(b);
  const rejoined = Promise.all([next(a, "reconnect", 60_000), next(b, "reconnect", 60_000)]);
  let struck = false;
  const strike = async (sent: number) => {
    if (sent < 300 || struck) return;
    struck = true;
    await fault();
  };
  await Promise.all([stream(a, 1000, strike), stream(b, 1000, strike)]);
  await rejoined;
  await until(() => atA.length >= 1000 && atB.length >= 1000, "1,000 messages each way", 60_000);
  await Promise.all([a.flush(), b.flush()]);
  await sleep(50);
  assert.equal(sequenceProblems(atB, 1000), null);
  assert.equal(sequenceProblems(atA, 1000), null);
}

Deno.test(
  "a node killed with SIGKILL mid-stream: its peers re-pair through another node, nothing lost or repeated, no ghost pairs",
  opts,
  async () => {
    await using redis = await startRedis();
    const nodeTimeout = 2000;
    await using cluster = await nodes(redis.url, 3, {
      entry: "tests/_cluster_node.ts",
      env: { NODE_TIMEOUT: String(nodeTimeout) },
    });
    const [doomed, spare, steady] = cluster;
    // A load balancer in front of two nodes: `a` lands on `doomed` first.
    using balancer = startProxy([doomed.port, spare.port]);
    await using a = peer(balancer.url, { pairCode: "survivor" });
    await using b = peer(steady.url, { pairCode: "survivor" });
    // A pair wholly on the doomed node whose peers never come back.
    using g1 = peer(doomed.url, { pairCode: "ghost", reconnect: false });
    using g2 = peer(doomed.url, { pairCode: "ghost", reconnect: false });
    await Promise.all([paired(a, b), paired(g1, g2)]);
    assert.deepEqual(balancer.routes, [doomed.port]);
    await streamThrough(a, b, () => doomed.kill("SIGKILL"));
    assert.equal(balancer.routes.at(-1), spare.port, "a reached the surviving node");
    assert.ok(b.stats().resent > 0, "frames sent towards the dead node were sent again");
    assert.ok(a.connected && b.connected);

    // Once the dead node's heartbeat lapses, its pairs are gone.
    await healthUntil(
      spare,
      (h) => h.paired === 1 && h.waiting === 0,
      "only the re-paired pair is left",
      nodeTimeout * 10,
    );
    await using h1 = peer(spare.url, { pairCode: "ghost" });
    await using h2 = peer(steady.url, { pairCode: "ghost" });
    await paired(h1, h2);
  },
);

Deno.test(
  "a node stopped with SIGTERM mid-stream: its peers move to another node, nothing lost or repeated, and its entries go at once",
  opts,
  async () => {
    await using redis = await startRedis();
    await using cluster = await nodes(redis.url, 3);
    const [draining, spare, steady] = cluster;
    using balancer = startProxy([draining.port, spare.port]);
    await using a = peer(balancer.url, { pairCode: "drain" });
    await using b = peer(steady.url, { pairCode: "drain" });
    await paired(a, b);
    assert.deepEqual(balancer.routes, [draining.port]);
    await streamThrough(a, b, async () => {
      const { code } = await draining.kill("SIGTERM");
      assert.equal(code, 0);
      // Retired, not left to lapse: only the two other nodes are known.
      assert.match(await redis.command("SCARD", "socketpeer:nodes"), /^:2\r\n/);
    });
    assert.equal(balancer.routes.at(-1), spare.port, "a reached another node");
    const { paired: pairs, waiting } = await health(spare);
    assert.deepEqual([pairs, waiting], [1, 0]);
  },
);

Deno.test(
  "server.leave(pairCode) on one node removes both peers, the one on another node too",
  opts,
  async () => {
    await using redis = await startRedis();
    await using one = await startServer({ redis: { url: redis.url } });
    await using two = await startServer({ redis: { url: redis.url } });
    using a = peer(one.url, { pairCode: "kick-across" });
    using b = peer(two.url, { pairCode: "kick-across" });
    await paired(a, b);
    const errors: string[] = [];
    b.on("error", (e) => errors.push(e.code));
    const closed = Promise.all([next(a, "close"), next(b, "close")]);
    assert.equal(await one.leave("kick-across"), 2);
    await closed;
    assert.deepEqual(errors, ["ERR_KICKED"]);
    assert.deepEqual(await two.stats().then(({ paired, waiting }) => [paired, waiting]), [0, 0]);
  },
);

Deno.test(
  "Redis restarted: nodes report unhealthy while it is down, recover, and the pairs carry on losslessly",
  opts,
  async () => {
    await using redis = await startRedis();
    await using cluster = await nodes(redis.url, 2);
    const [one, two] = cluster;
    await using a = peer(one.url, { pairCode: "weather" });
    await using b = peer(two.url, { pairCode: "weather" });
    await using c = peer(one.url, { pairCode: "local" });
    await using d = peer(one.url, { pairCode: "local" });
    await Promise.all([paired(a, b), paired(c, d)]);
    const atA = record(a);
    const atB = record(b);
    const atD = record(d);
    // `a` sends messages 300 to 599 while Redis is down.
    const down = async () => {
      await redis.stop();
      await Promise.all(
        cluster.map((node) => healthUntil(node, (h) => h.code === 503, "the node reports 503")),
      );
      assert.match(await metrics(one), /^socketpeer_redis_up 0$/m);
    };
    const up = async () => {
      c.send("while Redis is down");
      await until(() => atD.length === 1, "a pair on one node carries on", 30_000);
      await redis.start();
    };
    await Promise.all([
      stream(a, 1000, async (sent) => {
        if (sent === 300) await down();
        if (sent === 600) await up();
      }),
      stream(b, 1000),
    ]);
    await Promise.all(
      cluster.map((node) => healthUntil(node, (h) => h.code === 200, "the node is healthy again")),
    );
    await until(() => atA.length >= 1000 && atB.length >= 1000, "1,000 messages each way", 60_000);
    await Promise.all([a.flush(), b.flush()]);
    await sleep(50);
    assert.equal(sequenceProblems(atB, 1000), null);
    assert.equal(sequenceProblems(atA, 1000), null);
    assert.deepEqual(atD, ["while Redis is down"]);
    assert.ok(a.stats().resent > 0, "frames dropped during the outage were sent again");
    const [h1, h2] = await Promise.all([health(one), health(two)]);
    assert.deepEqual([h1.code, h1.redis, h2.code, h2.redis], [200, "ok", 200, "ok"]);
    assert.equal(h1.paired, 2, "the store knows both pairs again");
    await using e = peer(one.url, { pairCode: "after" });
    await using f = peer(two.url, { pairCode: "after" });
    await paired(e, f);
    assert.match(await metrics(two), /^socketpeer_redis_up 1$/m);
  },
);
