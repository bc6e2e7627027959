import assert from "node:assert/strict";
import { io } from "npm:socket.io-client@4.8.1";
import { ErrorCode, SocketPeerError } from "../protocol/errors.ts";
import { next, paired, pairOf, peer, record, startServer, until } from "./_fixtures.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("two peers with one code pair, with exactly one initiator", opts, async () => {
  await using server = await startServer();
  using a = peer(server.url, { pairCode: "one-initiator" });
  const aFound = next(a, "peer.found");
  await next(a, "peer.waiting");
  using b = peer(server.url, { pairCode: "one-initiator" });
  const [[infoA], [infoB]] = await Promise.all([aFound, next(b, "peer.found")]);
  assert.equal(infoA.initiator !== infoB.initiator, true);
  assert.equal(infoA.peerId, b.peerId);
  assert.equal(infoB.peerId, a.peerId);
  assert.equal((await server.stats()).paired, 1);
});

Deno.test("the relay carries strings, binary and JSON both ways, unchanged", opts, async () => {
  await using server = await startServer();
  const [a, b] = pairOf(server.url, "relay-both-ways");
  using _a = a;
  using _b = b;
  const atA = record(a);
  const atB = record(b);
  const bytes = new Uint8Array([0, 1, 2, 128, 255]);
  a.send("from a ✓");
  a.send(bytes);
  a.send({ n: 1, list: [true, null] });
  b.send("from b");
  b.send(bytes.buffer);
  b.send([1, "two"]);
  await until(() => atA.length === 3 && atB.length === 3, "both got three messages");
  assert.equal(atB[0], "from a ✓");
  assert.ok(atB[1] instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(atB[1] as ArrayBuffer)], [...bytes]);
  assert.deepEqual(atB[2], { n: 1, list: [true, null] });
  assert.equal(atA[0], "from b");
  assert.deepEqual([...new Uint8Array(atA[1] as ArrayBuffer)], [...bytes]);
  assert.deepEqual(atA[2], [1, "two"]);
  assert.equal(a.path, "relay");
  assert.ok(a.stats().relay.messagesSent >= 3);
  assert.ok(b.stats().relay.messagesReceived >= 3);
  assert.ok((await server.stats()).bytesRelayed > 0);
});

Deno.test(
  "2,000 request/response round trips over the relay each get their answer",
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "round-trips");
    using _a = a;
    using _b = b;
    b.on("data", (data) => b.send(data));
    // One message in flight at a time: nothing else wakes the sender's stream or the transport.
    for (let i = 0; i < 2_000; i++) {
      const answer = next(a, "data", 5_000);
      a.send(`request ${i}`);
      const [echo] = await answer;
      assert.equal(echo, `request ${i}`);
    }
  },
);

Deno.test("messages sent before a partner exists are delivered when it arrives", opts, async () => {
  await using server = await startServer();
  using a = peer(server.url, { pairCode: "early-sender" });
  a.send("sent while alone");
  await next(a, "peer.waiting");
  using b = peer(server.url, { pairCode: "early-sender" });
  const [data] = await next(b, "data");
  assert.equal(data, "sent while alone");
});

Deno.test(
  "a message larger than a frame is chunked and reassembled on the relay",
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "relay-chunks");
    using _a = a;
    using _b = b;
    const big = new Uint8Array(1_000_003).map((_, i) => (i * 7) % 256);
    a.send(big);
    const [data] = await next(b, "data");
    assert.ok(data instanceof ArrayBuffer);
    assert.deepEqual(new Uint8Array(data), big);
  },
);

Deno.test("a send larger than maxMessageSize throws ERR_MESSAGE_TOO_LARGE", opts, async () => {
  await using server = await startServer({ maxMessageSize: 1000 });
  const [a, b] = pairOf(server.url, "too-large");
  using _a = a;
  using _b = b;
  await paired(a, b);
  assert.throws(
    () => a.send(new Uint8Array(1001)),
    (err) => err instanceof SocketPeerError && err.code === ErrorCode.MESSAGE_TOO_LARGE,
  );
  a.send(new Uint8Array(1000));
  const [data] = await next(b, "data");
  assert.equal((data as ArrayBuffer).byteLength, 1000);
});

Deno.test(
  "a third peer with the same code is told busy and the pair is untouched",
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "crowded");
    using _a = a;
    using _b = b;
    await paired(a, b);
    const busyEvents: string[] = [];
    server.on("busy", ({ pairCode }) => busyEvents.push(pairCode));
    using c = peer(server.url, { pairCode: "crowded" });
    const [err] = await next(c, "busy");
    assert.equal(err.code, ErrorCode.BUSY);
    assert.deepEqual(busyEvents, ["crowded"]);
    assert.equal(c.connected, false);
    const atB = record(b);
    a.send("still here");
    await until(() => atB.length === 1, "b got the message");
    assert.equal(atB[0], "still here");
    assert.equal((await server.stats()).paired, 1);
  },
);

Deno.test(
  "a peer that leaves is reported to its partner, which pairs again under the same code",
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "musical-chairs");
    using _a = a;
    await paired(a, b);
    const unpaired: string[] = [];
    server.on("unpair", ({ reason }) => unpaired.push(reason));
    const left = next(a, "peer.left");
    b.close();
    const [reason] = await left;
    assert.equal(reason, "left");
    assert.equal(a.connected, false);
    await until(() => unpaired.length === 1, "the server emitted unpair");
    assert.deepEqual(unpaired, ["left"]);
    using c = peer(server.url, { pairCode: "musical-chairs" });
    const atC = record(c);
    await next(a, "reconnect");
    a.send("hello newcomer");
    await until(() => atC.length === 1, "the new partner got the message");
    assert.equal(atC[0], "hello newcomer");
  },
);

Deno.test(
  "server.leave(pairCode) breaks both ends and the peers do not come back",
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "kick-me");
    using _a = a;
    using _b = b;
    await paired(a, b);
    const errors: string[] = [];
    a.on("error", (e) => errors.push(e.code));
    const closed = Promise.all([next(a, "close"), next(b, "close")]);
    assert.equal(await server.leave("kick-me"), 2);
    await closed;
    assert.deepEqual(errors, [ErrorCode.KICKED]);
    assert.equal((await server.stats()).paired, 0);
  },
);

Deno.test(
  "close() is idempotent, emits close once, and send() after it throws ERR_DESTROYED",
  opts,
  async () => {
    await using server = await startServer();
    using a = peer(server.url, { pairCode: "closing" });
    let closes = 0;
    a.on("close", () => closes++);
    a.close();
    a.close();
    a.destroy();
    assert.equal(closes, 1);
    assert.throws(
      () => a.send("late"),
      (err) => err instanceof SocketPeerError && err.code === ErrorCode.DESTROYED,
    );
    assert.throws(() => a.connect(), (err) => err instanceof SocketPeerError);
  },
);

Deno.test("a pair code the validator refuses gets ERR_INVALID_PAIR_CODE", opts, async () => {
  await using server = await startServer({
    pairCodeValidator: async (code) => {
      await Promise.resolve();
      return code.startsWith("ok-");
    },
  });
  using bad = peer(server.url, { pairCode: "nope" });
  const [err] = await next(bad, "error");
  assert.equal(err.code, ErrorCode.INVALID_PAIR_CODE);
  const [a, b] = pairOf(server.url, "ok-fine");
  using _a = a;
  using _b = b;
  await paired(a, b);
});

Deno.test(
  'binaryType "uint8array" delivers binary messages as Uint8Array views, whole, chunked and batched',
  opts,
  async () => {
    await using server = await startServer();
    using a = peer(server.url, { pairCode: "views" });
    using b = peer(server.url, { pairCode: "views", binaryType: "uint8array" });
    await paired(a, b);
    const atB = record(b);
    const big = new Uint8Array(200_000).map((_, i) => (i * 13) % 256);
    a.send(new Uint8Array([1, 2, 3]));
    a.send(new Uint8Array([4, 5])); // sent in the same run: batched with the first
    a.send(big);
    a.send("text is still text");
    await until(() => atB.length === 4, "4 messages");
    assert.ok(atB.slice(0, 3).every((m) => m instanceof Uint8Array));
    assert.deepEqual([...(atB[0] as Uint8Array)], [1, 2, 3]);
    assert.deepEqual([...(atB[1] as Uint8Array)], [4, 5]);
    assert.deepEqual(atB[2], big);
    assert.equal(atB[3], "text is still text");
    // The default stays one ArrayBuffer per message.
    const atA = record(a);
    b.send(new Uint8Array([9]));
    await until(() => atA.length === 1, "1 message");
    assert.ok(atA[0] instanceof ArrayBuffer);
  },
);

Deno.test("the client refuses bad options and bad pair codes at construction", () => {
  const url = "http://127.0.0.1:1/socketpeer/";
  const cases: [Record<string, unknown>, string][] = [
    [{ url, pairCode: "has space", autoconnect: false }, ErrorCode.INVALID_PAIR_CODE],
    [{ url: "not a url", autoconnect: false }, ErrorCode.INVALID_OPTION],
    [{ url, serialization: "xml", autoconnect: false }, ErrorCode.INVALID_OPTION],
    [{ url, binaryType: "blob", autoconnect: false }, ErrorCode.INVALID_OPTION],
    [{ url, reconnectDelay: -1, autoconnect: false }, ErrorCode.INVALID_OPTION],
    [{ url, wrtc: {}, autoconnect: false }, ErrorCode.INVALID_OPTION],
    [{ autoconnect: false }, ErrorCode.INVALID_OPTION],
  ];
  for (const [options, code] of cases) {
    assert.throws(
      () => peer(options.url as string, options),
      (err) => err instanceof SocketPeerError && err.code === code,
      JSON.stringify(options),
    );
  }
});

Deno.test(
  "send() returns false past highWaterMark and drain follows once the partner acknowledges",
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "backpressure", { highWaterMark: 64 * 1024 });
    using _a = a;
    using _b = b;
    await paired(a, b);
    const chunk = new Uint8Array(16 * 1024);
    let accepted = 0;
    while (a.send(chunk)) accepted++;
    assert.ok(accepted < 10, `send() said stop after ${accepted} sends`);
    assert.ok(a.bufferedAmount >= 64 * 1024);
    await next(a, "drain");
    assert.ok(a.bufferedAmount < 32 * 1024);
    await a.flush();
    assert.equal(a.bufferedAmount, 0);
  },
);

Deno.test(
  "with timeout set, a peer that finds no partner in time emits connect_timeout and closes",
  opts,
  async () => {
    await using server = await startServer();
    using alone = peer(server.url, { pairCode: "nobody-comes", timeout: 200 });
    const [[err]] = await Promise.all([next(alone, "connect_timeout"), next(alone, "close")]);
    assert.equal(err.code, ErrorCode.TIMEOUT);
    assert.equal(alone.closed, true);
  },
);

Deno.test(
  "a peer can reuse an existing socket.io-client socket, which it leaves open on close",
  opts,
  async () => {
    await using server = await startServer();
    const { origin } = new URL(server.url);
    const socket = io(origin, { path: "/socketpeer/socket.io/", transports: ["polling"] });
    try {
      using a = peer(server.url, { pairCode: "own-socket", socket });
      using b = peer(server.url, { pairCode: "own-socket" });
      const atB = record(b);
      a.send("over a socket I brought");
      await until(() => atB.length === 1, "delivery through the adopted socket");
      assert.equal(a.socket, socket);
      assert.equal(socket.io.engine.transport.name, "polling");
      a.close();
      assert.equal(socket.connected, true);
    } finally {
      socket.disconnect();
    }
  },
);

Deno.test("pair(code) moves a peer to another pair code", opts, async () => {
  await using server = await startServer();
  using a = peer(server.url, { pairCode: "first-room" });
  using b = peer(server.url, { pairCode: "second-room" });
  await next(a, "peer.waiting");
  a.pair("second-room");
  await paired(a, b);
  assert.equal(a.pairCode, "second-room");
  assert.equal((await server.stats()).waiting, 0);
  assert.throws(() => a.pair("bad code!"), (err) => err instanceof SocketPeerError);
});

Deno.test("a peer given a socket that is connected already pairs on it", opts, async () => {
  await using server = await startServer();
  const { origin } = new URL(server.url);
  const socket = io(origin, { path: "/socketpeer/socket.io/", transports: ["websocket"] });
  try {
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    using a = peer(server.url, { pairCode: "warm-socket", socket });
    using b = peer(server.url, { pairCode: "warm-socket" });
    await paired(a, b);
  } finally {
    socket.disconnect();
  }
});

Deno.test(
  "a peer on long-polling sends and receives messages larger than a frame",
  opts,
  async () => {
    await using server = await startServer();
    const { origin } = new URL(server.url);
    const socket = io(origin, { path: "/socketpeer/socket.io/", transports: ["polling"] });
    try {
      using a = peer(server.url, { pairCode: "polling-big", socket });
      using b = peer(server.url, { pairCode: "polling-big" });
      const atA = record(a);
      const atB = record(b);
      const big = new Uint8Array(200_000).map((_, i) => i % 253);
      a.send(big);
      b.send(big);
      await until(() => atA.length === 1 && atB.length === 1, "both big messages arrived");
      assert.deepEqual(new Uint8Array(atB[0] as ArrayBuffer), big);
      assert.deepEqual(new Uint8Array(atA[0] as ArrayBuffer), big);
      assert.equal(socket.io.engine.transport.name, "polling");
    } finally {
      socket.disconnect();
    }
  },
);

Deno.test(
  "peers that asked for different maxMessageSize still agree: the smaller only limits what one sends",
  opts,
  async () => {
    await using server = await startServer();
    using small = peer(server.url, { pairCode: "mismatch", maxMessageSize: 1000 });
    using large = peer(server.url, { pairCode: "mismatch" });
    await paired(small, large);
    const atSmall = record(small);
    large.send(new Uint8Array(200_000));
    large.send("after the big one");
    await until(() => atSmall.length === 2, "both arrived");
    assert.equal((atSmall[0] as ArrayBuffer).byteLength, 200_000);
    assert.equal(atSmall[1], "after the big one");
    assert.throws(() => small.send(new Uint8Array(1001)), (e) => e instanceof SocketPeerError);
  },
);

Deno.test("a data listener that throws does not cost the messages after it", opts, async () => {
  await using server = await startServer();
  const [a, b] = pairOf(server.url, "throwing-listener");
  using _a = a;
  using _b = b;
  await paired(a, b);
  const got: unknown[] = [];
  b.on("data", (d) => {
    got.push(d);
    if (d === "boom") throw new Error("listener bug");
  });
  const uncaught = new Promise<unknown>((resolve) => {
    globalThis.addEventListener("error", (e) => {
      e.preventDefault();
      resolve(e.error);
    }, { once: true });
  });
  a.send("boom");
  a.send("still delivered");
  assert.equal(((await uncaught) as Error).message, "listener bug");
  await until(() => got.length === 2, "the second message arrived");
  assert.deepEqual(got, ["boom", "still delivered"]);
});

Deno.test(
  "small messages sent together share relay packets, so a burst far past the packet rate arrives without a rate warning",
  opts,
  async () => {
    // 50 packets a second: one message a packet would take a minute for 3,000.
    await using server = await startServer({
      relayRate: { messagesPerSecond: 50, bytesPerSecond: 16 * 1024 * 1024 },
    });
    const [a, b] = pairOf(server.url, "burst");
    using _a = a;
    using _b = b;
    await paired(a, b);
    const warnings: string[] = [];
    for (const p of [a, b]) p.on("warning", (w) => warnings.push(w.code));
    const atB = record(b);
    const chunk = new Uint8Array(1000);
    for (let i = 0; i < 3000; i++) a.send(chunk);
    await until(() => atB.length === 3000, "all 3,000 messages arrived");
    assert.deepEqual(warnings, []);
    assert.equal(a.stats().relay.messagesSent, 3000);
    assert.equal(b.stats().relay.messagesReceived, 3000);
  },
);
