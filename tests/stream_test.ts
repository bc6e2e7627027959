/**
 * The exactly-once stream (client/stream.ts) between two ends joined by
 * in-memory paths whose delivery, loss and closing the tests drive by hand:
 * no server, no timers to wait for.
 */
import assert from "node:assert/strict";
import { MessageStream, type Path, type PathName } from "../client/stream.ts";
import { decodeFrames, FrameType } from "../protocol/frame.ts";

/** One direction of one path: transport messages in flight, delivered when the test says. */
class Wire implements Path {
  isOpen = true;
  inFlight: Uint8Array[] = [];
  /** Every transport message ever handed over. */
  sent: Uint8Array[] = [];
  /** @param to The receiving end. @param name The path this wire is. */
  constructor(readonly to: () => MessageStream, readonly name: PathName) {}
  open(): boolean {
    return this.isOpen;
  }
  writable(): boolean {
    return this.isOpen;
  }
  send(message: Uint8Array): void {
    this.sent.push(message);
    this.inFlight.push(message);
  }
  /** Delivers the `n` oldest messages in flight (all by default). */
  deliver(n = Infinity): void {
    const batch = this.inFlight.splice(0, n);
    for (const message of batch) this.to().receive(message, this.name);
  }
  /** The path dies: what is in flight is lost. */
  lose(): void {
    this.isOpen = false;
    this.inFlight = [];
  }
}

/** Two streams, each with a relay and a DataChannel wire towards the other. */
function link(options: { batching?: boolean; p2p?: boolean } = {}) {
  const ends: { a?: MessageStream; b?: MessageStream } = {};
  const toA = () => ends.a!;
  const toB = () => ends.b!;
  const wires = {
    ab: { relay: new Wire(toB, "relay"), p2p: new Wire(toB, "p2p") },
    ba: { relay: new Wire(toA, "relay"), p2p: new Wire(toA, "p2p") },
  };
  const make = (paths: Record<PathName, Wire>) => {
    paths.p2p.isOpen = options.p2p ?? true;
    const stream = new MessageStream(paths, {
      serialization: "json",
      maxMessageSize: 1 << 20,
      highWaterMark: 1 << 30,
      useRelay: true,
    });
    stream.batching = options.batching ?? true;
    stream.on("error", (err) => {
      throw err;
    });
    return stream;
  };
  const a = ends.a = make(wires.ab);
  const b = ends.b = make(wires.ba);
  const received: unknown[] = [];
  b.on("data", (d) => received.push(d));
  /** Moves everything in flight both ways until nothing is left. */
  const settle = async () => {
    for (let round = 0; round < 1000; round++) {
      await Promise.resolve();
      const all = [wires.ab.relay, wires.ab.p2p, wires.ba.relay, wires.ba.p2p];
      if (all.every((w) => w.inFlight.length === 0)) {
        b.flushAck();
        if (all.every((w) => w.inFlight.length === 0)) return;
      }
      for (const wire of all) wire.deliver();
    }
    throw new Error("the streams never settled");
  };
  return { a, b, wires, received, settle };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const frameCount = (messages: Uint8Array[]) =>
  messages.reduce((sum, m) => sum + decodeFrames(m).length, 0);

Deno.test("synchronous sends share transport messages once the current run is over", async () => {
  const { a, wires, received, settle } = link();
  for (const i of range(1000)) a.send(i);
  assert.equal(wires.ab.p2p.sent.length, 0, "nothing goes out during the run");
  await Promise.resolve();
  const sent = wires.ab.p2p.sent;
  assert.ok(sent.length > 0 && sent.length <= 2, `${sent.length} transport messages`);
  assert.equal(sent[0][0], FrameType.BATCH);
  assert.equal(frameCount(sent), 1000);
  assert.equal(a.stats.p2p.messagesSent, 1000, "messages are counted, not transport messages");
  assert.equal(
    a.stats.p2p.bytesSent,
    sent.reduce((sum, m) => sum + m.byteLength, 0),
  );
  await settle();
  assert.deepEqual(received, range(1000));
  assert.equal(a.outbox.length, 0, "everything was acknowledged");
});

Deno.test("a partner that does not decode batches gets one frame per transport message", async () => {
  const { a, wires, received, settle } = link({ batching: false });
  for (const i of range(50)) a.send(i);
  await Promise.resolve();
  assert.equal(wires.ab.p2p.sent.length, 50);
  assert.ok(wires.ab.p2p.sent.every((m) => m[0] === FrameType.DATA));
  await settle();
  assert.deepEqual(received, range(50));
});

Deno.test("a chunked message between small ones keeps its order inside and across batches", async () => {
  const { a, wires, received, settle } = link();
  const big = "x".repeat(200_000);
  a.send("before");
  a.send(big);
  a.send("after");
  await settle();
  assert.deepEqual(received, ["before", big, "after"]);
  for (const message of wires.ab.p2p.sent) assert.ok(message.byteLength <= 64 * 1024);
});

Deno.test(
  "many synchronous sends arrive in order exactly once when the DataChannel dies mid-batch and the relay takes over",
  async () => {
    const { a, b, wires, received, settle } = link();
    const n = 5000;
    const message = (i: number) => String(i).padStart(100, "·");
    for (const i of range(n)) a.send(message(i));
    await Promise.resolve();
    const batches = wires.ab.p2p.inFlight.length;
    assert.ok(batches >= 3, `${batches} batches`);
    // Some batches arrive and are acknowledged; one more arrives unacknowledged; the rest die.
    wires.ab.p2p.deliver(1);
    wires.ba.p2p.deliver();
    wires.ab.p2p.deliver(1);
    wires.ab.p2p.lose();
    wires.ba.p2p.lose();
    // Each side notices the channel is gone and resends on the relay.
    a.rewind();
    b.rewind();
    await settle();
    assert.deepEqual(received, range(n).map(message), "in order, none lost, none twice");
    assert.ok(b.inbox.duplicates > 0, "some resent frames were dropped as duplicates");
    assert.equal(a.outbox.length, 0);
    assert.ok(a.stats.relay.messagesSent > 0 && a.stats.p2p.messagesSent > 0);
    assert.ok(frameCount(wires.ab.relay.sent) > wires.ab.relay.sent.length, "batched on the relay");
  },
);

Deno.test(
  "sends from both ends, with acknowledgements riding in the batches, arrive exactly once over the relay and then the DataChannel",
  async () => {
    const { a, b, wires, received, settle } = link({ p2p: false });
    const atA: unknown[] = [];
    a.on("data", (d) => atA.push(d));
    // b answers every message at once: its acknowledgements can go with its answers.
    b.on("data", (d) => b.send(`re ${d}`));
    for (const i of range(300)) a.send(i);
    await Promise.resolve();
    wires.ab.relay.deliver();
    await Promise.resolve();
    const replies = decodeFrames(wires.ba.relay.inFlight[0]);
    assert.equal(replies[0].type, FrameType.ACK, "the acknowledgement leads b's first batch");
    await settle();
    // The DataChannel opens: the next sends take it.
    wires.ab.p2p.isOpen = wires.ba.p2p.isOpen = true;
    for (const i of range(300)) a.send(300 + i);
    await settle();
    assert.deepEqual(received, range(600));
    assert.deepEqual(atA, range(600).map((i) => `re ${i}`));
    assert.equal(a.outbox.length + b.outbox.length, 0);
    assert.ok(
      frameCount(wires.ab.p2p.sent) > wires.ab.p2p.sent.length,
      "batched on the DataChannel",
    );
  },
);

Deno.test("a malformed batch is refused whole with a warning, and the stream goes on", async () => {
  const { a, b, wires, received, settle } = link();
  const warnings: string[] = [];
  b.on("warning", (w) => warnings.push(w.code));
  a.send("one");
  await Promise.resolve();
  const good = wires.ab.p2p.inFlight[0];
  wires.ab.p2p.inFlight = [];
  const broken = good.slice(0, good.byteLength - 1);
  broken[0] = FrameType.BATCH;
  b.receive(broken, "p2p");
  assert.deepEqual(warnings, ["ERR_INVALID_PAYLOAD"]);
  assert.deepEqual(received, []);
  a.rewind();
  await settle();
  assert.deepEqual(received, ["one"]);
});
