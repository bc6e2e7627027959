/**
 * The server's abuse policies under attack by bare clients that ignore the
 * protocol's manners: a receiver that stops reading, a flooder, a client that
 * opens connection after connection, one that fails or games `authorize`, a
 * pair-code guesser, and a hijacker holding a peer's public id.
 */
import assert from "node:assert/strict";
import { io } from "npm:socket.io-client@4.8.1";
import { ErrorCode } from "../protocol/errors.ts";
import { encodeMessage, PayloadKind } from "../protocol/frame.ts";
import { describeAttack, growthOf, stalledDataAttack } from "./_abuse.ts";
import {
  IO_PATH,
  mb,
  pairRequest,
  RawEio,
  rawExchange,
  rawPair,
  stalledReceiver,
  startCanary,
  startServerProcess,
  upgradeRequest,
} from "./_faults.ts";
import { next, paired, pairOf, peer, record, sleep, startServer, until } from "./_fixtures.ts";
import { settle, type StreamingPair, streamNumbered } from "./_load.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const MB = 1024 * 1024;

const starts = (prefix: string) => (m: string | Uint8Array) =>
  typeof m === "string" && m.startsWith(prefix);

/** The `sp.error` codes a bare socket received so far. */
function errorCodes(raw: RawEio): string[] {
  return raw.received.filter(starts('42["sp.error"')).map((m) =>
    JSON.parse((m as string).slice(2))[1].code
  );
}

Deno.test(
  "a receiver that stops reading is dropped before the server holds more than its relay backlog: a raw sender pushing 300 MB at it is told, and server RSS peaks at most 64 MB above the same traffic without a stall",
  opts,
  async () => {
    await using server = await startServerProcess();
    const attack = await stalledDataAttack(server);
    const growth = growthOf(attack);
    console.log(describeAttack(attack, "300 MB of data at a receiver that stopped reading"));
    assert.ok(attack.dropped, "the sender was never told its stalled partner left");
    assert.ok(
      attack.pushedBeforeDrop < 64 * MB,
      `the stalled receiver held ${mb(attack.pushedBeforeDrop)}`,
    );
    assert.ok(attack.pushed >= 300 * MB, `only ${mb(attack.pushed)} pushed`);
    assert.ok(server.alive());
    assert.ok(growth <= 64 * MB, `server RSS grew by ${mb(growth)}`);
  },
);

Deno.test(
  "a SocketPeer sender facing a receiver that stops reading sees backpressure: send() returns false and no drain comes, and server RSS grows by at most 64 MB",
  opts,
  async () => {
    await using server = await startServerProcess();
    await using _stalled = await stalledReceiver(server.port, "stalled-peer");
    using sender = peer(server.url, { pairCode: "stalled-peer" });
    await until(() => sender.connected, "the sender pairs with the stalled receiver");
    const rssBefore = server.rss();
    let drains = 0;
    sender.on("drain", () => drains++);
    const chunk = new Uint8Array(256 * 1024);
    let accepted = 0;
    let refused = false;
    // Offer up to 300 MB; a sender that respects send() stops long before.
    for (let sent = 0; sent < 300 * MB; sent += chunk.byteLength) {
      if (!sender.send(chunk)) {
        refused = true;
        break;
      }
      accepted += chunk.byteLength;
      await sleep(1);
    }
    await sleep(3_000); // time for a drain that must not come, and for the relay to settle
    const growth = server.rss() - rssBefore;
    console.log(
      `send() said stop after ${mb(accepted)}; ${
        mb(sender.bufferedAmount)
      } unacknowledged; server RSS +${mb(growth)}`,
    );
    assert.ok(refused, "send() never returned false");
    assert.equal(drains, 0, "drain came although nothing was acknowledged");
    assert.ok(sender.bufferedAmount >= accepted, "everything sent is still unacknowledged");
    assert.ok(growth <= 64 * MB, `server RSS grew by ${mb(growth)}`);
  },
);

Deno.test(
  "a socket that floods 10,000 frames a second is warned with ERR_RATE_LIMITED, then disconnected, and another pair loses nothing",
  opts,
  async () => {
    await using server = await startServer();
    const canary = startCanary(server.url, "flood-canary");
    const { port } = new URL(server.url);
    const [flooder, partner] = await rawPair(Number(port), "flood");
    using _f = flooder;
    using _p = partner;
    let partnerTold = false;
    const forget = setInterval(() => {
      partnerTold ||= partner.received.some(starts('42["peer.left"'));
      partner.forget();
    }, 50);
    const started = Date.now();
    let sent = 0;
    try {
      // 100 frames every 10 ms, for at most 30 s.
      while (!flooder.isClosed && Date.now() - started < 30_000) {
        for (let i = 0; i < 100; i++) {
          flooder.send('451-["data",{"_placeholder":true,"num":0}]');
          flooder.send(encodeMessage(++sent, PayloadKind.BINARY, new Uint8Array(80))[0]);
        }
        await sleep(10);
      }
    } finally {
      clearInterval(forget);
    }
    const tally = await canary.stop();
    const codes = errorCodes(flooder);
    const warnedAt = flooder.received.findIndex(
      (m) => typeof m === "string" && m.includes(ErrorCode.RATE_LIMITED),
    );
    const disconnectedAt = flooder.received.findIndex(starts("41"));
    console.log(
      `flooder sent ${sent} frames in ${Date.now() - started} ms; codes ${[...new Set(codes)]};` +
        ` canary ${JSON.stringify(tally)}`,
    );
    assert.ok(warnedAt >= 0, "the flooder was never warned");
    assert.ok(flooder.isClosed, "the flooder was never disconnected");
    assert.ok(disconnectedAt > warnedAt, "warned first, disconnected after");
    assert.equal(tally.lost + tally.duplicated + tally.reordered, 0, JSON.stringify(tally));
    assert.ok(tally.sent > 100);
    await until(
      () => partnerTold ||= partner.received.some(starts('42["peer.left"')),
      "the flooder's partner is told it left",
    );
  },
);

Deno.test(
  "maxConnectionsPerIp refuses WebSocket and polling handshakes past the cap with ERR_TOO_MANY_CONNECTIONS, and a refused attempt does not use up a place",
  opts,
  async () => {
    await using server = await startServer({ maxConnectionsPerIp: 3, exemptAddresses: [] });
    const port = Number(new URL(server.url).port);
    const open = [await RawEio.open(port), await RawEio.open(port), await RawEio.open(port)];
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        await assert.rejects(RawEio.open(port), `attempt ${attempt} got past the cap`);
      }
      const upgrade = await rawExchange(port, upgradeRequest(port), 5_000, (b) => b.length > 12);
      assert.notEqual(upgrade.status, 101);
      assert.match(upgrade.text, /ERR_TOO_MANY_CONNECTIONS/);
      const polling = await fetch(`http://127.0.0.1:${port}${IO_PATH}?EIO=4&transport=polling`);
      assert.equal(polling.status, 403);
      assert.match(await polling.text(), /ERR_TOO_MANY_CONNECTIONS/);
      open.pop()!.close();
      // Exactly one place is free again.
      await until(() => server.io.engine.clientsCount === 2, "the server saw the close");
      open.push(await RawEio.open(port));
      await assert.rejects(RawEio.open(port));
    } finally {
      for (const raw of open) raw.close();
    }
  },
);

Deno.test(
  "authorize() refuses a bad or prototype-polluting auth payload at the namespace connect, and a refused socket can never pair",
  opts,
  async () => {
    let calls = 0;
    await using server = await startServer({
      authorize: ({ auth }) => {
        calls++;
        return auth.token === "good";
      },
    });
    const port = Number(new URL(server.url).port);
    const refusedPayloads = ['{"token":"bad"}', '{"__proto__":{"token":"good"}}', ""];
    for (const payload of refusedPayloads) {
      using raw = await RawEio.open(port, { join: false });
      raw.send(`40${payload}`);
      const refusal = await raw.next((m) => typeof m === "string" && /^4[04]/.test(m)) as string;
      assert.match(refusal, /^44.*ERR_UNAUTHORIZED/, `auth ${payload || "(none)"}`);
      raw.emit("pair", pairRequest("auth-target", crypto.randomUUID()));
      assert.ok(await raw.closedWithin(15_000), "a refused socket's events close it");
    }
    {
      // An auth payload that is not an object never reaches the hook.
      using raw = await RawEio.open(port, { join: false });
      raw.send('40"good"');
      assert.ok(await raw.closedWithin(15_000), "a malformed connect was kept");
    }
    const { origin } = new URL(server.url);
    const good = io(origin, { path: IO_PATH, auth: { token: "good" }, autoConnect: false });
    try {
      using a = peer(server.url, { pairCode: "auth-target", socket: good });
      await next(a, "peer.waiting");
    } finally {
      good.disconnect();
    }
    assert.equal(calls, refusedPayloads.length + 1, "one call per connection");
    assert.equal((await server.stats()).paired, 0);
  },
);

Deno.test(
  "an authorize() that never answers does not keep the connection past connectTimeout",
  opts,
  async () => {
    await using server = await startServer({ authorize: () => new Promise<boolean>(() => {}) });
    const port = Number(new URL(server.url).port);
    using raw = await RawEio.open(port, { join: false });
    raw.send("40");
    assert.ok(await raw.closedWithin(30_000), "the connection hung on the hook");
    await until(() => server.io.engine.clientsCount === 0, "the server let go of it");
  },
);

Deno.test(
  "a guesser is throttled per address across its sockets, its guesses at a full pair are busy, and the pair is undisturbed",
  opts,
  async () => {
    const perMinute = 20;
    await using server = await startServer({
      pairRequestsPerMinute: perMinute,
      exemptAddresses: [],
    });
    const port = Number(new URL(server.url).port);
    const [a, b] = pairOf(server.url, "victims");
    using _a = a;
    using _b = b;
    await paired(a, b);
    let left = 0;
    a.on("peer.left", () => left++);
    b.on("peer.left", () => left++);
    const guessers = await Promise.all([0, 1, 2, 3].map(() => RawEio.open(port)));
    try {
      const answers: string[] = [];
      for (let i = 0; i < 25; i++) {
        for (const [g, guesser] of guessers.entries()) {
          const code = i % 5 === 0 ? "victims" : `guess-${g}-${i}`;
          guesser.emit("pair", pairRequest(code, crypto.randomUUID()));
          const answer = await guesser.next(
            (m) => typeof m === "string" && /^42\["(peer\.|busy|sp\.error)/.test(m),
          ) as string;
          answers.push(
            answer.includes(ErrorCode.RATE_LIMITED) ? "throttled" : answer.slice(4, 14),
          );
          guesser.emit("leave");
        }
      }
      const served = answers.filter((x) => x !== "throttled").length;
      console.log(`100 guesses: ${served} served, ${answers.length - served} throttled`);
      // Two of the address's requests went to the victims; a token comes back every 3 s.
      assert.ok(served <= perMinute, `${served} guesses were served`);
      assert.ok(answers.length - served >= 100 - perMinute - 2);
      assert.ok(!answers.some((x) => x.startsWith("peer.found")), "a guess found a partner");
      const atB = record(b);
      a.send("still private");
      await until(() => atB.length === 1, "the victims still talk");
      assert.equal(left, 0, "the victims were disturbed");
    } finally {
      for (const g of guessers) g.close();
    }
  },
);

Deno.test(
  "a hijacker holding a peer's public id can take its slot neither while it is paired nor while its slot is reserved, and the peer resumes with nothing lost",
  opts,
  async () => {
    await using server = await startServer({ resumeGrace: 15_000 });
    const port = Number(new URL(server.url).port);
    const [a, b] = pairOf(server.url, "hijack-target");
    await paired(a, b);
    const atA: unknown[] = [];
    const atB: unknown[] = [];
    a.on("data", (d) => atA.push(d));
    b.on("data", (d) => atB.push(d));
    const pair: StreamingPair = { name: "hijack-target", a, b, atA, atB };
    const partnerOfB = b.stats().partnerId;
    const attempt = async (secret: string) => {
      using hijacker = await RawEio.open(port);
      hijacker.emit("pair", pairRequest("hijack-target", secret));
      return await hijacker.next(
        (m) => typeof m === "string" && /^42\["(peer\.|busy|sp\.error)/.test(m),
      ) as string;
    };
    try {
      let tried = false;
      let dropped = false;
      await streamNumbered([pair], 1000, async (fraction) => {
        if (fraction >= 0.2 && !tried) {
          tried = true;
          // While paired: the public ids, as the partner saw them, and a guess.
          for (const secret of [a.peerId, b.peerId, "hijack"]) {
            assert.match(await attempt(secret), /^42\["busy"/, `paired: secret ${secret}`);
          }
        }
        if (fraction >= 0.5 && !dropped) {
          dropped = true;
          const aLost = next(b, "peer.left");
          a.socket.io.engine.close(); // the network drops: a reconnects by itself
          await aLost;
          // While a's slot is reserved for it.
          for (const secret of [a.peerId, "hijack"]) {
            assert.match(await attempt(secret), /^42\["busy"/, `reserved: secret ${secret}`);
          }
        }
      }, 5);
      const { total, broken } = await settle([pair], 1000);
      assert.deepEqual(broken, []);
      assert.equal(total.received, 2000);
      assert.equal(b.stats().partnerId, partnerOfB, "b is still paired with a");
    } finally {
      a.close();
      b.close();
    }
  },
);
