import assert from "node:assert/strict";
import {
  next,
  nodeWrtc,
  paired,
  pairOf,
  peer,
  record,
  sequenceProblems,
  sleep,
  startServer,
  stream,
  until,
  upgraded,
} from "./_fixtures.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "two Deno peers upgrade to a direct DataChannel and exchange data on it",
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "go-direct", { webrtc: true });
    await using _a = a;
    await using _b = b;
    const upgrades = Promise.all([next(a, "upgrade", 20_000), next(b, "upgrade", 20_000)]);
    await upgrades;
    await upgraded(a, b);
    const relayBefore = (await server.stats()).framesRelayed;
    const atA = record(a);
    const atB = record(b);
    a.send("direct from a");
    a.send(new Uint8Array([1, 2, 3]));
    b.send({ direct: "from b" });
    await until(() => atB.length === 2 && atA.length === 1, "data arrived both ways");
    assert.equal(atB[0], "direct from a");
    assert.deepEqual([...new Uint8Array(atB[1] as ArrayBuffer)], [1, 2, 3]);
    assert.deepEqual(atA[0], { direct: "from b" });
    assert.equal(a.stats().p2p.messagesSent, 2);
    assert.equal(b.stats().p2p.messagesReceived, 2);
    assert.equal(
      (await server.stats()).framesRelayed,
      relayBefore,
      "nothing went through the relay",
    );
    assert.ok(a.channel && b.channel && a.peerConnection);
    const metrics = await (await fetch(`${server.url}metrics`)).text();
    assert.match(metrics, /socketpeer_upgrades_total\{outcome="succeeded"\} 1\b/);
  },
);

Deno.test("a chunked 1 MB message crosses the DataChannel intact", opts, async () => {
  await using server = await startServer();
  const [a, b] = pairOf(server.url, "direct-chunks", { webrtc: true });
  await using _a = a;
  await using _b = b;
  await upgraded(a, b);
  const big = new Uint8Array(1_048_576 + 5).map((_, i) => (i * 31) % 256);
  a.send(big);
  const [data] = await next(b, "data");
  assert.deepEqual(new Uint8Array(data as ArrayBuffer), big);
  assert.equal(a.stats().p2p.messagesSent, 1);
});

Deno.test(
  "1,000 numbered messages each way, sent across the upgrade, arrive exactly once and in order",
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "across-upgrade", { webrtc: true });
    await using _a = a;
    await using _b = b;
    const atA = record(a);
    const atB = record(b);
    await paired(a, b);
    // Both start on the relay; the upgrade happens while they stream. Should
    // the upgrade be slow, the last 100 wait for it, so some surely go direct.
    const waitForUpgrade = async (sent: number) => {
      if (sent === 900) await upgraded(a, b);
    };
    await Promise.all([stream(a, 1000, waitForUpgrade), stream(b, 1000, waitForUpgrade)]);
    await until(() => atA.length >= 1000 && atB.length >= 1000, "1,000 messages each way");
    await Promise.all([a.flush(), b.flush()]);
    await sleep(50);
    assert.equal(sequenceProblems(atB, 1000), null);
    assert.equal(sequenceProblems(atA, 1000), null);
    await upgraded(a, b);
    const s = a.stats();
    assert.ok(s.relay.messagesSent > 0, "some went through the relay");
    assert.ok(s.p2p.messagesSent > 0, `some went direct: ${JSON.stringify(s)}`);
  },
);

Deno.test(
  "1,000 numbered messages each way survive the DataChannel dying mid-stream, exactly once and in order",
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "kill-the-channel", { webrtc: true });
    await using _a = a;
    await using _b = b;
    const atA = record(a);
    const atB = record(b);
    await upgraded(a, b);
    const downgraded = Promise.all([next(a, "downgrade"), next(b, "downgrade")]);
    let killed = false;
    await Promise.all([
      stream(a, 1000, (sent) => {
        if (sent >= 300 && !killed) {
          killed = true;
          b.channel!.close(); // the receiving end dies with frames in flight
        }
      }),
      stream(b, 1000),
    ]);
    await downgraded;
    await until(() => atA.length >= 1000 && atB.length >= 1000, "1,000 messages each way");
    await Promise.all([a.flush(), b.flush()]);
    await sleep(50);
    assert.equal(sequenceProblems(atB, 1000), null);
    assert.equal(sequenceProblems(atA, 1000), null);
    const s = a.stats();
    assert.ok(s.downgrades >= 1);
    assert.ok(s.p2p.messagesSent > 0 && s.relay.messagesSent > 0, JSON.stringify(s));
  },
);

Deno.test(
  "after a downgrade the peers go back to the relay and later upgrade again",
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "come-back", { webrtc: true });
    await using _a = a;
    await using _b = b;
    await upgraded(a, b);
    const down = next(a, "downgrade");
    a.channel!.close();
    await down;
    const atB = record(b);
    a.send("during the fallback");
    await until(() => atB.length === 1, "data went through the relay");
    const [again] = await Promise.all([next(a, "upgrade", 20_000), next(b, "upgrade", 20_000)]);
    assert.deepEqual(again, []);
    await upgraded(a, b);
    a.send("direct again");
    await until(() => atB.length === 2, "data went direct");
    assert.deepEqual(atB, ["during the fallback", "direct again"]);
    assert.equal(a.stats().upgrades, 2);
  },
);

Deno.test(
  "a failed upgrade emits upgrade_error on both sides and the relay keeps working",
  opts,
  async () => {
    await using server = await startServer();
    // No TURN server and relay-only ICE: no candidate can ever connect.
    const [a, b] = pairOf(server.url, "no-ice", {
      webrtc: true,
      rtcConfig: { iceTransportPolicy: "relay" },
      upgradeTimeout: 1000,
    });
    await using _a = a;
    await using _b = b;
    const [[errA], [errB]] = await Promise.all([
      next(a, "upgrade_error"),
      next(b, "upgrade_error"),
    ]);
    assert.equal(errA.code, "ERR_UPGRADE");
    assert.equal(errB.code, "ERR_UPGRADE");
    const atB = record(b);
    a.send("still relayed");
    await until(() => atB.length === 1, "relay delivery");
    assert.equal(a.path, "relay");
    // The initiator retries (at once, the first time): a second attempt fails too.
    const initiator = a.initiator ? a : b;
    await next(initiator, "upgrade_error", 10_000);
    assert.ok(initiator.stats().upgradeErrors >= 2);
    // The initiator reports each failure; the server counts them in its metrics.
    const metrics = await (await fetch(`${server.url}metrics`)).text();
    const failed = Number(
      metrics.match(/socketpeer_upgrades_total\{outcome="failed"\} (\d+)/)?.[1],
    );
    assert.ok(failed >= 2, metrics);
  },
);

Deno.test(
  "an initiator whose first upgrade attempt fails tries again at once and upgrades",
  opts,
  async () => {
    await using server = await startServer();
    // The first RTCPeerConnection is the offerer's (the answerer makes its own on the offer):
    // it refuses the answer. A 60 s reconnectDelay would keep a backed-off retry out of the test.
    let made = 0;
    class RefusesFirstAnswer extends nodeWrtc.RTCPeerConnection {
      constructor(config?: RTCConfiguration) {
        super(config);
        if (++made === 1) {
          this.setRemoteDescription = () => Promise.reject(new Error("refused for the test"));
        }
      }
    }
    const [a, b] = pairOf(server.url, "retry-at-once", {
      wrtc: { RTCPeerConnection: RefusesFirstAnswer },
      reconnectDelay: 60_000,
    });
    await using _a = a;
    await using _b = b;
    const errors: string[] = [];
    a.on("upgrade_error", (err) => errors.push(err.message));
    b.on("upgrade_error", (err) => errors.push(err.message));
    await upgraded(a, b, 20_000);
    const initiator = a.initiator ? a : b;
    assert.equal(initiator.stats().upgradeErrors, 1);
    assert.equal(initiator.stats().upgrades, 1);
    assert.ok(errors.some((m) => m.includes("refused for the test")), errors.join("; "));
  },
);

Deno.test(
  "a 64 KiB message is one frame on the relay and one DataChannel message on the direct path",
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "one-frame", { webrtc: true, reconnectDelay: 60_000 });
    await using _a = a;
    await using _b = b;
    await paired(a, b);
    // Before the upgrade, a 64 KiB message is sent on the relay…
    a.send(new Uint8Array(65_536).fill(1));
    const [first] = await next(b, "data");
    assert.equal((first as ArrayBuffer).byteLength, 65_536);
    await upgraded(a, b);
    a.send(new Uint8Array(65_536).fill(2));
    const [second] = await next(b, "data");
    assert.deepEqual(new Uint8Array(second as ArrayBuffer), new Uint8Array(65_536).fill(2));
    // …and each went as one frame of 65,556 bytes (a sends no ACKs: it received nothing).
    const stats = a.stats();
    assert.equal(stats.relay.messagesSent + stats.p2p.messagesSent, 2);
    assert.equal(stats.relay.bytesSent + stats.p2p.bytesSent, 2 * 65_556);
  },
);

Deno.test(
  "a DataChannel whose max-message-size is below the frame size is not used: the pair stays on the relay",
  opts,
  async () => {
    await using server = await startServer();
    // a's connections announce a max-message-size of 64 KiB, below 65,556-byte frames.
    class SmallMessages extends nodeWrtc.RTCPeerConnection {
      constructor(config?: RTCConfiguration) {
        super({ ...config, maxMessageSize: 65_536 } as RTCConfiguration);
      }
    }
    await using a = peer(server.url, {
      pairCode: "small-channel",
      wrtc: { RTCPeerConnection: SmallMessages },
      reconnectDelay: 60_000,
    });
    await using b = peer(server.url, {
      pairCode: "small-channel",
      wrtc: nodeWrtc,
      reconnectDelay: 60_000,
    });
    const errors: string[] = [];
    a.on("upgrade_error", (err) => errors.push(err.message));
    b.on("upgrade_error", (err) => errors.push(err.message));
    await paired(a, b);
    await until(() => errors.length > 0, "the upgrade was refused", 20_000);
    assert.ok(
      errors.some((m) => m.includes("carries messages of at most 65536 bytes")),
      errors.join("; "),
    );
    // b may send a only 64 KiB (a's description says so), and refuses the channel as it opens.
    // a may send b 256 KiB: it may see the channel open for a moment, until b's close signal
    // takes it back to the relay.
    assert.equal(b.stats().upgrades, 0);
    await until(() => a.path === "relay" && b.path === "relay", "both on the relay");
    await sleep(200);
    for (const p of [a, b]) {
      assert.equal(p.path, "relay");
      assert.equal(p.stats().upgrades, p.stats().downgrades, "no channel stays in use");
    }
    a.send(new Uint8Array(65_536).fill(3));
    const [data] = await next(b, "data");
    assert.equal((data as ArrayBuffer).byteLength, 65_536);
  },
);

Deno.test(
  'binaryType "uint8array" delivers DataChannel messages as Uint8Array views',
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "direct-views", { webrtc: true, binaryType: "uint8array" });
    await using _a = a;
    await using _b = b;
    await upgraded(a, b);
    const atB = record(b);
    const big = new Uint8Array(300_000).map((_, i) => (i * 7) % 256);
    a.send(new Uint8Array([7, 8, 9]));
    a.send(big);
    await until(() => atB.length === 2, "2 messages");
    assert.ok(atB.every((m) => m instanceof Uint8Array));
    assert.deepEqual([...(atB[0] as Uint8Array)], [7, 8, 9]);
    assert.deepEqual(atB[1], big);
    assert.equal(a.stats().p2p.messagesSent, 2);
  },
);

Deno.test("a peer without WebRTC stays on the relay with a peer that has it", opts, async () => {
  await using server = await startServer();
  // Deno has no RTCPeerConnection of its own: without `wrtc` a peer is relay-only.
  await using a = peer(server.url, { pairCode: "mixed", wrtc: nodeWrtc });
  await using b = peer(server.url, { pairCode: "mixed" });
  await paired(a, b);
  let attempts = 0;
  a.on("upgrade_attempt", () => attempts++);
  b.on("upgrade_attempt", () => attempts++);
  const atA = record(a);
  const atB = record(b);
  a.send("to the relay-only peer");
  b.send("from the relay-only peer");
  await until(() => atA.length === 1 && atB.length === 1, "data both ways");
  await sleep(300);
  assert.equal(attempts, 0, "no upgrade was tried");
  assert.equal(a.path, "relay");
  assert.equal(b.path, "relay");
});

Deno.test(
  "with socketFallback false, data waits for the DataChannel and never uses the relay",
  opts,
  async () => {
    await using server = await startServer();
    const [a, b] = pairOf(server.url, "direct-only", { webrtc: true, socketFallback: false });
    await using _a = a;
    await using _b = b;
    const atB = record(b);
    a.send("only direct");
    await until(() => atB.length === 1, "delivery");
    assert.deepEqual(atB, ["only direct"]);
    assert.equal(a.stats().relay.messagesSent, 0);
    assert.equal(a.stats().p2p.messagesSent, 1);
    assert.equal((await server.stats()).framesRelayed, 0);
  },
);
