/**
 * A peer that vanishes without a FIN: its process is stopped (SIGSTOP), so
 * its TCP connection stays open and silent, as when a laptop lid closes. The
 * server's heartbeat (ping every 10 s, 5 s to answer) must notice, tell the
 * partner, and free the slot.
 */
import assert from "node:assert/strict";
import type { SocketPeer } from "../client.ts";
import { spawnDeno } from "./_faults.ts";
import { next, nodeWrtc, peer, record, sleep, startServer, until } from "./_fixtures.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Generous: the heartbeat notices within 15 s; a shared CI machine may be slow. */
const NOTICE_MS = 30_000;
/** The slot stays reserved for the vanished client this long after it was noticed. */
const RESUME_GRACE = 2_000;

/** Pairs `partner` with a new peer, retrying while the vanished peer's slot is reserved. */
async function pairNewcomer(url: string, pairCode: string, partner: SocketPeer) {
  const newcomer = peer(url, { pairCode });
  let busy = 0;
  newcomer.on("busy", () => {
    busy++;
    setTimeout(() => !newcomer.closed && newcomer.pair(), 250);
  });
  await until(
    () => newcomer.connected && partner.connected,
    "a newcomer pairs with the partner",
    NOTICE_MS,
  );
  return { newcomer, busy };
}

async function vanishes(url: string, pairCode: string, webrtc: boolean) {
  const what = webrtc ? "an upgraded peer" : "a relay-only peer";
  await using child = spawnDeno(
    "tests/_peer_process.ts",
    [url, pairCode, ...(webrtc ? ["webrtc"] : [])],
  );
  await using partner = peer(url, { pairCode, ...(webrtc ? { wrtc: nodeWrtc } : {}) });
  await child.waitFor(/^found /m);
  await until(() => partner.connected, `${what}: the partner pairs`);
  if (webrtc) {
    await child.waitFor(/^upgraded$/m);
    await until(() => partner.path === "p2p", `${what}: the partner upgrades`, 20_000);
  }
  const echoes = record(partner);
  partner.send("ping");
  await until(() => echoes.length === 1, `${what}: the child echoes`);

  const left = next(partner, "peer.left", NOTICE_MS);
  const stoppedAt = Date.now();
  child.signal("SIGSTOP");
  try {
    const [reason] = await left.catch((err) => {
      throw new Error(`${what}: the partner was not told within ${NOTICE_MS} ms`, { cause: err });
    });
    const noticedMs = Date.now() - stoppedAt;
    assert.equal(reason, "disconnected", what);
    const { newcomer, busy } = await pairNewcomer(url, pairCode, partner);
    using _newcomer = newcomer;
    const atNewcomer = record(newcomer);
    partner.send("hello newcomer");
    await until(() => atNewcomer.includes("hello newcomer"), `${what}: the newcomer hears`);
    console.log(
      `${what}: partner told after ${noticedMs} ms; newcomer paired after ${
        Date.now() - stoppedAt
      } ms (${busy} busy while the slot was reserved)`,
    );
  } finally {
    await child.kill();
  }
}

Deno.test(
  "a peer process stopped with SIGSTOP is reported disconnected to its partner within the ping timeout, and its slot is freed",
  opts,
  async () => {
    await using server = await startServer({ resumeGrace: RESUME_GRACE });
    // Both at once: a relay-only pair, and a pair on a direct DataChannel,
    // whose partner keeps the channel to a peer whose server connection
    // vanished until a new partner comes.
    await Promise.all([
      vanishes(server.url, "frozen-relay", false),
      vanishes(server.url, "frozen-direct", true),
    ]);
    await sleep(100);
  },
);
