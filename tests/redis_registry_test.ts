/**
 * RedisPairRegistry against a real redis-server: the contract every registry
 * passes, then what only a store shared by several nodes does (decisions
 * across nodes, dead nodes, a store that forgets).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { PairMember, RegistryEvent } from "../server/registry.ts";
import { RedisPairRegistry } from "../server/redis_registry.ts";
import { until } from "./_fixtures.ts";
import { startRedis } from "./_redis.ts";
import { registryContract, type RegistryUnderTest } from "./_registry_contract.ts";

const redis = await startRedis();
globalThis.addEventListener("unload", () => {
  redis.stop();
});

/** Short enough that a dead node lapses quickly in a test. */
const NODE_TIMEOUT = 1000;

/** A node's registry under `prefix`, closed with the test. */
function node(prefix: string): RedisPairRegistry {
  return new RedisPairRegistry({ url: redis.url, prefix, nodeTimeout: NODE_TIMEOUT });
}

/** Whether a node's heartbeat key still lives (the key layout is documented in the module). */
async function beating(prefix: string, nodeId: string): Promise<boolean> {
  return (await redis.command("EXISTS", `${prefix}node:${nodeId}`)).startsWith(":1");
}

let prefixes = 0;
function freshPrefix(): string {
  return `test${++prefixes}-${crypto.randomUUID().slice(0, 8)}:`;
}

function underTest(registry: RedisPairRegistry, prefix: string): RegistryUnderTest {
  return Object.assign(registry, {
    dispose: () => registry.close(),
    crash: async () => {
      await registry.close({ retire: false });
      const survivor = node(prefix);
      let dead = false;
      while (!dead) {
        dead = !await beating(prefix, registry.nodeId);
        await new Promise((r) => setTimeout(r, 50));
      }
      return underTest(survivor, prefix);
    },
  });
}

registryContract("RedisPairRegistry", () => {
  const prefix = freshPrefix();
  return Promise.resolve(underTest(node(prefix), prefix));
});

const member = (id: string): PairMember => ({
  socketId: `s-${id}`,
  peerId: `p-${id}`,
  webrtc: true,
});

function events(registry: RedisPairRegistry): RegistryEvent[] {
  const seen: RegistryEvent[] = [];
  registry.watch((event) => seen.push(event));
  return seen;
}

Deno.test("RedisPairRegistry: peers racing on two nodes pair exactly once; a third node is busy", async () => {
  const prefix = freshPrefix();
  const [one, two, three] = [node(prefix), node(prefix), node(prefix)];
  try {
    const codes = Array.from({ length: 50 }, (_, i) => `race-${i}`);
    const results = await Promise.all(
      codes.flatMap((code, i) => [
        one.join(code, member(`a${i}`)),
        two.join(code, member(`b${i}`)),
      ]),
    );
    assert.equal(results.filter((r) => r.status === "paired").length, 50);
    assert.equal(results.filter((r) => r.status === "waiting").length, 50);
    const late = await Promise.all(codes.map((code, i) => three.join(code, member(`c${i}`))));
    assert.ok(late.every((r) => r.status === "busy"), JSON.stringify(late));
    assert.deepEqual(await three.stats(), { waiting: 0, paired: 50 });
  } finally {
    await Promise.all([one.close(), two.close(), three.close()]);
  }
});

Deno.test("RedisPairRegistry: a node that dies is evicted, and the partner it leaves is reported once", async () => {
  const prefix = freshPrefix();
  const doomed = node(prefix);
  const survivor = node(prefix);
  const newcomer = node(prefix);
  // Whichever live node beats first after the death reports it.
  const [bySurvivor, byNewcomer] = [events(survivor), events(newcomer)];
  const orphans = () => [...bySurvivor, ...byNewcomer];
  try {
    await doomed.join("split", member("a"));
    assert.equal((await survivor.join("split", member("b"))).status, "paired");
    await doomed.close({ retire: false }); // as SIGKILL would: nothing removed
    await until(() => orphans().length > 0, "a live node's heartbeat finds the dead node", 15_000);
    assert.deepEqual(orphans(), [{ type: "orphaned", pairCode: "split", member: member("b") }]);
    assert.deepEqual(await survivor.members("split"), [member("b")]);
    assert.deepEqual(await newcomer.stats(), { waiting: 1, paired: 0 });
    assert.deepEqual(await newcomer.join("split", member("c")), {
      status: "paired",
      partner: member("b"),
    });
    assert.equal(orphans().length, 1, "reported once");
  } finally {
    await Promise.all([survivor.close(), newcomer.close()]);
  }
});

Deno.test("RedisPairRegistry: a node that closes retires its members at once and reports their partners", async () => {
  const prefix = freshPrefix();
  const leaving = node(prefix);
  const staying = node(prefix);
  const seen = events(leaving);
  try {
    await leaving.join("handover", member("a"));
    await staying.join("handover", member("b"));
    await leaving.close();
    assert.deepEqual(seen, [{ type: "orphaned", pairCode: "handover", member: member("b") }]);
    assert.deepEqual(await staying.members("handover"), [member("b")]);
  } finally {
    await staying.close();
  }
});

Deno.test("RedisPairRegistry: when Redis forgets everything, each node hears that it was lost", async () => {
  const prefix = freshPrefix();
  const registry = node(prefix);
  const seen = events(registry);
  try {
    await registry.join("forgotten", member("a"));
    await redis.command("FLUSHALL");
    await until(() => seen.some((e) => e.type === "lost"), "the heartbeat notices", 15_000);
    assert.deepEqual(await registry.members("forgotten"), []);
  } finally {
    await registry.close();
  }
});

Deno.test("RedisPairRegistry: stats and ping fail at once while Redis is down, and work again after", async () => {
  const prefix = freshPrefix();
  const registry = node(prefix);
  try {
    await registry.ready;
    await registry.ping();
    await redis.stop();
    await until(() => registry.client.status !== "ready", "the client notices", 15_000);
    await assert.rejects(registry.ping());
    await assert.rejects(registry.stats());
    const joining = registry.join("patient", member("a"));
    await redis.start();
    assert.deepEqual(await joining, { status: "waiting" }, "a join waits for Redis");
    await until(() => registry.client.status === "ready", "the client reconnects", 15_000);
    await registry.ping();
    assert.deepEqual(await registry.stats(), { waiting: 1, paired: 0 });
  } finally {
    await registry.close();
  }
});
