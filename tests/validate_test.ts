import assert from "node:assert/strict";
import {
  checkPairCode,
  checkPairRequest,
  checkSignal,
  MAX_PAIR_CODE_LENGTH,
} from "../protocol/validate.ts";

Deno.test("checkPairCode() accepts letters and digits of any script and a few separators", () => {
  for (
    const code of [
      "a",
      "room-42",
      "Ünïcode_名前",
      "a.b~c:d@e+f=g",
      "x".repeat(MAX_PAIR_CODE_LENGTH),
    ]
  ) {
    assert.equal(checkPairCode(code), null, code);
  }
});

Deno.test("checkPairCode() refuses empty, long, and odd-character codes with a reason", () => {
  for (
    const code of [
      "",
      "x".repeat(MAX_PAIR_CODE_LENGTH + 1),
      "a b",
      "a/b",
      "a\u0000",
      "<script>",
      42,
      null,
    ]
  ) {
    assert.equal(typeof checkPairCode(code), "string", String(code));
  }
});

Deno.test("checkPairRequest() returns a typed request or a reason", () => {
  assert.deepEqual(checkPairRequest({ v: 1, pairCode: "c", peerId: "abc_1-2" }), {
    v: 1,
    pairCode: "c",
    peerId: "abc_1-2",
    webrtc: true,
    batch: false,
    maxFrameSize: 65_536,
  });
  const large = checkPairRequest({ v: 1, pairCode: "c", peerId: "p", maxFrameSize: 65_556 });
  assert.equal(typeof large === "object" && large.maxFrameSize, 65_556);
  for (
    const bad of [
      null,
      "pair",
      [],
      { pairCode: "c", peerId: "p" },
      { v: "1", pairCode: "c", peerId: "p" },
      { v: 1, pairCode: "c" },
      { v: 1, pairCode: "c", peerId: "has space" },
      { v: 1, pairCode: "c", peerId: "p".repeat(65) },
      { v: 1, pairCode: "c", peerId: "p", webrtc: "yes" },
      { v: 1, pairCode: "c", peerId: "p", maxFrameSize: 65_535 },
      { v: 1, pairCode: "c", peerId: "p", maxFrameSize: 70_000.5 },
      { v: 1, pairCode: "c", peerId: "p", maxFrameSize: "65556" },
    ]
  ) {
    assert.equal(typeof checkPairRequest(bad), "string", JSON.stringify(bad));
  }
});

Deno.test("checkSignal() passes offer, answer, candidate and close without parsing SDP", () => {
  assert.deepEqual(checkSignal({ type: "offer", attempt: "a1", sdp: "not really sdp" }), {
    type: "offer",
    attempt: "a1",
    sdp: "not really sdp",
  });
  assert.deepEqual(
    checkSignal({
      type: "candidate",
      attempt: "a1",
      candidate: { candidate: "c", sdpMid: "0", sdpMLineIndex: 0, extra: 1 },
    }),
    {
      type: "candidate",
      attempt: "a1",
      candidate: { candidate: "c", sdpMid: "0", sdpMLineIndex: 0 },
    },
  );
  assert.deepEqual(checkSignal({ type: "candidate", attempt: "a1", candidate: null }), {
    type: "candidate",
    attempt: "a1",
    candidate: null,
  });
  assert.deepEqual(checkSignal({ type: "close", attempt: "a1" }), { type: "close", attempt: "a1" });
});

Deno.test("checkSignal() refuses unknown types, missing fields and oversized SDP", () => {
  for (
    const bad of [
      undefined,
      { type: "hack", attempt: "a" },
      { type: "offer", attempt: "a" },
      { type: "offer", attempt: "a", sdp: "x".repeat(70_000) },
      { type: "offer", sdp: "x" },
      { type: "candidate", attempt: "a", candidate: { candidate: 5 } },
      { type: "candidate", attempt: "a", candidate: { candidate: "c", sdpMLineIndex: "0" } },
      { type: "__proto__", attempt: "a" },
    ]
  ) {
    assert.equal(typeof checkSignal(bad), "string", JSON.stringify(bad));
  }
});
