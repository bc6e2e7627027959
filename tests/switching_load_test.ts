/**
 * Lossless switching under load: 100 WebRTC pairs (200 RTCPeerConnections in
 * one process) stream numbered messages both ways while their DataChannels
 * are killed mid-stream (a downgrade to the relay) and come back (a
 * re-upgrade). About 15 s on 2 cores; `deno task soak` streams 5,000
 * messages per side and kills each channel four times.
 */
import assert from "node:assert/strict";
import { startServer } from "./_fixtures.ts";
import { switchingLoad } from "./_load.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const PAIRS = 100;
const MESSAGES = 1000;

Deno.test(
  "100 pairs × 1,000 messages each way through forced upgrades, downgrades and re-upgrades: none lost, duplicated or reordered",
  opts,
  async () => {
    await using server = await startServer();
    const report = await switchingLoad(server.url, {
      pairs: PAIRS,
      messages: MESSAGES,
      seed: 0x5e1f,
      ms: 180_000,
    });
    console.log(JSON.stringify(report));
    assert.deepEqual(report.broken, [], "every stream is exact");
    assert.equal(report.total.lost + report.total.duplicated + report.total.reordered, 0);
    assert.equal(report.total.received, PAIRS * 2 * MESSAGES);
    assert.ok(
      report.pairsSwitched === PAIRS,
      `only ${report.pairsSwitched}/${PAIRS} pairs went p2p → relay → p2p under load`,
    );
  },
);
