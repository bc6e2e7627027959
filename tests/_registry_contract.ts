/**
 * The behaviour every PairRegistry must have. Each implementation's test file
 * calls {@linkcode registryContract} with a factory, so the in-memory and any
 * shared-store registry pass the very same tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { PairMember, PairRegistry } from "../server/registry.ts";

const member = (id: string): PairMember => ({
  socketId: `s-${id}`,
  peerId: `p-${id}`,
  webrtc: true,
});

/** A registry under test, and what the contract needs to control it. */
export interface RegistryUnderTest extends PairRegistry {
  /** Frees what the registry holds (connections, keys). */
  dispose?: () => Promise<void>;
  /**
   * Kills the server process this registry belongs to, with no chance to
   * clean up, and returns the registry another process sees once the death
   * is known: a surviving node of the same store, or, for a store of one
   * process, the restarted process's. Resolves once the death is known.
   */
  crash: () => Promise<RegistryUnderTest>;
}

/** Registers the contract's tests for one implementation. */
export function registryContract(
  name: string,
  make: () => Promise<RegistryUnderTest>,
): void {
  const test = (what: string, fn: (registry: RegistryUnderTest) => Promise<void>) =>
    Deno.test(`${name}: ${what}`, async () => {
      const registry = await make();
      try {
        await fn(registry);
      } finally {
        await registry.dispose?.();
      }
    });

  test("the first peer waits, the second pairs with it, a third is busy", async (r) => {
    assert.deepEqual(await r.join("code", member("a")), { status: "waiting" });
    assert.deepEqual(await r.join("code", member("b")), { status: "paired", partner: member("a") });
    assert.deepEqual(await r.join("code", member("c")), { status: "busy" });
    assert.deepEqual(await r.members("code"), [member("a"), member("b")]);
    assert.deepEqual(await r.stats(), { waiting: 0, paired: 1 });
  });

  test("a leaving peer frees its slot and names the partner that stays", async (r) => {
    await r.join("code", member("a"));
    await r.join("code", member("b"));
    assert.deepEqual(await r.leave("code", "s-a"), member("b"));
    assert.deepEqual(await r.stats(), { waiting: 1, paired: 0 });
    assert.deepEqual(await r.join("code", member("c")), { status: "paired", partner: member("b") });
  });

  test("leaving twice, or leaving an unknown code, changes nothing", async (r) => {
    await r.join("code", member("a"));
    assert.equal(await r.leave("code", "s-a"), null);
    assert.equal(await r.leave("code", "s-a"), null);
    assert.equal(await r.leave("nowhere", "s-a"), null);
    assert.deepEqual(await r.stats(), { waiting: 0, paired: 0 });
  });

  test("the same client rejoining from a new socket replaces its old socket", async (r) => {
    await r.join("code", member("a"));
    await r.join("code", member("b"));
    const again = { ...member("a"), socketId: "s-a2" };
    assert.deepEqual(await r.join("code", again), {
      status: "replaced",
      replaced: member("a"),
      partner: member("b"),
    });
    assert.deepEqual(await r.members("code"), [again, member("b")]);
  });

  test("clear() removes a whole pair and returns its members", async (r) => {
    await r.join("code", member("a"));
    await r.join("code", member("b"));
    assert.deepEqual(await r.clear("code"), [member("a"), member("b")]);
    assert.deepEqual(await r.members("code"), []);
    assert.deepEqual(await r.join("code", member("c")), { status: "waiting" });
  });

  test("codes that look like object keys are ordinary codes", async (r) => {
    for (const code of ["__proto__", "constructor", "hasOwnProperty", "toString"]) {
      assert.deepEqual(await r.join(code, member(`${code}1`)), { status: "waiting" });
      assert.equal((await r.join(code, member(`${code}2`))).status, "paired");
    }
    assert.deepEqual(await r.stats(), { waiting: 0, paired: 4 });
    assert.deepEqual(await r.members("nothing"), []);
  });

  test("a process that dies leaves no pairs behind: its codes are free again", async (r) => {
    await r.join("alone", member("a"));
    await r.join("pair", member("b"));
    await r.join("pair", member("c"));
    const survivor = await r.crash();
    try {
      assert.deepEqual(await survivor.members("alone"), []);
      assert.deepEqual(await survivor.members("pair"), []);
      assert.deepEqual(await survivor.stats(), { waiting: 0, paired: 0 });
      assert.equal(await survivor.leave("pair", "s-b"), null);
      assert.deepEqual(await survivor.join("pair", member("d")), { status: "waiting" });
      assert.deepEqual(await survivor.join("pair", member("e")), {
        status: "paired",
        partner: member("d"),
      });
      assert.deepEqual(await survivor.join("alone", member("f")), { status: "waiting" });
    } finally {
      await survivor.dispose?.();
    }
  });

  test("fifty pairs joining at once each pair exactly once", async (r) => {
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => r.join(`code-${i % 50}`, member(`${i}`))),
    );
    assert.equal(results.filter((x) => x.status === "paired").length, 50);
    assert.equal(results.filter((x) => x.status === "waiting").length, 50);
    assert.deepEqual(await r.stats(), { waiting: 0, paired: 50 });
  });
}
