import assert from "node:assert/strict";
import { io } from "npm:socket.io-client@4.8.1";
import { ErrorCode } from "../protocol/errors.ts";
import { WireEvent } from "../protocol/events.ts";
import { PROTOCOL_VERSION } from "../protocol/version.ts";
import { next, paired, pairOf, peer, record, startServer, until } from "./_fixtures.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "authorize() lets a client in with a good token and refuses one without, with ERR_UNAUTHORIZED",
  opts,
  async () => {
    const seen: string[] = [];
    await using server = await startServer({
      authorize: async ({ auth, address }) => {
        seen.push(address);
        await Promise.resolve();
        return auth.token === "let-me-in";
      },
    });
    const { origin } = new URL(server.url);
    const path = "/socketpeer/socket.io/";
    const good = io(origin, { path, auth: { token: "let-me-in" }, autoConnect: false });
    const bad = io(origin, { path, auth: { token: "guess" }, autoConnect: false });
    try {
      using a = peer(server.url, { pairCode: "authorized", socket: good });
      using b = peer(server.url, { pairCode: "authorized", socket: bad });
      const [err] = await next(b, "connect_error");
      assert.equal(err.code, ErrorCode.UNAUTHORIZED);
      await next(a, "peer.waiting");
      assert.ok(seen.every((address) => address === "127.0.0.1" || address.endsWith("127.0.0.1")));
    } finally {
      good.disconnect();
      bad.disconnect();
    }
  },
);

Deno.test(
  "an authorize hook that throws refuses the connection instead of crashing",
  opts,
  async () => {
    await using server = await startServer({
      authorize: () => {
        throw new Error("database down");
      },
    });
    using a = peer(server.url, { pairCode: "hook-throws" });
    const [err] = await next(a, "connect_error");
    assert.equal(err.code, ErrorCode.UNAUTHORIZED);
  },
);

Deno.test(
  "an address past maxConnectionsPerIp is refused with ERR_TOO_MANY_CONNECTIONS",
  opts,
  async () => {
    await using server = await startServer({ maxConnectionsPerIp: 2, exemptAddresses: [] });
    const [a, b] = pairOf(server.url, "cap");
    using _a = a;
    using _b = b;
    await paired(a, b);
    // The long-polling handshake carries the reason, so the client can name it.
    const { origin } = new URL(server.url);
    const third = io(origin, {
      path: "/socketpeer/socket.io/",
      transports: ["polling"],
      autoConnect: false,
    });
    try {
      using c = peer(server.url, { pairCode: "cap-2", socket: third });
      const [err] = await next(c, "connect_error");
      assert.equal(err.code, ErrorCode.TOO_MANY_CONNECTIONS);
    } finally {
      third.disconnect();
    }
    b.close();
    await until(() => !a.connected, "the partner noticed");
    using d = peer(server.url, { pairCode: "cap" });
    await paired(a, d);
  },
);

Deno.test("loopback is exempt from per-address limits by default", opts, async () => {
  await using server = await startServer({ maxConnectionsPerIp: 1 });
  const [a, b] = pairOf(server.url, "local-tools");
  using _a = a;
  using _b = b;
  await paired(a, b);
});

Deno.test(
  "repeated pair requests from one address are throttled with ERR_RATE_LIMITED",
  opts,
  async () => {
    await using server = await startServer({ pairRequestsPerMinute: 3, exemptAddresses: [] });
    using guesser = peer(server.url, { pairCode: "guess-0", maxMessageSize: 1000 });
    await next(guesser, "peer.waiting");
    guesser.pair("guess-1");
    await next(guesser, "peer.waiting");
    guesser.pair("guess-2");
    await next(guesser, "peer.waiting");
    guesser.pair("guess-3");
    // A warning, not an error: the peer asks again later by itself.
    const [err] = await next(guesser, "warning");
    assert.equal(err.code, ErrorCode.RATE_LIMITED);
    assert.equal(guesser.connected, false);
  },
);

Deno.test(
  "a peer whose connection dropped keeps its slot: a stranger is busy, the same client comes back",
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "reserved");
    using _a = a;
    using _b = b;
    await paired(a, b);
    const aLost = next(b, "peer.left");
    a.socket.io.engine.close(); // a transport drop, as when the network goes away
    assert.deepEqual(await aLost, ["disconnected"]);
    using stranger = peer(server.url, { pairCode: "reserved" });
    const [held] = await next(stranger, "warning");
    assert.equal(held.code, ErrorCode.BUSY);
    await next(a, "reconnect");
    await paired(a, b);
    const atB = record(b);
    a.send("still me");
    await until(() => atB.length === 1, "delivery after the resume");
  },
);

Deno.test(
  "a socket presenting another client's public id cannot resume its stream",
  opts,
  async () => {
    await using server = await startServer({ resumeGrace: 0 });
    const [a, b] = pairOf(server.url, "hijack");
    using _b = b;
    await paired(a, b);
    b.send("for a only");
    await a.flush().catch(() => {});
    const publicId = a.peerId;
    a.close();
    await until(() => !b.connected, "b noticed a left");
    // The impostor knows a's public id (b saw it) but not a's secret.
    const { origin } = new URL(server.url);
    const impostor = io(origin, { path: "/socketpeer/socket.io/", transports: ["websocket"] });
    try {
      const found = new Promise<{ peerId: string }>((r) => impostor.once(WireEvent.FOUND, r));
      impostor.emit(WireEvent.PAIR, { v: PROTOCOL_VERSION, pairCode: "hijack", peerId: publicId });
      const [info] = await next(b, "peer.found");
      assert.notEqual(info.peerId, publicId, "b sees a different peer");
      assert.notEqual((await found).peerId, undefined);
      const warnings: string[] = [];
      b.on("warning", (w) => warnings.push(w.message));
      // b starts a new stream (had it resumed a's, this would be message 2).
      const frames: unknown[] = [];
      impostor.on(WireEvent.DATA, (f: unknown) => frames.push(f));
      b.send("for the newcomer");
      await until(() => frames.length >= 1, "the newcomer got a frame");
      const first = new Uint8Array(frames[0] as ArrayBuffer);
      assert.equal(new DataView(first.buffer, first.byteOffset).getFloat64(4), 1, "a new stream");
    } finally {
      impostor.disconnect();
    }
  },
);

Deno.test("when both peers drop at once, both come back to their pair", opts, async () => {
  await using server = await startServer();
  const [a, b] = pairOf(server.url, "both-drop");
  using _a = a;
  using _b = b;
  await paired(a, b);
  const back = Promise.all([next(a, "reconnect"), next(b, "reconnect")]);
  a.socket.io.engine.close();
  b.socket.io.engine.close();
  await back;
  await paired(a, b);
});

Deno.test(
  "a newcomer held off by a reserved slot is told when to ask again, and pairs once it lapses",
  opts,
  async () => {
    await using server = await startServer({ resumeGrace: 300 });
    const [a, b] = pairOf(server.url, "lapse", { reconnect: false });
    using _b = b;
    await paired(a, b);
    a.socket.io.engine.close(); // a is gone for good: it does not reconnect
    await next(b, "peer.left");
    using newcomer = peer(server.url, { pairCode: "lapse" });
    const [warning] = await next(newcomer, "warning");
    assert.equal(warning.code, ErrorCode.BUSY);
    await paired(newcomer, b);
    a.close();
  },
);
