/**
 * The shape of `bench/results/latest.json`: every figure of a run, with what ran it.
 *
 * @module
 */
import type { PathId, Settings } from "./config.ts";
import type { Machine, Versions } from "./env.ts";
import type { ActiveResult, HeldStep, PairingResult, UpgradeResult } from "./suites/connections.ts";
import type { LatencyResult, ThroughputRow } from "./suites/throughput.ts";

/** Repeated measurements of one headline case. */
export interface NoiseEntry {
  path: PathId;
  size: number;
  metric: "mbps" | "msgps";
  values: number[];
  /** (max − min) / median. */
  spread: number;
}

/** One line of the headline table. */
export interface Verdict {
  id: string;
  title: string;
  /** The figure compared with the target (a ratio, ms, pairs/s, bytes). */
  value?: number;
  unit: string;
  target: string;
  /** PASS or MISS against the target; INVALID when the sanity gate refused the figure. */
  verdict: "PASS" | "MISS" | "INVALID" | "NOT RUN";
  /** How the figure was made, or why it is refused. */
  detail: string;
}

/** Everything a run produced. */
export interface Results {
  schema: 1;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  quick: boolean;
  commit: string;
  /** Whether the working tree differed from the commit. */
  dirty: boolean;
  versions: Versions;
  machine: Machine;
  /** 1-minute load averages: before, during (one per suite) and after the run. */
  loadAverage: { before: number; during: number[]; after: number };
  settings: Settings;
  throughput: ThroughputRow[];
  latency: LatencyResult[];
  /** SocketPeer's Deno and browser peers, and bare node-datachannel connections (`raw`). */
  upgrade: { deno?: UpgradeResult; browser?: UpgradeResult; raw?: UpgradeResult };
  /** SocketPeer's pairing rate first, then the socket.io baselines'. */
  pairing: PairingResult[];
  /** SocketPeer's steps, then the baselines' (`server` tells). */
  held: HeldStep[];
  active: ActiveResult[];
  noise: NoiseEntry[];
  verdicts: Verdict[];
  /** Checks the sanity gate made, and what it refused. */
  sanity: { check: string; ok: boolean; detail: string }[];
  errors: string[];
}
