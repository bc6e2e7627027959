/**
 * The suites about connections rather than bytes: time to upgrade (Deno peers), pairing rate,
 * sockets held, and relay RTT while many pairs are active. Each starts its own SocketPeer
 * server (default options) so that nothing else shares its memory or CPU.
 *
 * @module
 */
import { type PathId, PATHS, type Settings } from "../config.ts";
import { Child, CpuMeter, round } from "../proc.ts";
import * as progress from "../progress.ts";
import { type Distribution, distribution, percentileCurve } from "../stats.ts";
import { type RunningServer, type ServerKind, startServer } from "./servers.ts";

/** Time to upgrade of one kind of peer. */
export interface UpgradeResult extends Distribution {
  attempts: number;
  failures: number;
  successRate: number;
  /** Pairings whose first upgrade attempt failed (counted where the load reports it). */
  retried?: number;
  curve: [number, number][];
}

/** Summarizes timed pairings. */
export function upgradeResult(
  samples: number[],
  failures: number,
  attempts: number,
  retried?: number,
): UpgradeResult {
  return {
    ...distribution(samples),
    attempts,
    failures,
    successRate: round(samples.length / Math.max(1, attempts), 4),
    ...(retried === undefined ? {} : { retried }),
    curve: percentileCurve(samples),
  };
}

/** "success 99.5%", and how many pairings needed a second attempt when known. */
export function successText(u: UpgradeResult): string {
  const retried = u.retried === undefined ? "" : `, ${u.retried} retried`;
  return `success ${(u.successRate * 100).toFixed(1)}%${retried}`;
}

/**
 * Times upgrades between two Deno peers (node-datachannel), one pairing at a time; then the
 * baseline, bare node-datachannel connections with no server.
 */
export async function runUpgrade(
  settings: Settings,
): Promise<{ deno: UpgradeResult; raw?: UpgradeResult }> {
  progress.section(`Time to upgrade, Deno peers (${settings.upgrades} pairings)`);
  const server = await startServer("socketpeer-default");
  const timed = async (raw: boolean) => {
    const load = Child.deno("bench/load/upgrade.ts", {
      url: server.url,
      count: settings.upgrades,
      warmup: settings.upgradeWarmup,
      timeoutMs: 10_000,
      raw,
    }, { name: raw ? "raw upgrade load" : "upgrade load" });
    try {
      load.onLine = (line) => {
        if (line.event === "progress") {
          progress.step(`${raw ? "bare node-datachannel" : "pairing"} ${line.done}/${line.total}`);
        }
      };
      const result = await load.next("result", 20_000 * (settings.upgrades + 10));
      const r = upgradeResult(
        result.samples as number[],
        result.failures as number,
        result.attempts as number,
        raw ? undefined : result.retried as number | undefined,
      );
      progress.result(
        `${raw ? "bare node-datachannel, offer to open" : "SocketPeer, found to upgrade"}: ` +
          `p50 ${r.p50} ms, p99 ${r.p99} ms, ${successText(r)} (${r.attempts} pairings)`,
      );
      return r;
    } finally {
      await load.close();
    }
  };
  try {
    const deno = await timed(false);
    const raw = await timed(true).catch((err) => {
      progress.warn(`bare node-datachannel baseline: ${(err as Error).message}`);
      return undefined;
    });
    return { deno, raw };
  } finally {
    await server.close();
  }
}

/** Pairs a second one server process sustains. */
export interface PairingResult {
  /** Which server: SocketPeer, or a baseline. */
  server: PathId;
  pairsPerSecond: number;
  pairs: number;
  failures: number;
  seconds: number;
  loadProcesses: number;
  concurrency: number;
  /** Server CPU over the run, in cores. */
  serverCores: number;
  /** Server CPU milliseconds per pairing. */
  serverCpuMsPerPair: number;
  /** Pairs a second if the server had one core all to itself (1000 / CPU ms per pair). */
  pairsPerServerCoreSecond: number;
  loadCores: number;
  /** Duration of one pairing (connect both, pair, first message), ms. */
  duration: Distribution;
}

/**
 * Measures the pairing rate with several load processes: SocketPeer, then the socket.io room
 * relay baselines (connect two sockets, join a room, relay one event).
 */
export async function runPairing(
  settings: Settings,
  nodeEnv: Record<string, string>,
): Promise<PairingResult[]> {
  progress.section(
    `Pairing rate (${settings.pairingProcesses} processes × ${settings.pairingConcurrency} ` +
      `concurrent pairings, ${settings.pairingMs / 1000} s)`,
  );
  const out: PairingResult[] = [];
  const servers: [PathId, ServerKind][] = [
    ["relay-default", "socketpeer-default"],
    ...(settings.connectionBaselines
      ? [["socketio-node", "socketio"], ["socketio-deno", "socketio-deno"]] as [
        PathId,
        ServerKind,
      ][]
      : []),
  ];
  for (const [path, kind] of servers) {
    try {
      out.push(await pairingRate(settings, path, await startServer(kind, nodeEnv)));
    } catch (err) {
      if (path === "relay-default") throw err;
      progress.warn(`${PATHS[path].label}: ${(err as Error).message}`);
    }
  }
  return out;
}

async function pairingRate(
  settings: Settings,
  path: PathId,
  server: RunningServer,
): Promise<PairingResult> {
  const loads = Array.from(
    { length: settings.pairingProcesses },
    (_, i) =>
      Child.deno("bench/load/pairing.ts", {
        url: server.url,
        concurrency: settings.pairingConcurrency,
        durationMs: settings.pairingMs,
        prefix: `pair-${i}-${Date.now().toString(36)}`,
        socketio: path !== "relay-default",
      }, { name: `pairing load ${i}` }),
  );
  try {
    await Promise.all(loads.map((l) => l.next("ready", 60_000)));
    progress.step(`${PATHS[path].label}: pairing…`);
    const meter = new CpuMeter([server.child, ...loads]);
    await Promise.all(loads.map((l) => l.send("go")));
    const results = await Promise.all(
      loads.map((l) => l.next("result", settings.pairingMs + 60_000)),
    );
    const { seconds, cpu } = meter.read();
    const pairs = results.reduce((s, r) => s + (r.pairs as number), 0);
    const failures = results.reduce((s, r) => s + (r.failures as number), 0);
    const serverCpu = cpu[server.child.name];
    const loadCpu = loads.reduce((s, l) => s + cpu[l.name], 0);
    const cpuMsPerPair = (serverCpu * 1000) / Math.max(1, pairs);
    const r: PairingResult = {
      server: path,
      pairsPerSecond: Math.round(pairs / seconds),
      pairs,
      failures,
      seconds: round(seconds, 2),
      loadProcesses: loads.length,
      concurrency: settings.pairingConcurrency,
      serverCores: round(serverCpu / seconds, 2),
      serverCpuMsPerPair: round(cpuMsPerPair, 3),
      pairsPerServerCoreSecond: Math.round(1000 / cpuMsPerPair),
      loadCores: round(loadCpu / seconds, 2),
      duration: distribution(results.flatMap((r) => r.durations as number[])),
    };
    progress.result(
      `${PATHS[path].label}: ${r.pairsPerSecond} pairs/s (${pairs} pairs, ${failures} failed); ` +
        `server ` +
        `${r.serverCores} cores, ${r.serverCpuMsPerPair} CPU ms per pair`,
    );
    return r;
  } finally {
    await Promise.all(loads.map((l) => l.close(20_000)));
    await server.close();
  }
}

/** The server's memory with this many idle paired sockets. */
export interface HeldStep {
  /** Which server: SocketPeer, or a baseline. */
  server: PathId;
  /** Sockets asked for. */
  target: number;
  /** Sockets held (pairs × 2). */
  sockets: number;
  /** Why fewer than asked were held. */
  capped?: string;
  rssBytes: number;
  heapUsedBytes: number;
  /** Above the server's memory with no socket. */
  rssPerSocket: number;
  heapPerSocket: number;
  failures: number;
  seconds: number;
}

/** Relay RTT while many pairs ping at once. */
export interface ActiveResult extends Distribution {
  pairs: number;
  /** Pings a second per pair. */
  rate: number;
  sent: number;
  lost: number;
  serverCores: number;
  /** CPU of the client processes together, in cores. */
  loadCores: number;
  curve: [number, number][];
}

/**
 * Holds idle paired sockets in steps (client processes of at most `socketsPerProcess` sockets
 * each) and reads the server's RSS and heap at each step.
 *
 * @param settings The run's settings.
 * @param maxSockets What the open-files limit allows the server.
 * @param limitNote Says which limit, for the results.
 */
export async function runHeld(
  settings: Settings,
  maxSockets: number,
  limitNote: string,
  nodeEnv: Record<string, string>,
): Promise<HeldStep[]> {
  progress.section(`Sockets held (${settings.heldSteps.join(", ")} idle paired sockets)`);
  const steps = await heldSteps(
    "relay-default",
    await startServer("socketpeer-default"),
    settings.heldSteps,
    settings.socketsPerProcess,
    maxSockets,
    limitNote,
  );
  // The baselines at the largest step, where a fixed cost weighs least per socket: what
  // socket.io, on Node and on Deno, and a bare Deno WebSocket server hold per socket.
  const at = Math.max(...settings.heldSteps);
  const baselines: [PathId, ServerKind][] = settings.connectionBaselines
    ? [["socketio-node", "socketio"], ["socketio-deno", "socketio-deno"], ["ws-deno", "ws"]]
    : [];
  for (const [path, kind] of baselines) {
    try {
      const server = await startServer(kind, nodeEnv);
      steps.push(
        ...await heldSteps(path, server, [at], settings.socketsPerProcess, maxSockets, limitNote),
      );
    } catch (err) {
      progress.warn(`${PATHS[path].label}: ${(err as Error).message}`);
    }
  }
  return steps;
}

/** Holds idle pairs on one server in steps; closes the server. */
async function heldSteps(
  path: PathId,
  server: RunningServer,
  targets: number[],
  socketsPerProcess: number,
  maxSockets: number,
  limitNote: string,
): Promise<HeldStep[]> {
  const kind = path === "relay-default" ? "socketpeer" : path === "ws-deno" ? "ws" : "socketio";
  const clients: Child[] = [];
  const pairsIn: number[] = [];
  const steps: HeldStep[] = [];
  try {
    const base = await server.child.ask("mem");
    const rss0 = server.child.rss();
    const heap0 = base.heapUsed as number;
    const perProcess = Math.floor(socketsPerProcess / 2);
    let held = 0;
    let failures = 0;
    const start = performance.now();
    for (const target of targets) {
      const sockets = Math.min(target, maxSockets) & ~1;
      while (held < sockets) {
        let index = pairsIn.findIndex((n) => n < perProcess);
        if (index < 0) {
          const client = Child.deno("bench/load/held.ts", {
            url: server.url,
            prefix: `held-${clients.length}-${Date.now().toString(36)}`,
            batch: 100,
            kind,
          }, { name: `held load ${clients.length}` });
          await client.next("ready", 60_000);
          clients.push(client);
          pairsIn.push(0);
          index = clients.length - 1;
        }
        const add = Math.min(perProcess - pairsIn[index], (sockets - held) / 2, 500);
        progress.step(`${PATHS[path].label}: holding ${held}/${sockets} sockets`);
        const answer = await clients[index].ask(`add ${add}`, 300_000);
        pairsIn[index] = answer.pairs as number;
        failures += answer.failures as number;
        held = pairsIn.reduce((s, n) => s + n, 0) * 2;
        if ((answer.failures as number) > 0) break;
      }
      // Let the handshakes' garbage go and the heartbeats settle.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const mem = await server.child.ask("mem");
      const rss = server.child.rss();
      const heap = mem.heapUsed as number;
      const step: HeldStep = {
        server: path,
        target,
        sockets: held,
        rssBytes: rss,
        heapUsedBytes: heap,
        rssPerSocket: Math.round((rss - rss0) / Math.max(1, held)),
        heapPerSocket: Math.round((heap - heap0) / Math.max(1, held)),
        failures,
        seconds: round((performance.now() - start) / 1000, 1),
      };
      if (held < target) step.capped = held === sockets ? limitNote : `${failures} pairings failed`;
      steps.push(step);
      progress.result(
        `${PATHS[path].label}, ${held} sockets: RSS ${(rss / 2 ** 20).toFixed(0)} MiB, ` +
          `${(step.rssPerSocket / 1000).toFixed(1)} KB RSS and ` +
          `${(step.heapPerSocket / 1000).toFixed(1)} KB heap per socket` +
          (step.capped ? ` (capped: ${step.capped})` : ""),
      );
      if (held < sockets) break;
    }
    return steps;
  } finally {
    await Promise.all(clients.map((c) => c.close(30_000)));
    await server.close();
  }
}

/**
 * Relay RTT while `activePairs` pairs ping at once (open loop, each pair at each rate), spread
 * over client processes of at most 250 pairs.
 */
export async function runActive(settings: Settings): Promise<ActiveResult[]> {
  progress.section(`Relay RTT with ${settings.activePairs} active pairs`);
  const server = await startServer("socketpeer-default");
  const perProcess = 250;
  const clients: Child[] = [];
  const results: ActiveResult[] = [];
  try {
    for (let left = settings.activePairs; left > 0; left -= perProcess) {
      const client = Child.deno("bench/load/held.ts", {
        url: server.url,
        prefix: `active-${clients.length}-${Date.now().toString(36)}`,
        batch: 100,
      }, { name: `active load ${clients.length}` });
      await client.next("ready", 60_000);
      await client.ask(`add ${Math.min(perProcess, left)}`, 300_000);
      clients.push(client);
    }
    const counts = clients.map((_, i) =>
      Math.min(perProcess, settings.activePairs - i * perProcess)
    );
    // The first seconds after a thousand connections open are still busy with them (round trips
    // of up to 130 ms right after opening, none after 3 s idle): measure the steady state.
    progress.step(`${settings.activePairs} pairs open; settling…`);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const rate of settings.activeRates) {
      progress.step(`${settings.activePairs} pairs pinging ${rate}/s each…`);
      const meter = new CpuMeter([server.child, ...clients]);
      const answers = await Promise.all(
        clients.map((c, i) => c.ask(`active ${counts[i]} ${rate} ${settings.activeMs}`, 120_000)),
      );
      const { seconds, cpu } = meter.read();
      const rtts = answers.flatMap((a) => a.rtts as number[]);
      const r: ActiveResult = {
        ...distribution(rtts),
        pairs: settings.activePairs,
        rate,
        sent: answers.reduce((s, a) => s + (a.sent as number), 0),
        lost: answers.reduce((s, a) => s + (a.lost as number), 0),
        serverCores: round(cpu[server.child.name] / seconds, 2),
        loadCores: round(clients.reduce((s, c) => s + cpu[c.name], 0) / seconds, 2),
        curve: percentileCurve(rtts),
      };
      results.push(r);
      progress.result(
        `${rate}/s per pair: p50 ${r.p50} ms, p99 ${r.p99} ms, p99.9 ${r.p999} ms, ` +
          `${r.lost} lost; server ${r.serverCores} cores, clients ${r.loadCores} cores`,
      );
    }
    return results;
  } finally {
    await Promise.all(clients.map((c) => c.close(30_000)));
    await server.close();
  }
}
