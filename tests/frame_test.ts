import assert from "node:assert/strict";
import { ErrorCode, SocketPeerError } from "../protocol/errors.ts";
import {
  ACK_FRAME_SIZE,
  agreedFrameSize,
  BASE_FRAME_SIZE,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_SIZE,
  batchSize,
  checkFrames,
  CHUNK_SIZE,
  DATA_HEADER_SIZE,
  decodeFrame,
  decodeFrames,
  encodeAck,
  encodeBatch,
  encodeMessage,
  endsMessage,
  FrameType,
  MAX_BATCH_SIZE,
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

const text = (s: string) => new TextEncoder().encode(s);
const isCode = (code: string) => (err: unknown) =>
  err instanceof SocketPeerError && err.code === code;

/** A BATCH frame laid out by hand: the header, then each part as given (lengths included). */
function rawBatch(...parts: number[][]): Uint8Array {
  return new Uint8Array([FrameType.BATCH, 0, 0, 0, ...parts.flat()]);
}
const u16 = (n: number) => [n >>> 8, n & 0xff];

Deno.test("encodeBatch() and decodeFrames() round-trip DATA and ACK frames in order", () => {
  const [a] = encodeMessage(1, PayloadKind.STRING, text("a"));
  const [b] = encodeMessage(2, PayloadKind.JSON, text("[2]"));
  const [c] = encodeMessage(3, PayloadKind.BINARY, new Uint8Array(0));
  const batch = encodeBatch([encodeAck(9), a, b, c]);
  assert.equal(batch[0], FrameType.BATCH);
  assert.equal(batch.byteLength, batchSize(ACK_FRAME_SIZE + a.length + b.length + c.length, 4));
  const frames = decodeFrames(batch);
  assert.deepEqual(frames.map((f) => f.type === FrameType.ACK ? `ack ${f.ackSeq}` : f.seq), [
    "ack 9",
    1,
    2,
    3,
  ]);
  const decoded = frames.slice(1).map((f) => f.type === FrameType.DATA ? [...f.payload] : []);
  assert.deepEqual(decoded, [[...text("a")], [...text("[2]")], []]);
  assert.equal(checkFrames(batch, 1 << 20), 4);
});

Deno.test("decodeFrames() reads a lone frame as a list of one", () => {
  const [frame] = encodeMessage(5, PayloadKind.STRING, text("solo"));
  const frames = decodeFrames(frame);
  assert.equal(frames.length, 1);
  assert.deepEqual(frames[0], decodeFrame(frame));
  assert.equal(checkFrames(frame, 1 << 20), 1);
});

Deno.test("a BATCH frame fills up to MAX_BATCH_SIZE and no further", () => {
  const [full] = encodeMessage(1, PayloadKind.BINARY, new Uint8Array(CHUNK_SIZE));
  assert.throws(() => encodeBatch([full]), RangeError, "a full frame has no room for a batch");
  const payload = MAX_BATCH_SIZE - BATCH_HEADER_SIZE - BATCH_LENGTH_SIZE - DATA_HEADER_SIZE;
  const [largest] = encodeMessage(1, PayloadKind.BINARY, new Uint8Array(payload));
  const batch = encodeBatch([largest]);
  assert.equal(batch.byteLength, MAX_BATCH_SIZE);
  assert.equal(decodeFrames(batch).length, 1);
  const tooLarge = new Uint8Array(MAX_FRAME_SIZE + 1);
  tooLarge[0] = FrameType.BATCH;
  assert.throws(() => decodeFrames(tooLarge), isCode(ErrorCode.MESSAGE_TOO_LARGE));
});

Deno.test("with frameSize MAX_FRAME_SIZE a 64 KiB message is one frame, and larger ones carry 64 KiB a chunk", () => {
  const options = { frameSize: MAX_FRAME_SIZE };
  const [one, ...rest] = encodeMessage(3, PayloadKind.BINARY, new Uint8Array(65_536), options);
  assert.equal(rest.length, 0);
  assert.equal(one.byteLength, MAX_FRAME_SIZE);
  assert.equal(MAX_FRAME_SIZE, 65_556);
  const frame = decodeFrame(one);
  assert.ok(frame.type === FrameType.DATA && frame.payload.byteLength === 65_536);
  assert.equal(checkFrames(one, 65_536), 1);

  const payload = new Uint8Array(2 * 65_536 + 9).map((_, i) => i % 253);
  const frames = encodeMessage(4, PayloadKind.BINARY, payload, options);
  assert.deepEqual(frames.map((f) => f.byteLength), [MAX_FRAME_SIZE, MAX_FRAME_SIZE, 29]);
  const joined = frames.flatMap((f) => {
    const d = decodeFrame(f);
    return d.type === FrameType.DATA ? [...d.payload] : [];
  });
  assert.deepEqual(joined, [...payload]);
  // The server's size bound counts chunks at the fewest bytes any sender puts in them.
  assert.equal(checkFrames(frames[2], 2 * CHUNK_SIZE + 9), 1);
  assert.equal(typeof checkFrames(frames[2], 2 * CHUNK_SIZE + 8), "object");
});

Deno.test("encodeMessage() refuses a frameSize outside [BASE_FRAME_SIZE, MAX_FRAME_SIZE]", () => {
  for (const frameSize of [BASE_FRAME_SIZE - 1, MAX_FRAME_SIZE + 1, NaN]) {
    assert.throws(
      () => encodeMessage(1, PayloadKind.BINARY, new Uint8Array(10), { frameSize }),
      RangeError,
    );
  }
});

Deno.test("decodeFrame() takes frames up to MAX_FRAME_SIZE and refuses one byte more", () => {
  const [largest] = encodeMessage(1, PayloadKind.BINARY, new Uint8Array(65_536), {
    frameSize: MAX_FRAME_SIZE,
  });
  assert.equal(decodeFrame(largest).type, FrameType.DATA);
  const over = new Uint8Array(MAX_FRAME_SIZE + 1);
  over.set(largest);
  assert.throws(() => decodeFrame(over), isCode(ErrorCode.MESSAGE_TOO_LARGE));
  assert.equal(checkFrames(over, 1 << 20) instanceof SocketPeerError, true);
});

Deno.test("agreedFrameSize() takes peer.found's maxFrameSize within [BASE_FRAME_SIZE, MAX_FRAME_SIZE]", () => {
  assert.equal(agreedFrameSize(undefined), BASE_FRAME_SIZE);
  assert.equal(agreedFrameSize(1000), BASE_FRAME_SIZE);
  assert.equal(agreedFrameSize(NaN), BASE_FRAME_SIZE);
  assert.equal(agreedFrameSize(65_540.5), 65_540);
  assert.equal(agreedFrameSize(MAX_FRAME_SIZE), MAX_FRAME_SIZE);
  assert.equal(agreedFrameSize(1 << 20), MAX_FRAME_SIZE);
});

Deno.test("decodeFrames() and checkFrames() refuse a malformed BATCH whole, with the same code", () => {
  const [good] = encodeMessage(1, PayloadKind.STRING, text("ok"));
  const ack = [...encodeAck(1)];
  const badKind = good.slice();
  badKind[1] = 9;
  const cases: [string, Uint8Array][] = [
    ["an empty batch", rawBatch()],
    ["an empty batch padded to a frame's size", rawBatch([0, 0, 0, 0, 0, 0, 0, 0])],
    ["a zero-length frame", rawBatch(u16(0), u16(ACK_FRAME_SIZE), ack)],
    ["a length past the end", rawBatch(u16(ACK_FRAME_SIZE), ack, u16(100), ack)],
    ["a length cut in half", rawBatch(u16(ACK_FRAME_SIZE), ack, [0])],
    ["a frame shorter than its length says", rawBatch(u16(ACK_FRAME_SIZE + 1), ack)],
    ["an ACK with a body", rawBatch(u16(ACK_FRAME_SIZE + 1), ack, [0])],
    ["a bad frame after good ones", rawBatch(u16(good.length), [...good], u16(11), ack.slice(1))],
    ["an unknown kind inside", rawBatch(u16(badKind.length), [...badKind])],
    ["a batch inside a batch", rawBatch(u16(good.length + 6), [...encodeBatch([good])])],
    ["an unknown type inside", rawBatch(u16(ACK_FRAME_SIZE), [7, ...ack.slice(1)])],
  ];
  for (const [what, bytes] of cases) {
    assert.throws(() => decodeFrames(bytes), isCode(ErrorCode.INVALID_PAYLOAD), what);
    const checked = checkFrames(bytes, 1 << 20);
    assert.ok(typeof checked !== "number", `checkFrames() let ${what} through`);
    assert.equal(checked.code, ErrorCode.INVALID_PAYLOAD, what);
  }
});

Deno.test("decodeFrame() refuses a BATCH frame: only decodeFrames() unpacks one", () => {
  const [good] = encodeMessage(1, PayloadKind.STRING, text("ok"));
  assert.throws(() => decodeFrame(encodeBatch([good, good])), isCode(ErrorCode.INVALID_PAYLOAD));
});

Deno.test("checkFrames() refuses a BATCH when any frame in it gives away a message over the limit", () => {
  const [small] = encodeMessage(1, PayloadKind.BINARY, new Uint8Array(10));
  const [exact] = encodeMessage(2, PayloadKind.BINARY, new Uint8Array(1000));
  const [over] = encodeMessage(3, PayloadKind.BINARY, new Uint8Array(1001));
  const [head] = encodeMessage(4, PayloadKind.BINARY, new Uint8Array(3 * CHUNK_SIZE));
  const firstChunk = head.subarray(0, 100); // a chunk 0 of 3: announces at least 2 full chunks
  assert.equal(checkFrames(encodeBatch([small, exact]), 1000), 2);
  for (
    const batch of [
      encodeBatch([small, over]),
      encodeBatch([over, small]),
      encodeBatch([small, firstChunk]),
    ]
  ) {
    const checked = checkFrames(batch, 1000);
    assert.ok(typeof checked !== "number");
    assert.equal(checked.code, ErrorCode.MESSAGE_TOO_LARGE);
  }
  assert.ok(typeof checkFrames(over, 1000) !== "number", "a lone frame is checked the same way");
});

Deno.test("endsMessage() tells the last frame of each message from the header", () => {
  const frames = encodeMessage(1, PayloadKind.BINARY, new Uint8Array(2 * CHUNK_SIZE + 1));
  assert.deepEqual(frames.map(endsMessage), [false, false, true]);
  assert.equal(endsMessage(encodeMessage(2, PayloadKind.STRING, text(""))[0]), true);
  assert.equal(endsMessage(encodeAck(2)), false);
});
