import assert from "node:assert/strict";
import { ErrorCode, SocketPeerError } from "../protocol/errors.ts";
import {
  BASE_FRAME_SIZE,
  CHUNK_SIZE,
  type DataFrame,
  decodeFrame,
  encodeMessage,
  MAX_FRAME_SIZE,
  PayloadKind,
} from "../protocol/frame.ts";
import { Inbox, MAX_REORDER_DISTANCE } from "../protocol/inbox.ts";
import { Outbox } from "../protocol/outbox.ts";

const text = (s: string) => new TextEncoder().encode(s);
const data = (bytes: Uint8Array) => decodeFrame(bytes) as DataFrame;
const drain = (outbox: Outbox) => {
  const frames: Uint8Array[] = [];
  for (let f = outbox.next(); f; f = outbox.next()) frames.push(f);
  return frames;
};
const seqs = (inbox: Inbox, frames: Uint8Array[]) =>
  frames.flatMap((f) => inbox.push(data(f))).map((m) => m.seq);

Deno.test("Outbox numbers messages from 1 and keeps them until acknowledged", () => {
  const outbox = new Outbox(1 << 20);
  assert.equal(outbox.enqueue(PayloadKind.STRING, text("a")), 1);
  assert.equal(outbox.enqueue(PayloadKind.STRING, text("bb")), 2);
  assert.equal(outbox.bufferedAmount, 3);
  assert.equal(drain(outbox).length, 2);
  assert.ok(outbox.ack(1));
  assert.equal(outbox.length, 1);
  assert.equal(outbox.bufferedAmount, 2);
  assert.ok(outbox.ack(2));
  assert.equal(outbox.length, 0);
  assert.equal(outbox.inFlight, 0);
});

Deno.test("Outbox refuses an acknowledgement of a message never sent", () => {
  const outbox = new Outbox(1 << 20);
  outbox.enqueue(PayloadKind.STRING, text("a"));
  assert.equal(outbox.ack(5), false);
  assert.equal(outbox.length, 1);
});

Deno.test("Outbox stops handing out frames when the window is full, and resumes on ack", () => {
  const outbox = new Outbox(100);
  for (let i = 0; i < 10; i++) outbox.enqueue(PayloadKind.BINARY, new Uint8Array(30));
  const first = drain(outbox);
  assert.ok(first.length < 10, "the window held some frames back");
  assert.ok(outbox.inFlight >= 100);
  outbox.ack(first.length);
  const second = drain(outbox);
  assert.ok(second.length > 0);
  assert.equal(data(second[0]).seq, first.length + 1);
});

Deno.test("Outbox.rewind() hands out every unacknowledged frame again, from the oldest", () => {
  const outbox = new Outbox(1 << 20);
  for (let i = 0; i < 5; i++) outbox.enqueue(PayloadKind.STRING, text(`m${i}`));
  drain(outbox);
  outbox.ack(2);
  outbox.rewind();
  assert.deepEqual(drain(outbox).map((f) => data(f).seq), [3, 4, 5]);
});

Deno.test("Outbox.reserve() keeps a late payload in its place in the sequence", () => {
  const outbox = new Outbox(1 << 20);
  outbox.enqueue(PayloadKind.STRING, text("first"));
  const fill = outbox.reserve(4);
  outbox.enqueue(PayloadKind.STRING, text("third"));
  assert.deepEqual(drain(outbox).map((f) => data(f).seq), [1], "waits at the unfilled place");
  fill(PayloadKind.BINARY, new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual(drain(outbox).map((f) => data(f).seq), [2, 3]);
});

Deno.test("Outbox.restart() drops what the old partner may have seen and renumbers the rest", () => {
  const outbox = new Outbox(1 << 20);
  outbox.enqueue(PayloadKind.STRING, text("seen"));
  drain(outbox);
  outbox.enqueue(PayloadKind.STRING, text("unsent"));
  assert.equal(outbox.restart(), 1);
  const frames = drain(outbox);
  assert.equal(frames.length, 1);
  const frame = data(frames[0]);
  assert.equal(frame.seq, 1);
  assert.equal(new TextDecoder().decode(frame.payload), "unsent");
});

Deno.test("Outbox.restart() drops what was sent before a rewind too: a rewind cannot unsend", () => {
  const outbox = new Outbox(1 << 20);
  outbox.enqueue(PayloadKind.STRING, text("seen, then its path was lost"));
  drain(outbox);
  outbox.rewind();
  outbox.enqueue(PayloadKind.STRING, text("unsent"));
  assert.equal(outbox.restart(), 1);
  const frames = drain(outbox).map(data);
  assert.deepEqual(frames.map((f) => [f.seq, new TextDecoder().decode(f.payload)]), [[
    1,
    "unsent",
  ]]);
});

Deno.test("Outbox.restart() keeps everything when nothing was ever sent", () => {
  const outbox = new Outbox(1 << 20);
  outbox.enqueue(PayloadKind.STRING, text("queued before pairing"));
  assert.equal(outbox.restart(), 0);
  assert.equal(outbox.length, 1);
});

Deno.test("Outbox cuts messages with its frameSize, and restart() cuts unsent ones again for a smaller one", () => {
  const outbox = new Outbox(1 << 22);
  outbox.frameSize = MAX_FRAME_SIZE;
  const payload = new Uint8Array(65_536).map((_, i) => i % 241);
  outbox.enqueue(PayloadKind.BINARY, payload);
  outbox.enqueue(PayloadKind.STRING, text("after"));
  // A new partner that takes only 64 KiB frames: nothing was sent, everything is kept.
  outbox.frameSize = BASE_FRAME_SIZE;
  assert.equal(outbox.restart(), 0);
  const frames = drain(outbox);
  assert.deepEqual(frames.map((f) => f.byteLength), [BASE_FRAME_SIZE, 40, 25]);
  const inbox = new Inbox(1 << 20);
  const messages = frames.flatMap((f) => inbox.push(data(f)));
  assert.deepEqual(messages.map((m) => m.seq), [1, 2]);
  assert.deepEqual([...messages[0].payload], [...payload]);
  assert.equal(messages[0].kind, PayloadKind.BINARY);
  assert.equal(new TextDecoder().decode(messages[1].payload), "after");
});

Deno.test("Outbox.restart() after a send renumbers the re-cut messages from 1", () => {
  const outbox = new Outbox(1 << 22);
  outbox.frameSize = MAX_FRAME_SIZE;
  outbox.enqueue(PayloadKind.STRING, text("seen"));
  drain(outbox);
  outbox.enqueue(PayloadKind.BINARY, new Uint8Array(65_536));
  outbox.frameSize = BASE_FRAME_SIZE;
  assert.equal(outbox.restart(), 1);
  const frames = drain(outbox).map(data);
  assert.deepEqual(frames.map((f) => [f.seq, f.chunkIndex, f.chunkCount]), [[1, 0, 2], [1, 1, 2]]);
});

Deno.test("Inbox releases messages in order whatever order frames arrive in", () => {
  const outbox = new Outbox(1 << 20);
  for (let i = 0; i < 6; i++) outbox.enqueue(PayloadKind.STRING, text(`${i}`));
  const frames = drain(outbox);
  const inbox = new Inbox(1 << 20);
  const order = [2, 0, 5, 1, 4, 3].map((i) => frames[i]);
  assert.deepEqual(seqs(inbox, order), [1, 2, 3, 4, 5, 6]);
  assert.equal(inbox.ackSeq, 6);
});

Deno.test("Inbox drops duplicates, before and after delivery", () => {
  const outbox = new Outbox(1 << 20);
  for (let i = 0; i < 3; i++) outbox.enqueue(PayloadKind.STRING, text(`${i}`));
  const frames = drain(outbox);
  const inbox = new Inbox(1 << 20);
  assert.deepEqual(
    seqs(inbox, [frames[2], frames[2], frames[0], frames[0], frames[1], frames[2]]),
    [
      1,
      2,
      3,
    ],
  );
  assert.equal(inbox.duplicates, 3);
});

Deno.test("Inbox reassembles a chunked message, even when resent chunks repeat", () => {
  const payload = new Uint8Array(2 * CHUNK_SIZE + 5).map((_, i) => i % 13);
  const frames = encodeMessage(1, PayloadKind.BINARY, payload);
  const inbox = new Inbox(1 << 20);
  assert.deepEqual(inbox.push(data(frames[0])), []);
  assert.deepEqual(inbox.push(data(frames[1])), []);
  // The path dies; the sender resends the whole message from its first chunk.
  assert.deepEqual(inbox.push(data(frames[0])), []);
  const [message] = inbox.push(data(frames[2]));
  assert.equal(message.seq, 1);
  assert.deepEqual([...message.payload], [...payload]);
  assert.deepEqual(
    inbox.push(data(frames[1])),
    [],
    "a late chunk of a delivered message is dropped",
  );
});

Deno.test("Inbox refuses a message over its limit in its place and lets the next ones through", () => {
  const outbox = new Outbox(1 << 30);
  outbox.enqueue(PayloadKind.BINARY, new Uint8Array(3 * CHUNK_SIZE));
  outbox.enqueue(PayloadKind.STRING, text("after"));
  outbox.enqueue(PayloadKind.BINARY, new Uint8Array(10));
  const frames = drain(outbox);
  const inbox = new Inbox(CHUNK_SIZE);
  const out = frames.flatMap((f) => inbox.push(data(f)));
  assert.deepEqual(out.map((m) => m.seq), [1, 2, 3]);
  assert.ok(out[0].error instanceof SocketPeerError);
  assert.equal(out[0].error.code, ErrorCode.MESSAGE_TOO_LARGE);
  assert.equal(out[1].error, undefined);
  assert.equal(inbox.ackSeq, 3, "the refused message is acknowledged, so the sender moves on");
});

Deno.test("Inbox refuses a one-frame message over its limit too", () => {
  const [frame] = encodeMessage(1, PayloadKind.BINARY, new Uint8Array(100));
  const [message] = new Inbox(99).push(data(frame));
  assert.equal(message.error?.code, ErrorCode.MESSAGE_TOO_LARGE);
});

Deno.test("Inbox refuses a frame too far ahead of the stream", () => {
  const [frame] = encodeMessage(MAX_REORDER_DISTANCE + 2, PayloadKind.STRING, text("x"));
  assert.throws(
    () => new Inbox(1 << 20).push(data(frame)),
    (err) => err instanceof SocketPeerError && err.code === ErrorCode.INVALID_PAYLOAD,
  );
});

Deno.test("Outbox and Inbox deliver exactly once across a lost path and a resend", () => {
  const outbox = new Outbox(1 << 20);
  const inbox = new Inbox(1 << 20);
  const delivered: number[] = [];
  for (let i = 0; i < 100; i++) outbox.enqueue(PayloadKind.STRING, text(`${i}`));
  const frames = drain(outbox);
  // Half arrive; the path dies with the rest in flight; nothing was acked.
  delivered.push(...seqs(inbox, frames.slice(0, 50)));
  outbox.rewind();
  delivered.push(...seqs(inbox, drain(outbox)));
  outbox.ack(inbox.ackSeq);
  assert.deepEqual(delivered, Array.from({ length: 100 }, (_, i) => i + 1));
  assert.equal(outbox.length, 0);
});

Deno.test("Inbox.reset() starts a new stream at 1", () => {
  const inbox = new Inbox(1 << 20);
  const [f1] = encodeMessage(1, PayloadKind.STRING, text("a"));
  assert.equal(inbox.push(data(f1)).length, 1);
  inbox.reset();
  assert.equal(inbox.push(data(f1)).length, 1);
});
