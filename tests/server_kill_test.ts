/**
 * The server process dies (SIGKILL: no goodbye, frames in flight lost) while
 * pairs stream numbered messages, and a new one starts on the same port.
 * `deno task soak` runs more pairs, more messages and more kills.
 */
import assert from "node:assert/strict";
import { killServerMidStream } from "./_load.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const RELAY_PAIRS = 10;
const DIRECT_PAIRS = 2;
const MESSAGES = 1000;

Deno.test(
  "after a SIGKILL of the server mid-stream, peers re-pair under the same codes on its successor and resend: nothing lost or repeated",
  opts,
  async () => {
    const report = await killServerMidStream({
      relayPairs: RELAY_PAIRS,
      directPairs: DIRECT_PAIRS,
      messages: MESSAGES,
      kills: 1,
    });
    console.log(JSON.stringify(report));
    const pairs = RELAY_PAIRS + DIRECT_PAIRS;
    assert.deepEqual(report.broken, [], "every stream is exact");
    assert.equal(report.total.lost + report.total.duplicated + report.total.reordered, 0);
    assert.equal(report.total.received, pairs * 2 * MESSAGES);
    assert.equal(report.kills, 1);
    assert.equal(report.reconnects, pairs * 2, "every peer re-paired once");
    assert.equal(report.samePartner, pairs, "every pair came back together under its code");
    assert.equal(report.stillDirect, DIRECT_PAIRS, "the direct pairs stayed direct");
    assert.equal(report.pairedAtEnd, pairs, "the new server holds every pair");
  },
);
