/**
 * DEPLOY.md's walk-through, in Chromium: two demo tabs on two nodes of one
 * cluster (`server.ts` with `REDIS_URL`) pair, go P2P and chat.
 *
 * @module
 */
import assert from "node:assert/strict";
import { launchBrowser, waitFor } from "./_browser.ts";
import { demoState, typeMessage, waitForDemo } from "./_browser_pages.ts";
import { health, startNode } from "./_cluster.ts";
import { startRedis } from "./_redis.ts";

Deno.test("two demo tabs on two nodes of a cluster pair, go P2P and chat", async () => {
  await using redis = await startRedis();
  await using one = await startNode(redis.url);
  await using two = await startNode(redis.url);
  await using browser = await launchBrowser();
  const pairCode = "two-nodes";
  const first = await browser.newPage(`${new URL(one.url).origin}/#${pairCode}`);
  const second = await browser.newPage(`${new URL(two.url).origin}/#${pairCode}`);
  await waitForDemo(first, "paired", "P2P");
  await waitForDemo(second, "paired", "P2P");
  await typeMessage(first, "hello from node one");
  await typeMessage(second, "hello from node two");
  await waitFor(first, () => document.querySelectorAll("#log .incoming").length >= 1);
  await waitFor(second, () => document.querySelectorAll("#log .incoming").length >= 1);
  assert.deepEqual((await demoState(first)).incoming, ["hello from node two"]);
  assert.deepEqual((await demoState(second)).incoming, ["hello from node one"]);
  const [h1, h2] = await Promise.all([health(one), health(two)]);
  assert.deepEqual([h1.sockets, h2.sockets, h1.paired], [1, 1, 1], "one tab on each node");
  assert.ok((h1.signalsRelayed as number) > 0 && (h2.signalsRelayed as number) > 0);
  assert.deepEqual(browser.errors, []);
});
