import assert from "node:assert/strict";
import { ErrorCode, SocketPeerError } from "../protocol/errors.ts";
import {
  ACK_FRAME_SIZE,
  CHUNK_SIZE,
  DATA_HEADER_SIZE,
  decodeFrame,
  encodeAck,
  encodeMessage,
  FrameType,
  MAX_FRAME_SIZE,
  minMessageSize,
  PayloadKind,
} from "../protocol/frame.ts";

Deno.test("encodeMessage() puts a small message in one frame that decodes to the same fields", () => {
  const payload = new TextEncoder().encode("hello");
  const frames = encodeMessage(42, PayloadKind.STRING, payload);
  assert.equal(frames.length, 1);
  assert.equal(frames[0].byteLength, DATA_HEADER_SIZE + payload.byteLength);
  const frame = decodeFrame(frames[0]);
  assert.equal(frame.type, FrameType.DATA);
  if (frame.type !== FrameType.DATA) return;
  assert.equal(frame.seq, 42);
  assert.equal(frame.kind, PayloadKind.STRING);
  assert.equal(frame.chunkIndex, 0);
  assert.equal(frame.chunkCount, 1);
  assert.deepEqual([...frame.payload], [...payload]);
});

Deno.test("encodeMessage() makes one frame for an empty payload", () => {
  const frames = encodeMessage(1, PayloadKind.BINARY, new Uint8Array(0));
  assert.equal(frames.length, 1);
  const frame = decodeFrame(frames[0]);
  assert.ok(frame.type === FrameType.DATA && frame.payload.byteLength === 0);
});

Deno.test("encodeMessage() chunks a large message into frames no larger than MAX_FRAME_SIZE", () => {
  const payload = new Uint8Array(3 * CHUNK_SIZE + 17).map((_, i) => i % 251);
  const frames = encodeMessage(9, PayloadKind.BINARY, payload);
  assert.equal(frames.length, 4);
  const joined: number[] = [];
  frames.forEach((bytes, i) => {
    assert.ok(bytes.byteLength <= MAX_FRAME_SIZE);
    const frame = decodeFrame(bytes);
    assert.ok(frame.type === FrameType.DATA);
    assert.equal(frame.chunkIndex, i);
    assert.equal(frame.chunkCount, 4);
    assert.equal(frame.seq, 9);
    joined.push(...frame.payload);
  });
  assert.deepEqual(joined, [...payload]);
});

Deno.test("encodeAck() round-trips a cumulative sequence number", () => {
  const bytes = encodeAck(2 ** 40);
  assert.equal(bytes.byteLength, ACK_FRAME_SIZE);
  assert.deepEqual(decodeFrame(bytes), { type: FrameType.ACK, ackSeq: 2 ** 40 });
});

Deno.test("decodeFrame() reads a frame that is a view into a larger buffer", () => {
  const [frame] = encodeMessage(3, PayloadKind.JSON, new TextEncoder().encode("[1]"));
  const big = new Uint8Array(100);
  big.set(frame, 50);
  const decoded = decodeFrame(big.subarray(50, 50 + frame.byteLength));
  assert.ok(decoded.type === FrameType.DATA && decoded.seq === 3);
});

Deno.test("decodeFrame() refuses malformed frames with stable codes", () => {
  const cases: [string, Uint8Array, string][] = [
    ["too short", new Uint8Array(5), ErrorCode.INVALID_PAYLOAD],
    [
      "unknown type",
      new Uint8Array(ACK_FRAME_SIZE).fill(0).map((_, i) => i === 0 ? 9 : 0),
      ErrorCode.INVALID_PAYLOAD,
    ],
    ["too large", new Uint8Array(MAX_FRAME_SIZE + 1), ErrorCode.MESSAGE_TOO_LARGE],
  ];
  const [good] = encodeMessage(1, PayloadKind.STRING, new Uint8Array(4));
  const badKind = good.slice();
  badKind[1] = 77;
  cases.push(["unknown kind", badKind, ErrorCode.INVALID_PAYLOAD]);
  const badChunk = good.slice();
  new DataView(badChunk.buffer).setUint32(12, 5);
  cases.push(["chunk index past count", badChunk, ErrorCode.INVALID_PAYLOAD]);
  const zeroSeq = good.slice();
  new DataView(zeroSeq.buffer).setFloat64(4, 0);
  cases.push(["DATA with seq 0", zeroSeq, ErrorCode.INVALID_PAYLOAD]);
  const nanSeq = good.slice();
  new DataView(nanSeq.buffer).setFloat64(4, NaN);
  cases.push(["NaN seq", nanSeq, ErrorCode.INVALID_PAYLOAD]);
  const ackBody = new Uint8Array(ACK_FRAME_SIZE + 1);
  ackBody[0] = FrameType.ACK;
  cases.push(["ACK with a body", ackBody, ErrorCode.INVALID_PAYLOAD]);
  for (const [name, bytes, code] of cases) {
    assert.throws(
      () => decodeFrame(bytes),
      (err) => err instanceof SocketPeerError && err.code === code,
      name,
    );
  }
});

Deno.test("minMessageSize() bounds a message from any one of its frames", () => {
  const frames = encodeMessage(1, PayloadKind.BINARY, new Uint8Array(2 * CHUNK_SIZE + 1));
  const bounds = frames.map((bytes) => minMessageSize(decodeFrame(bytes)));
  assert.deepEqual(bounds, [2 * CHUNK_SIZE, 2 * CHUNK_SIZE, 2 * CHUNK_SIZE + 1]);
  const [single] = encodeMessage(2, PayloadKind.BINARY, new Uint8Array(500));
  assert.equal(minMessageSize(decodeFrame(single)), 500);
  assert.equal(minMessageSize(decodeFrame(encodeAck(1))), 0);
});
