import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { io, type Socket } from "npm:socket.io-client@4.8.1";
import { ErrorCode } from "../protocol/errors.ts";
import { type ErrorNotice, WireEvent } from "../protocol/events.ts";
import {
  decodeFrames,
  encodeBatch,
  encodeMessage,
  type Frame,
  FrameType,
  PayloadKind,
} from "../protocol/frame.ts";
import { PROTOCOL_VERSION } from "../protocol/version.ts";
import { next, pairOf, peer, record, startServer, until } from "./_fixtures.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** A bare socket.io client speaking the protocol by hand, as a client in another language would. */
async function rawSocket(url: string): Promise<Socket & Disposable> {
  const { origin, pathname } = new URL(url);
  const socket = io(origin, { path: `${pathname}socket.io/`, transports: ["websocket"] });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return Object.assign(socket, { [Symbol.dispose]: () => socket.disconnect() });
}

function nextError(socket: Socket): Promise<ErrorNotice> {
  return new Promise((resolve) => socket.once(WireEvent.ERROR, resolve));
}

Deno.test(
  "malformed payloads get a clear error naming a stable code, and nothing else breaks",
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "bystanders");
    using _a = a;
    using _b = b;
    using raw = await rawSocket(server.url);
    const cases: [string, () => void, string, string | undefined][] = [
      ["pair without a body", () => raw.emit("pair"), ErrorCode.INVALID_PAYLOAD, "pair"],
      ["pair with a string", () => raw.emit("pair", "code"), ErrorCode.INVALID_PAYLOAD, "pair"],
      ["pair with an array", () => raw.emit("pair", [1, 2]), ErrorCode.INVALID_PAYLOAD, "pair"],
      [
        "pair with a bad code",
        () => raw.emit("pair", { v: PROTOCOL_VERSION, pairCode: "no spaces", peerId: "p1" }),
        ErrorCode.INVALID_PAIR_CODE,
        "pair",
      ],
      [
        "pair with a __proto__ body",
        () => raw.emit("pair", JSON.parse('{"__proto__": {"v": 1}, "pairCode": "x"}')),
        ErrorCode.INVALID_PAYLOAD,
        "pair",
      ],
      [
        "pair with another protocol version",
        () => raw.emit("pair", { v: 99, pairCode: "versions", peerId: "p1" }),
        ErrorCode.PROTOCOL_VERSION,
        "pair",
      ],
      [
        "data before pairing",
        () => raw.emit("data", encodeMessage(1, PayloadKind.STRING, new Uint8Array(1))[0]),
        ErrorCode.NOT_PAIRED,
        "data",
      ],
      [
        "a signal before pairing",
        () => raw.emit("signal", { type: "offer", attempt: "a", sdp: "x" }),
        ErrorCode.NOT_PAIRED,
        "signal",
      ],
      ["an unknown event", () => raw.emit("hello", 1), ErrorCode.INVALID_PAYLOAD, undefined],
    ];
    for (const [what, send, code, event] of cases) {
      const error = nextError(raw);
      send();
      const notice = await error;
      assert.equal(notice.code, code, what);
      assert.equal(notice.event, event, what);
      assert.equal(typeof notice.message, "string", what);
      assert.ok(notice.message.length > 0, what);
    }

    // Once paired, bad data and signals are refused too, and never reach the partner.
    using partner = await rawSocket(server.url);
    const partnerGot: unknown[] = [];
    partner.on("data", (d: unknown) => partnerGot.push(d));
    partner.on("signal", (s: unknown) => partnerGot.push(s));
    const found = new Promise((resolve) => partner.once(WireEvent.FOUND, resolve));
    raw.emit("pair", { v: PROTOCOL_VERSION, pairCode: "hostile", peerId: "raw1" });
    partner.emit("pair", { v: PROTOCOL_VERSION, pairCode: "hostile", peerId: "raw2" });
    await found;
    const pairedCases: [string, () => void, string][] = [
      ["data as a string", () => raw.emit("data", "text"), ErrorCode.INVALID_PAYLOAD],
      ["data as an object", () => raw.emit("data", { x: 1 }), ErrorCode.INVALID_PAYLOAD],
      ["a truncated frame", () => raw.emit("data", new Uint8Array(3)), ErrorCode.INVALID_PAYLOAD],
      [
        "a signal of unknown type",
        () => raw.emit("signal", { type: "evil", attempt: "a" }),
        ErrorCode.INVALID_PAYLOAD,
      ],
      [
        "an offer without SDP",
        () => raw.emit("signal", { type: "offer", attempt: "a" }),
        ErrorCode.INVALID_PAYLOAD,
      ],
    ];
    for (const [what, send, code] of pairedCases) {
      const error = nextError(raw);
      send();
      assert.equal((await error).code, code, what);
    }
    // A well-formed frame still goes through.
    raw.emit("data", encodeMessage(1, PayloadKind.STRING, new TextEncoder().encode("ok"))[0]);
    await until(() => partnerGot.length === 1, "the partner got the one good frame");
    assert.ok(partnerGot[0] instanceof ArrayBuffer || partnerGot[0] instanceof Uint8Array);

    // The bystanders never noticed.
    const atB = record(b);
    a.send("unaffected");
    await until(() => atB.length === 1, "bystander delivery");
    assert.equal(atB[0], "unaffected");
    assert.ok((await server.stats()).refused >= cases.length + pairedCases.length);
  },
);

Deno.test(
  "requests sent back to back are answered in the order they were sent",
  opts,
  async () => {
    await using server = await startServer();
    using raw = await rawSocket(server.url);
    const refused: (string | undefined)[] = [];
    raw.on(WireEvent.ERROR, (notice: ErrorNotice) => refused.push(notice.event));
    const frame = encodeMessage(1, PayloadKind.STRING, new Uint8Array(1))[0];
    raw.emit("pair", "not a request");
    raw.emit("data", frame);
    raw.emit("report", { upgrade: "maybe" });
    raw.emit("signal", { type: "offer", attempt: "a", sdp: "x" });
    raw.emit("leave");
    raw.emit("report", {});
    raw.emit("pair", { v: PROTOCOL_VERSION, pairCode: "no spaces", peerId: "r1" });
    raw.emit("data", frame);
    await until(() => refused.length === 7, "every bad request refused");
    assert.deepEqual(refused, ["pair", "data", "report", "signal", "report", "pair", "data"]);

    // A report is counted while paired.
    using partner = await rawSocket(server.url);
    const found = new Promise((resolve) => raw.once(WireEvent.FOUND, resolve));
    raw.emit("pair", { v: PROTOCOL_VERSION, pairCode: "in-order", peerId: "r1" });
    partner.emit("pair", { v: PROTOCOL_VERSION, pairCode: "in-order", peerId: "r2" });
    await found;
    raw.emit("report", { upgrade: "succeeded" });
    raw.emit("report", { upgrade: "maybe" });
    await until(() => refused.length === 8, "the bad report refused");
    const metrics = await (await fetch(`${server.url}metrics`)).text();
    assert.match(metrics, /socketpeer_upgrades_total\{outcome="succeeded"\} 1\n/);
  },
);

Deno.test(
  "a frame announcing a message over maxMessageSize is refused by the server",
  opts,
  async () => {
    await using server = await startServer({ maxMessageSize: 100_000 });
    using raw = await rawSocket(server.url);
    using partner = await rawSocket(server.url);
    const found = new Promise((resolve) => partner.once(WireEvent.FOUND, resolve));
    raw.emit("pair", { v: PROTOCOL_VERSION, pairCode: "huge", peerId: "r1" });
    partner.emit("pair", { v: PROTOCOL_VERSION, pairCode: "huge", peerId: "r2" });
    await found;
    const frames = encodeMessage(1, PayloadKind.BINARY, new Uint8Array(300_000));
    const error = nextError(raw);
    raw.emit("data", frames[0]);
    assert.equal((await error).code, ErrorCode.MESSAGE_TOO_LARGE);
  },
);

Deno.test(
  "a BATCH holding one frame that announces a message over maxMessageSize is refused whole",
  opts,
  async () => {
    await using server = await startServer({ maxMessageSize: 1000 });
    using raw = await rawSocket(server.url);
    using partner = await rawSocket(server.url);
    const partnerGot: unknown[] = [];
    partner.on("data", (d: unknown) => partnerGot.push(d));
    const found = new Promise((resolve) => partner.once(WireEvent.FOUND, resolve));
    raw.emit("pair", { v: PROTOCOL_VERSION, pairCode: "huge-inside", peerId: "r1", batch: true });
    partner.emit("pair", {
      v: PROTOCOL_VERSION,
      pairCode: "huge-inside",
      peerId: "r2",
      batch: true,
    });
    await found;
    const [small] = encodeMessage(1, PayloadKind.BINARY, new Uint8Array(10));
    const [over] = encodeMessage(2, PayloadKind.BINARY, new Uint8Array(1001));
    const [after] = encodeMessage(3, PayloadKind.BINARY, new Uint8Array(10));
    const error = nextError(raw);
    raw.emit("data", encodeBatch([small, over, after]));
    const notice = await error;
    assert.equal(notice.code, ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(notice.event, "data");
    // A batch within the limit still goes through, as the very bytes sent.
    const good = encodeBatch([small, after]);
    raw.emit("data", good);
    await until(() => partnerGot.length === 1, "the partner got the good batch");
    assert.deepEqual(new Uint8Array(partnerGot[0] as ArrayBuffer), good);
    const stats = await server.stats();
    assert.equal(stats.framesRelayed, 2, "frames are counted one by one");
    assert.equal(stats.bytesRelayed, good.byteLength);
  },
);

Deno.test(
  "a client batches its frames only to a partner that said it decodes BATCH frames",
  opts,
  async () => {
    await using server = await startServer();
    for (const batch of [true, false]) {
      const pairCode = `batch-${batch}`;
      using raw = await rawSocket(server.url);
      const frames: Frame[] = [];
      let messages = 0;
      raw.on("data", (d: ArrayBuffer) => {
        messages++;
        frames.push(...decodeFrames(new Uint8Array(d)));
      });
      raw.emit("pair", { v: PROTOCOL_VERSION, pairCode, peerId: `raw-${batch}`, batch });
      using sender = peer(server.url, { pairCode });
      const [info] = await next(sender, "peer.found");
      assert.equal(info.pairCode, pairCode);
      for (let i = 0; i < 200; i++) sender.send(`message ${i}`);
      await until(() => frames.length === 200, `the raw partner got 200 frames (batch: ${batch})`);
      assert.ok(frames.every((f) => f.type === FrameType.DATA));
      assert.deepEqual(frames.map((f) => f.type === FrameType.DATA && f.seq), [
        ...Array.from({ length: 200 }, (_, i) => i + 1),
      ]);
      if (batch) assert.ok(messages < 10, `${messages} transport messages for 200 frames`);
      else assert.equal(messages, 200);
    }
  },
);

Deno.test(
  "a client cuts 64 KiB frames for a partner that did not announce a larger maxFrameSize",
  opts,
  async () => {
    await using server = await startServer();
    for (const maxFrameSize of [undefined, 65_556]) {
      const pairCode = `frames-${maxFrameSize}`;
      using raw = await rawSocket(server.url);
      const sizes: number[] = [];
      raw.on("data", (d: ArrayBuffer) => sizes.push(d.byteLength));
      raw.emit("pair", {
        v: PROTOCOL_VERSION,
        pairCode,
        peerId: `raw-${maxFrameSize}`,
        maxFrameSize,
      });
      using sender = peer(server.url, { pairCode });
      await next(sender, "peer.found");
      sender.send(new Uint8Array(65_536));
      const expected = maxFrameSize ? [65_556] : [65_536, 40];
      await until(() => sizes.length === expected.length, `${expected.length} frame(s)`);
      assert.deepEqual(sizes, expected);
    }
  },
);

Deno.test(
  "the same partner found again with a smaller maxFrameSize starts a new stream, as a new partner would",
  opts,
  async () => {
    await using server = await startServer();
    const frames = (raw: Socket) => {
      const got: Frame[] = [];
      raw.on("data", (d: ArrayBuffer) => got.push(...decodeFrames(new Uint8Array(d))));
      return got;
    };
    const pair = { v: PROTOCOL_VERSION, pairCode: "shrink", peerId: "shrinking-partner" };
    const first = await rawSocket(server.url);
    const before = frames(first);
    first.emit("pair", { ...pair, maxFrameSize: 65_556 });
    using sender = peer(server.url, { pairCode: "shrink" });
    const warnings: string[] = [];
    sender.on("warning", (w) => warnings.push(w.code));
    await next(sender, "peer.found");
    sender.send("never acknowledged");
    await until(() => before.length === 1, "the first message arrived");
    first.disconnect();
    // The same secret again, through a server that (like an older one) allows only 64 KiB frames.
    using second = await rawSocket(server.url);
    const after = frames(second);
    second.emit("pair", pair);
    await next(sender, "peer.found");
    sender.send("after");
    await until(() => after.some((f) => f.type === FrameType.DATA), "a frame after the re-pair");
    const data = after.filter((f) => f.type === FrameType.DATA);
    assert.deepEqual(data.map((f) => f.type === FrameType.DATA && [f.seq, f.payload.byteLength]), [
      [1, "after".length],
    ]);
    assert.ok(warnings.includes(ErrorCode.NOT_PAIRED), warnings.join(", "));
  },
);

Deno.test("peer.found tells the protocol facts a third-party client needs", opts, async () => {
  await using server = await startServer({ iceServers: [{ urls: "stun:stun.test:3478" }] });
  using one = await rawSocket(server.url);
  using two = await rawSocket(server.url);
  const waiting = new Promise((resolve) => one.once(WireEvent.WAITING, resolve));
  one.emit("pair", { v: PROTOCOL_VERSION, pairCode: "facts", peerId: "one" });
  assert.deepEqual(await waiting, { pairCode: "facts" });
  const foundOne = new Promise((resolve) => one.once(WireEvent.FOUND, resolve));
  const foundTwo = new Promise((resolve) => two.once(WireEvent.FOUND, resolve));
  two.emit("pair", { v: PROTOCOL_VERSION, pairCode: "facts", peerId: "two", webrtc: false });
  const [f1, f2] = await Promise.all([foundOne, foundTwo]);
  assert.deepEqual(f1, {
    pairCode: "facts",
    initiator: false,
    // The partner sees a hash of the secret peerId, never the secret itself.
    peerId: createHash("sha256").update("two").digest("hex").slice(0, 32),
    webrtc: false,
    batch: false,
    maxFrameSize: 65_536,
    iceServers: [{ urls: "stun:stun.test:3478" }],
    maxMessageSize: 16 * 1024 * 1024,
    relayRate: { messagesPerSecond: 5000, bytesPerSecond: 16 * 1024 * 1024 },
  });
  assert.equal((f2 as { initiator: boolean }).initiator, true);
  const left = new Promise((resolve) => one.once(WireEvent.LEFT, resolve));
  two.emit("leave");
  assert.deepEqual(await left, { pairCode: "facts", reason: "left" });
});

Deno.test(
  "peer.found's maxFrameSize is the smaller of both peers' announcements, at most 65,556",
  opts,
  async () => {
    await using server = await startServer();
    const pairOf = async (code: string, one: unknown, two: unknown) => {
      using a = await rawSocket(server.url);
      using b = await rawSocket(server.url);
      const waiting = new Promise((resolve) => a.once(WireEvent.WAITING, resolve));
      a.emit("pair", { v: PROTOCOL_VERSION, pairCode: code, peerId: "a", maxFrameSize: one });
      await waiting;
      const found = [a, b].map((s) =>
        new Promise<{ maxFrameSize: number }>((resolve) => s.once(WireEvent.FOUND, resolve))
      );
      b.emit("pair", { v: PROTOCOL_VERSION, pairCode: code, peerId: "b", maxFrameSize: two });
      return (await Promise.all(found)).map((f) => f.maxFrameSize);
    };
    assert.deepEqual(await pairOf("both-large", 65_556, 65_556), [65_556, 65_556]);
    assert.deepEqual(await pairOf("one-old", 65_556, undefined), [65_536, 65_536]);
    assert.deepEqual(await pairOf("future", 1 << 20, 1 << 20), [65_556, 65_556]);
    assert.deepEqual(await pairOf("between", 65_540, 1 << 20), [65_540, 65_540]);
  },
);

Deno.test("peerTimeout refuses a peer left waiting too long", opts, async () => {
  await using server = await startServer({ peerTimeout: 200 });
  using alone = peer(server.url, { pairCode: "lonely" });
  const [[err]] = await Promise.all([next(alone, "connect_timeout"), next(alone, "error")]);
  assert.equal(err.code, ErrorCode.PEER_TIMEOUT);
  assert.equal((await server.stats()).waiting, 0);
});
