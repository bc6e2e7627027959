/**
 * Throughput and latency of the Deno paths: for each path, a receiver and a sender process (see
 * `bench/load/peer.ts`) run the cases against the path's server while the orchestrator meters
 * every process's CPU.
 *
 * @module
 */
import { HEADLINE_CASES, type PathId, PATHS, type Settings, sizeLabel } from "../config.ts";
import type { DenoPath, Task } from "../load/peer.ts";
import type { PingResult, StreamResult } from "../harness/workload.ts";
import { Child, CpuMeter, round } from "../proc.ts";
import * as progress from "../progress.ts";
import { type Distribution, distribution, percentileCurve } from "../stats.ts";
import type { RunningServer, ServerKind } from "./servers.ts";

/** One throughput measurement. */
export interface ThroughputRow {
  path: PathId;
  size: number;
  binary: boolean;
  /** 1 for the full matrix; 2… for the repeats of the headline cases. */
  round: number;
  mbps?: number;
  msgps?: number;
  messages?: number;
  seconds?: number;
  /** Server CPU over the case, in cores (1 = one core busy all the time). */
  serverCores?: number;
  senderCores?: number;
  receiverCores?: number;
  /** Server CPU seconds per GB relayed, over the whole case (relay paths). */
  cpuSecondsPerGB?: number;
  /** Share of the received bytes that came through the relay (SocketPeer direct paths). */
  relayShare?: number;
  /** Why the case did not run. */
  skipped?: string;
  /** Why the figure must not be used (lost messages, wrong path). */
  invalid?: string;
}

/** Ping latency of one path. */
export interface LatencyResult {
  path: PathId;
  pingpong: Distribution & { curve: [number, number][] };
  openloop: Distribution & {
    curve: [number, number][];
    rate: number;
    sent: number;
    lost: number;
    /** How late the harness sent pings (timer granularity): p50 and max, ms. */
    lagP50: number;
    lagMax: number;
  };
}

/** Which server and which load-generator end a path uses. */
export const PATH_SETUP: Partial<Record<PathId, { server: ServerKind; load: DenoPath }>> = {
  relay: { server: "socketpeer", load: "socketpeer-relay" },
  "relay-views": { server: "socketpeer", load: "socketpeer-relay-views" },
  "relay-default": { server: "socketpeer-default", load: "socketpeer-relay" },
  direct: { server: "socketpeer", load: "socketpeer-direct" },
  "socketio-node": { server: "socketio", load: "socketio" },
  "socketio-deno": { server: "socketio-deno", load: "socketio" },
  "ws-deno": { server: "ws", load: "ws" },
  datachannel: { server: "ws", load: "datachannel" },
};

/** Paths whose server relays the data (CPU per GB applies). */
export const RELAY_PATHS = new Set<PathId>([
  "relay",
  "relay-views",
  "relay-default",
  "socketio-node",
  "socketio-deno",
  "ws-deno",
  "browser-relay",
]);

let sessions = 0;

/**
 * Turns one `task-done` of a stream into a row.
 *
 * @param base Path, size, kind and round.
 * @param result What the sender reported.
 * @param meter CPU over the case.
 */
export function streamRow(
  base: Pick<ThroughputRow, "path" | "size" | "binary" | "round">,
  result: StreamResult & { skipped?: string },
  meter?: { seconds: number; cpu: Record<string, number> },
  names?: { server?: string; sender?: string; receiver?: string },
): ThroughputRow {
  if (result.skipped) return { ...base, skipped: result.skipped };
  const mbps = result.bytes / result.seconds / 1e6;
  const row: ThroughputRow = {
    ...base,
    mbps: round(mbps, 2),
    msgps: Math.round(result.messages / result.seconds),
    messages: result.messages,
    seconds: round(result.seconds, 3),
  };
  if (meter && names) {
    const cores = (name?: string) =>
      name && meter.cpu[name] !== undefined ? round(meter.cpu[name] / meter.seconds, 2) : undefined;
    row.serverCores = cores(names.server);
    row.senderCores = cores(names.sender);
    row.receiverCores = cores(names.receiver);
    const serverCpu = names.server ? meter.cpu[names.server] : undefined;
    if (RELAY_PATHS.has(base.path) && serverCpu !== undefined && result.received > 0) {
      // The case's whole traffic went through the server while the meter ran.
      row.cpuSecondsPerGB = round(serverCpu / (result.received * base.size / 1e9), 2);
    }
  }
  if (result.via) {
    const total = result.via.p2p + result.via.relay;
    row.relayShare = total > 0 ? round(result.via.relay / total, 4) : 0;
    if (base.path.endsWith("direct") && row.relayShare > 0.01) {
      row.invalid = `${Math.round(row.relayShare * 100)}% of the bytes came through the relay`;
    }
    if (base.path.endsWith("relay") && result.via.p2p > 0) {
      row.invalid = "some bytes came over a DataChannel";
    }
  }
  if (result.received !== result.sent) {
    row.invalid = `received ${result.received} of ${result.sent} messages`;
  }
  return row;
}

/** A case whose sender shows no progress for this long, or that runs this long, is stalled. */
const STALL_MS = 30_000;
const CASE_MAX_MS = 150_000;

/**
 * Runs one sender/receiver session of a path through its tasks, until they are done or one
 * stalls (no progress for `STALL_MS`, or no result within `CASE_MAX_MS`).
 *
 * @param path The path.
 * @param server Its server.
 * @param tasks What the sender does.
 * @param label Progress text of each task.
 * @param onDone Called with each task's result and the CPU metered over it; a stalled stream
 * gets `{ skipped }`.
 * @returns How many tasks were reported (the stalled one included), and why it stopped early.
 */
async function session(
  path: PathId,
  server: RunningServer,
  tasks: Task[],
  label: (task: Task, index: number) => string,
  onDone: (
    task: Task,
    result: unknown,
    meter: { seconds: number; cpu: Record<string, number> },
  ) => void,
): Promise<{ reported: number; stalled?: string }> {
  const setup = PATH_SETUP[path]!;
  const code = `bench-${path}-${++sessions}-${Date.now().toString(36)}`;
  const base = { path: setup.load, url: server.url, code };
  const receiver = Child.deno("bench/load/peer.ts", { ...base, role: "receiver" }, {
    name: `${path} receiver`,
  });
  const sender = Child.deno("bench/load/peer.ts", { ...base, role: "sender", tasks }, {
    name: `${path} sender`,
  });
  let token = "";
  let changed = performance.now();
  sender.onLine = (line) => {
    if (line.event !== "progress") return false;
    if (line.token !== token) {
      token = line.token as string;
      changed = performance.now();
    }
    return true;
  };
  let reported = 0;
  try {
    progress.step(`${PATHS[path].label}: connecting`);
    await Promise.all([receiver.next("ready", 60_000), sender.next("ready", 60_000)]);
    await sender.send("go");
    for (const [index, task] of tasks.entries()) {
      await sender.next("task-start", 60_000);
      progress.step(label(task, index));
      const meter = new CpuMeter([server.child, sender, receiver]);
      const started = performance.now();
      changed = started;
      let done;
      // A stream's backlog (up to highWaterMark) drains at the path's own pace: wait while
      // the sender shows progress.
      while (!done) {
        done = await sender.next("task-done", 5_000).catch((err) => {
          if (!/no answer within/.test(err.message)) throw err;
          return undefined;
        });
        const now = performance.now();
        if (!done && (now - changed > STALL_MS || now - started > CASE_MAX_MS)) {
          const why = now - changed > STALL_MS
            ? `stalled: no progress for ${STALL_MS / 1000} s`
            : `stalled: no result within ${CASE_MAX_MS / 1000} s`;
          if (task.kind === "stream") onDone(task, { skipped: why }, meter.read());
          reported++;
          return { reported, stalled: why };
        }
      }
      onDone(task, done.result, meter.read());
      reported++;
    }
    await sender.next("finished", 30_000);
    return { reported };
  } finally {
    await Promise.all([sender.close(), receiver.close()]);
  }
}

function caseText(path: PathId, size: number, binary: boolean): string {
  return `${PATHS[path].label}, ${binary ? "binary" : "string"} ${sizeLabel(size)}`;
}

/**
 * Runs the throughput matrix (round 1, with the latency tasks), then the headline cases again
 * for each further round.
 *
 * @param settings The run's settings.
 * @param servers The servers, by kind.
 * @returns Every row, and the latency of each path.
 */
export async function runThroughput(
  settings: Settings,
  servers: Record<ServerKind, RunningServer>,
): Promise<{ rows: ThroughputRow[]; latency: LatencyResult[] }> {
  const rows: ThroughputRow[] = [];
  const latency: LatencyResult[] = [];
  const stream = (size: number, binary: boolean): Task => ({
    kind: "stream",
    case: { size, binary, warmupMs: settings.warmupMs, measureMs: settings.measureMs },
  });
  const main: PathId[] = [
    "relay",
    "relay-views",
    "direct",
    "socketio-node",
    "socketio-deno",
    "ws-deno",
    "datachannel",
  ];

  for (let roundNo = 1; roundNo <= settings.rounds; roundNo++) {
    progress.section(
      roundNo === 1
        ? "Throughput matrix and latency (round 1)"
        : `Throughput, headline cases again (round ${roundNo} of ${settings.rounds})`,
    );
    const paths = (roundNo === 1 ? [...main, "relay-default" as const] : main)
      .filter((p) => !settings.paths || settings.paths.includes(p));
    for (const path of paths) {
      const tasks: Task[] = [];
      // The views row is one case (64 KiB binary): what the binaryType option changes.
      const views = path === "relay-views";
      if (roundNo === 1 && path !== "relay-default" && !views) {
        tasks.push({ kind: "pingpong", count: settings.pings, warmup: settings.pingWarmup });
        tasks.push({
          kind: "openloop",
          rate: settings.openLoopRate,
          durationMs: settings.openLoopMs,
        });
      }
      if (roundNo === 1) {
        const sizes = path === "relay-default"
          ? settings.defaultLimitSizes
          : views
          ? settings.sizes.filter((size) => size === 64 * 1024)
          : settings.sizes;
        for (const size of sizes) {
          tasks.push(stream(size, true));
          if (path !== "relay-default" && !views && settings.kinds.includes(false)) {
            tasks.push(stream(size, false));
          }
        }
      } else {
        for (const { size } of HEADLINE_CASES.filter((c) => c.path === path)) {
          if (settings.sizes.includes(size)) tasks.push(stream(size, true));
        }
      }
      if (tasks.length === 0) continue;
      const streams = tasks.filter((t) => t.kind === "stream").length;
      let n = 0;
      let from = 0;
      const pings: Partial<LatencyResult> = { path };
      const server = servers[PATH_SETUP[path]!.server];
      try {
        // A stalled case is reported; the rest goes on in a new session (twice at most).
        for (let attempt = 1; from < tasks.length && attempt <= 3; attempt++) {
          const { reported, stalled } = await session(
            path,
            server,
            tasks.slice(from),
            (task) =>
              task.kind === "stream"
                ? `${caseText(path, task.case.size, task.case.binary)} (${++n}/${streams})`
                : `${PATHS[path].label}: ${
                  task.kind === "pingpong"
                    ? `64 B ping-pong ×${task.count}`
                    : `open loop ${task.rate}/s for ${task.durationMs / 1000} s`
                }`,
            (task, result, meter) => {
              if (task.kind === "stream") {
                const row = streamRow(
                  { path, size: task.case.size, binary: task.case.binary, round: roundNo },
                  result as StreamResult,
                  meter,
                  {
                    server: server.child.name,
                    sender: `${path} sender`,
                    receiver: `${path} receiver`,
                  },
                );
                rows.push(row);
                progress.result(describeRow(row));
              } else {
                const ping = result as PingResult & { lagP50?: number; lagMax?: number };
                const d = { ...distribution(ping.rtts), curve: percentileCurve(ping.rtts) };
                if (task.kind === "pingpong") {
                  pings.pingpong = d;
                } else {
                  pings.openloop = {
                    ...d,
                    rate: task.rate,
                    sent: ping.sent,
                    lost: ping.lost,
                    lagP50: ping.lagP50 ?? NaN,
                    lagMax: ping.lagMax ?? NaN,
                  };
                }
                progress.result(
                  `${PATHS[path].label} ${task.kind}: p50 ${d.p50} ms, p99 ${d.p99} ms, ` +
                    `p99.9 ${d.p999} ms${ping.lost ? `, ${ping.lost} lost` : ""}`,
                );
              }
            },
          );
          from += reported;
          if (stalled) progress.warn(`${PATHS[path].label}: ${stalled}; going on in a new session`);
        }
      } catch (err) {
        progress.warn(`${PATHS[path].label}: ${(err as Error).message}`);
        for (const task of tasks.slice(from)) {
          if (task.kind === "stream") {
            rows.push({
              path,
              size: task.case.size,
              binary: task.case.binary,
              round: roundNo,
              skipped: `failed: ${(err as Error).message.split("\n")[0]}`,
            });
          }
        }
      }
      if (pings.pingpong && pings.openloop) latency.push(pings as LatencyResult);
    }
  }
  return { rows, latency };
}

/** One line of progress for a row. */
export function describeRow(row: ThroughputRow): string {
  const what = caseText(row.path, row.size, row.binary);
  if (row.skipped) return `${what}: skipped (${row.skipped})`;
  const cpu = row.serverCores !== undefined ? `, server ${row.serverCores} cores` : "";
  const bad = row.invalid ? ` INVALID: ${row.invalid}` : "";
  return `${what}: ${row.mbps} MB/s, ${row.msgps} msg/s${cpu}${bad}`;
}
