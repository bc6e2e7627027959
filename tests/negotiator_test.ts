import assert from "node:assert/strict";
import type { Signal } from "../protocol/events.ts";
import { announcedMessageLimit, asDtlsClientOffer, Negotiator } from "../client/negotiator.ts";
import { nodeWrtc, sleep, until } from "./_fixtures.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** A Negotiator on node-datachannel that `await using` destroys, leaving libdatachannel time to close. */
function negotiator(): Negotiator & AsyncDisposable {
  const n = new Negotiator(nodeWrtc.RTCPeerConnection, {}, 15_000);
  return Object.assign(n, {
    [Symbol.asyncDispose]: async () => {
      n.destroy();
      await sleep(100);
    },
  });
}

/** Hands each side's signals to the other, as the server would, and records them. */
function wire(offerer: Negotiator, answerer: Negotiator): Signal[] {
  const seen: Signal[] = [];
  offerer.on("signal", (signal) => {
    seen.push(signal);
    answerer.signal(signal, []);
  });
  answerer.on("signal", (signal) => {
    seen.push(signal);
    offerer.signal(signal, []);
  });
  return seen;
}

/** The `a=setup:` values of an SDP. */
function setupRoles(sdp: string | undefined): string[] {
  return [...(sdp ?? "").matchAll(/^a=setup:(\w+)\r?$/gm)].map((m) => m[1]);
}

Deno.test("announcedMessageLimit() reads a=max-message-size, 0 as no limit, and 64 KiB when absent", () => {
  assert.equal(
    announcedMessageLimit("v=0\r\na=max-message-size:262144\r\na=setup:active\r\n"),
    262_144,
  );
  assert.equal(announcedMessageLimit("v=0\na=max-message-size:65536\n"), 65_536);
  assert.equal(announcedMessageLimit("a=max-message-size:0\r\n"), Infinity);
  assert.equal(announcedMessageLimit("v=0\r\na=sctp-port:5000\r\n"), 65_536);
  assert.equal(announcedMessageLimit(""), 65_536);
});

Deno.test("asDtlsClientOffer() makes an actpass offer active and leaves every other line alone", () => {
  const offer = [
    "v=0",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "a=mid:0",
    "a=setup:actpass",
    "a=ice-ufrag:abcd",
    "",
  ].join("\r\n");
  assert.equal(asDtlsClientOffer(offer), offer.replace("a=setup:actpass", "a=setup:active"));
  const lf = offer.replaceAll("\r\n", "\n");
  assert.equal(asDtlsClientOffer(lf), lf.replace("a=setup:actpass", "a=setup:active"));
  const bundled = `${offer}m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=setup:actpass\r\n`;
  assert.deepEqual(setupRoles(asDtlsClientOffer(bundled)), ["active", "active"]);
  const answer = offer.replace("a=setup:actpass", "a=setup:passive");
  assert.equal(asDtlsClientOffer(answer), answer);
});

Deno.test(
  "a node-datachannel offerer offers to be the DTLS client and its partner answers passive",
  opts,
  async () => {
    await using offerer = negotiator();
    await using answerer = negotiator();
    const seen = wire(offerer, answerer);
    offerer.offer([]);
    await until(() => seen.some((s) => s.type === "answer"), "the answer is made");

    const offer = seen.find((s) => s.type === "offer");
    const answer = seen.find((s) => s.type === "answer");
    assert.deepEqual(setupRoles(offer?.sdp), ["active"]);
    assert.deepEqual(setupRoles(answer?.sdp), ["passive"]);
  },
);
