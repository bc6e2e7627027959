/**
 * Many pairs streaming numbered messages both ways at once, for the load and
 * fault tests (server kill, path switching) and their larger soak versions:
 * make the pairs, stream 0..n-1 each way with a hook for injecting faults as
 * the stream progresses, then wait for everything and tally what was lost,
 * duplicated or reordered.
 *
 * @module
 */
import { nodeWrtc, pairOf, sleep, type Tally, tally, type TestPeer, until } from "./_fixtures.ts";
import {
  healthOf,
  SeededRandom,
  type ServerProcess,
  startServerProcess,
  sumTallies,
} from "./_faults.ts";

/** One pair and what each side received. */
export interface StreamingPair {
  name: string;
  a: TestPeer;
  b: TestPeer;
  atA: unknown[];
  atB: unknown[];
}

/**
 * Makes `count` pairs under codes `<prefix>-<i>` and waits until all are
 * paired (and, with `webrtc`, upgraded when `upgraded` is set).
 */
export async function makePairs(
  url: string,
  count: number,
  options: { prefix: string; webrtc?: boolean; waitForUpgrade?: boolean; ms?: number },
): Promise<StreamingPair[]> {
  const pairs: StreamingPair[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${options.prefix}-${i}`;
    const [a, b] = pairOf(url, name, options.webrtc ? { wrtc: nodeWrtc } : {});
    const atA: unknown[] = [];
    const atB: unknown[] = [];
    a.on("data", (d) => atA.push(d));
    b.on("data", (d) => atB.push(d));
    pairs.push({ name, a, b, atA, atB });
  }
  const ms = options.ms ?? 60_000;
  await until(
    () => pairs.every((p) => p.a.connected && p.b.connected),
    `${count} pairs are paired`,
    ms,
  );
  if (options.waitForUpgrade) {
    await until(
      () => pairs.every((p) => p.a.path === "p2p" && p.b.path === "p2p"),
      `${count} pairs are upgraded`,
      ms,
    );
  }
  return pairs;
}

/**
 * Streams 0..n-1 from each side of every pair, ten messages per side per
 * round, yielding between rounds so that paths can switch and faults land
 * mid-stream. `onRound` runs after each round with the share sent so far.
 */
export async function streamNumbered(
  pairs: StreamingPair[],
  n: number,
  onRound?: (fraction: number) => Promise<void> | void,
  pauseMs = 2,
): Promise<void> {
  for (let i = 0; i < n; i += 10) {
    for (const { a, b } of pairs) {
      for (let k = i; k < Math.min(n, i + 10); k++) {
        a.send(k);
        b.send(k);
      }
    }
    await sleep(pauseMs);
    await onRound?.(Math.min(n, i + 10) / n);
  }
}

/**
 * Waits until every side received n messages (or `ms` pass), then until
 * every side's sends are acknowledged, and tallies all of it.
 *
 * @returns The total, and the pairs whose streams were not exact.
 */
export async function settle(
  pairs: StreamingPair[],
  n: number,
  ms = 60_000,
): Promise<{ total: Tally; broken: string[] }> {
  await until(
    () => pairs.every((p) => p.atA.length >= n && p.atB.length >= n),
    `every side received ${n} messages`,
    ms,
  ).catch(() => {/* the tally says what is missing */});
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(pairs.flatMap((p) => [p.a.flush(), p.b.flush()])).catch(() => {}),
    new Promise((resolve) => timer = setTimeout(resolve, ms)),
  ]);
  clearTimeout(timer);
  await sleep(100); // a late duplicate would show up now
  const broken: string[] = [];
  const tallies = pairs.flatMap((p) => {
    const both = [tally(p.atB, n), tally(p.atA, n)];
    for (const [side, t] of [["a→b", both[0]], ["b→a", both[1]]] as const) {
      if (t.lost || t.duplicated || t.reordered || t.received !== n) {
        broken.push(`${p.name} ${side}: ${JSON.stringify(t)}`);
      }
    }
    return both;
  });
  return { total: sumTallies(tallies), broken };
}

/** Closes every peer (waiting for node-datachannel when WebRTC was used). */
export async function closePairs(pairs: StreamingPair[]): Promise<void> {
  for (const p of pairs) {
    p.a.close();
    p.b.close();
  }
  if (pairs.some((p) => p.a.options.wrtc)) await sleep(500);
}

/** What a switching run did. */
export interface SwitchingReport {
  pairs: number;
  messages: number;
  total: Tally;
  /** Streams that were not exact. */
  broken: string[];
  /** DataChannels killed mid-stream. */
  kills: number;
  /** Upgrades and downgrades, counted on the initiating side of each pair. */
  upgrades: number;
  downgrades: number;
  /** Pairs that went p2p → relay → p2p at least once while streaming. */
  pairsSwitched: number;
  elapsedMs: number;
}

/**
 * Streams numbered messages both ways in `pairs` WebRTC pairs while killing
 * each pair's DataChannel `killsPerPair` times mid-stream
 * (`peer.channel.close()`, on a side chosen by the seed) once it is up: the
 * pairs start on the relay, upgrade, fall back, and upgrade again, all under
 * load.
 */
export async function switchingLoad(url: string, options: {
  pairs: number;
  messages: number;
  seed: number;
  killsPerPair?: number;
  ms?: number;
}): Promise<SwitchingReport> {
  const started = Date.now();
  const ms = options.ms ?? 120_000;
  const rng = new SeededRandom(options.seed);
  const perPair = options.killsPerPair ?? 2;
  const pairs = await makePairs(url, options.pairs, {
    prefix: `switch-${options.seed}`,
    webrtc: true,
    ms,
  });
  try {
    // Kill k of each pair falls at a random point of the k-th of `perPair`
    // equal stretches of 5%..85% of the stream; by the end of its stretch it
    // must have happened (the stream holds, still mid-way, for a pair that
    // is still upgrading).
    const stretch = 0.8 / perPair;
    const plan = pairs.map(() =>
      Array.from({ length: perPair }, (_, k) => 0.05 + stretch * (k + rng.next()))
    );
    const deadlines = Array.from({ length: perPair }, (_, k) => 0.05 + stretch * (k + 1));
    const switched = pairs.map(() => ({ kills: 0, upgradedAfterKill: false }));
    pairs.forEach((p, i) => {
      p.a.on("upgrade", () => {
        if (switched[i].kills > 0) switched[i].upgradedAfterKill = true;
      });
    });
    let kills = 0;
    const kill = (i: number) => {
      const p = pairs[i];
      const side = rng.chance(0.5) ? p.a : p.b;
      // Only an open channel can die; a pair still (re)upgrading waits for it.
      if (!side.channel || side.channel.readyState !== "open") return false;
      side.channel.close();
      switched[i].kills++;
      kills++;
      return true;
    };
    const killDue = async (fraction: number) => {
      pairs.forEach((_, i) => {
        const next = plan[i][switched[i].kills];
        if (next !== undefined && fraction >= next) kill(i);
      });
      for (const [k, deadline] of deadlines.entries()) {
        if (fraction < deadline) continue;
        for (let i = 0; i < pairs.length; i++) {
          if (switched[i].kills > k) continue;
          await until(() => kill(i), `${pairs[i].name} is upgraded, to kill its channel`, ms);
        }
      }
    };
    await streamNumbered(pairs, options.messages, killDue, 10);
    const { total, broken } = await settle(pairs, options.messages, ms);
    const stats = pairs.map((p) => (p.a.initiator ? p.a : p.b).stats());
    return {
      pairs: options.pairs,
      messages: options.messages,
      total,
      broken,
      kills,
      upgrades: stats.reduce((n, s) => n + s.upgrades, 0),
      downgrades: stats.reduce((n, s) => n + s.downgrades, 0),
      pairsSwitched: switched.filter((s) => s.kills > 0 && s.upgradedAfterKill).length,
      elapsedMs: Date.now() - started,
    };
  } finally {
    await closePairs(pairs);
  }
}

/** What a server-kill run did. */
export interface KillReport {
  pairs: number;
  messages: number;
  kills: number;
  total: Tally;
  broken: string[];
  /** Re-pairs seen by all peers together (each kill re-pairs every peer once). */
  reconnects: number;
  /** Pairs whose peers came back to the same partner under the same code. */
  samePartner: number;
  /** Direct pairs still on their DataChannel at the end. */
  stillDirect: number;
  /** Pairs the last server counts. */
  pairedAtEnd: number;
  /** Milliseconds from the first kill until every message had arrived. */
  recoveryMs: number;
  elapsedMs: number;
}

/**
 * Streams numbered messages in relay and direct pairs through a server
 * process, and kills it with SIGKILL `kills` times mid-stream (evenly from
 * 30% on), each time starting a new one on the same port.
 */
export async function killServerMidStream(options: {
  relayPairs: number;
  directPairs: number;
  messages: number;
  kills: number;
  pauseMs?: number;
  ms?: number;
}): Promise<KillReport> {
  const started = Date.now();
  const ms = options.ms ?? 120_000;
  let server: ServerProcess = await startServerProcess();
  const port = server.port;
  const servers = [server];
  const relay = await makePairs(server.url, options.relayPairs, { prefix: "killed-relay", ms });
  const direct = await makePairs(server.url, options.directPairs, {
    prefix: "killed-direct",
    webrtc: true,
    waitForUpgrade: true,
    ms,
  });
  const pairs = [...relay, ...direct];
  try {
    const partners = new Map(pairs.map((p) => [p, p.a.stats().partnerId]));
    let reconnects = 0;
    for (const p of pairs) for (const side of [p.a, p.b]) side.on("reconnect", () => reconnects++);
    const due = Array.from({ length: options.kills }, (_, k) => 0.3 + 0.6 * k / options.kills);
    let restarting: Promise<void> = Promise.resolve();
    let firstKill = 0;
    await streamNumbered(pairs, options.messages, async (fraction) => {
      if (due.length === 0 || fraction < due[0]) return;
      due.shift();
      // One restart at a time; the stream goes on meanwhile.
      await restarting;
      firstKill ||= Date.now();
      restarting = (async () => {
        await server.kill();
        server = await startServerProcess(port);
        servers.push(server);
      })();
    }, options.pauseMs ?? 20);
    await restarting;
    const { total, broken } = await settle(pairs, options.messages, ms);
    const recoveryMs = Date.now() - firstKill;
    return {
      pairs: pairs.length,
      messages: options.messages,
      kills: servers.length - 1,
      total,
      broken,
      reconnects,
      samePartner: pairs.filter((p) =>
        p.a.pairCode === p.name && p.a.stats().partnerId === partners.get(p)
      ).length,
      stillDirect: direct.filter((p) => p.a.path === "p2p" && p.b.path === "p2p").length,
      pairedAtEnd: (await healthOf(server.url)).paired,
      recoveryMs,
      elapsedMs: Date.now() - started,
    };
  } finally {
    await closePairs(pairs);
    for (const s of servers) await s.kill();
  }
}

/** Round-trip times through the relay, in ms. */
export interface Latency {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * Measures relay round trips: in each of `pairs` relay-only pairs one side
 * sends a timestamp every `intervalMs` and the other echoes it, for `ms`.
 */
export async function relayLatency(
  url: string,
  options: { pairs: number; ms: number; intervalMs?: number; prefix: string },
): Promise<Latency> {
  const pairs = await makePairs(url, options.pairs, { prefix: options.prefix });
  const rtts: number[] = [];
  try {
    for (const p of pairs) {
      p.b.on("data", (d) => p.b.send(d));
      p.a.on("data", (d) => rtts.push(performance.now() - (d as { t: number }).t));
    }
    const end = Date.now() + options.ms;
    while (Date.now() < end) {
      for (const p of pairs) p.a.send({ t: performance.now() });
      await sleep(options.intervalMs ?? 20);
    }
    await sleep(500);
  } finally {
    await closePairs(pairs);
  }
  rtts.sort((x, y) => x - y);
  const at = (q: number) => rtts[Math.min(rtts.length - 1, Math.floor(q * rtts.length))] ?? NaN;
  return { samples: rtts.length, p50: at(0.5), p99: at(0.99), max: rtts[rtts.length - 1] ?? NaN };
}
