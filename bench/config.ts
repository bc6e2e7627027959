/**
 * What the benchmark runs: the paths, the message sizes, how long each case lasts (full run and
 * `--quick`), and the targets of issue 4.
 *
 * @module
 */

/** Every path the throughput matrix knows. */
export type PathId =
  | "relay"
  | "relay-default"
  | "relay-views"
  | "direct"
  | "socketio-node"
  | "socketio-deno"
  | "ws-deno"
  | "datachannel"
  | "browser-relay"
  | "browser-direct"
  | "browser-datachannel";

/** How a path is shown. */
export interface PathInfo {
  label: string;
  /** Short description for the tables. */
  what: string;
  /** A baseline (not SocketPeer). */
  baseline: boolean;
}

/** The paths, in the order tables and charts show them. */
export const PATHS: Record<PathId, PathInfo> = {
  relay: {
    label: "SocketPeer relay",
    what: "two Deno peers through the SocketPeer server (relayRate lifted)",
    baseline: false,
  },
  "relay-default": {
    label: "SocketPeer relay, default limits",
    what: "as above with the default relayRate (5,000 packets/s, 16 MiB/s per socket)",
    baseline: false,
  },
  "relay-views": {
    label: "SocketPeer relay, binaryType uint8array",
    what:
      "as the relay, the receiver taking binary as Uint8Array views (no copy to an ArrayBuffer)",
    baseline: false,
  },
  direct: {
    label: "SocketPeer direct",
    what: "two Deno peers upgraded to a node-datachannel DataChannel",
    baseline: false,
  },
  "socketio-node": {
    label: "socket.io relay (Node)",
    what: "plain socket.io room relay on Node, same socket.io version",
    baseline: true,
  },
  "socketio-deno": {
    label: "socket.io relay (Deno)",
    what: "the same socket.io room relay, run by Deno: what socket.io itself costs on Deno",
    baseline: true,
  },
  "ws-deno": {
    label: "raw WebSocket relay (Deno)",
    what: "Deno.serve + Deno.upgradeWebSocket, forwarding each message",
    baseline: true,
  },
  datachannel: {
    label: "raw DataChannel (node-datachannel)",
    what: "one node-datachannel channel, no SocketPeer framing",
    baseline: true,
  },
  "browser-relay": {
    label: "browser relay",
    what: "two Chromium pages, socketpeer.js, no RTCPeerConnection",
    baseline: false,
  },
  "browser-direct": {
    label: "browser direct",
    what: "two Chromium pages, socketpeer.js, upgraded",
    baseline: false,
  },
  "browser-datachannel": {
    label: "raw browser DataChannel",
    what: "two Chromium pages, one RTCDataChannel, no SocketPeer framing",
    baseline: true,
  },
};

/** Message sizes of the throughput matrix. */
export const SIZES = [64, 1024, 16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024];

/** Sizes and kinds the ratios are computed from; rerun each round to measure the noise. */
export const HEADLINE_CASES: { path: PathId; size: number }[] = [
  { path: "relay", size: 1024 },
  { path: "relay", size: 64 * 1024 },
  { path: "relay-views", size: 64 * 1024 },
  { path: "socketio-node", size: 1024 },
  { path: "socketio-node", size: 64 * 1024 },
  { path: "socketio-deno", size: 1024 },
  { path: "socketio-deno", size: 64 * 1024 },
  { path: "ws-deno", size: 64 * 1024 },
  { path: "direct", size: 64 * 1024 },
  { path: "direct", size: 1024 * 1024 },
  { path: "datachannel", size: 64 * 1024 },
];

/** How much of everything a run does. */
export interface Settings {
  quick: boolean;
  /** Throughput: sizes, kinds (binary, string), warm-up and measured milliseconds per case. */
  sizes: number[];
  kinds: boolean[];
  /** Sizes of the default-limits relay row (its backlog drains at the capped rate). */
  defaultLimitSizes: number[];
  warmupMs: number;
  measureMs: number;
  /** Rounds of the headline cases (the first round is the whole matrix). */
  rounds: number;
  /** Closed-loop pings, after `pingWarmup` unrecorded ones. */
  pings: number;
  pingWarmup: number;
  /** Open loop: pings a second for this long. */
  openLoopRate: number;
  openLoopMs: number;
  /** Pairings timed for time to upgrade (after `upgradeWarmup` untimed ones). */
  upgrades: number;
  browserUpgrades: number;
  upgradeWarmup: number;
  /** Pairing rate: load processes × concurrent pairings each, for this long. */
  pairingProcesses: number;
  pairingConcurrency: number;
  pairingMs: number;
  /** Sockets held: the steps (sockets, cumulative), and sockets per client process. */
  heldSteps: number[];
  socketsPerProcess: number;
  /** Relay RTT under load: active pairs, their ping rates (per pair per second), duration. */
  activePairs: number;
  activeRates: number[];
  activeMs: number;
  /** Run the Chromium paths. */
  browser: boolean;
  /** Measure the baselines of pairing rate and sockets held too. */
  connectionBaselines: boolean;
  /** Throughput and browser suites: only these paths (`--paths`); all when absent. */
  paths?: PathId[];
}

/** The full run: what `deno task bench` does. */
export const FULL: Settings = {
  quick: false,
  sizes: SIZES,
  kinds: [true, false],
  defaultLimitSizes: [1024, 64 * 1024, 1024 * 1024],
  warmupMs: 500,
  measureMs: 2000,
  // Five rounds: on 2 shared cores a browser ratio moved ±27% over three.
  rounds: 5,
  pings: 5000,
  pingWarmup: 200,
  openLoopRate: 1000,
  openLoopMs: 5000,
  upgrades: 200,
  browserUpgrades: 200,
  upgradeWarmup: 5,
  pairingProcesses: 2,
  pairingConcurrency: 32,
  pairingMs: 5000,
  heldSteps: [1000, 5000, 20_000],
  socketsPerProcess: 5000,
  activePairs: 1000,
  activeRates: [1, 10],
  activeMs: 10_000,
  browser: true,
  connectionBaselines: true,
};

/** `--quick`: every suite, briefly, for CI smoke use (under 2 minutes). */
export const QUICK: Settings = {
  quick: true,
  sizes: [1024, 64 * 1024, 1024 * 1024],
  kinds: [true],
  defaultLimitSizes: [64 * 1024],
  warmupMs: 100,
  measureMs: 400,
  rounds: 1,
  pings: 300,
  pingWarmup: 20,
  openLoopRate: 500,
  openLoopMs: 1000,
  upgrades: 10,
  browserUpgrades: 5,
  upgradeWarmup: 1,
  pairingProcesses: 2,
  pairingConcurrency: 16,
  pairingMs: 1500,
  heldSteps: [1000],
  socketsPerProcess: 5000,
  activePairs: 100,
  activeRates: [10],
  activeMs: 2000,
  browser: true,
  connectionBaselines: false,
};

/** The targets of issue 4. */
export const TARGETS = {
  relayVsSocketIo: 1.0,
  relayVsWs: 0.8,
  directVsRaw: 0.9,
  chunkedVsRaw: 0.8,
  browserDirectVsRaw: 0.9,
  upgradeP50Ms: 150,
  upgradeP99Ms: 500,
  pairsPerSecond: 2000,
  heldSockets: 20_000,
  heldRssPerSocketBytes: 10_000,
  activeRttP99Ms: 20,
  activeRttPairs: 1000,
};

/**
 * The noise assumed when a run has one round (no spread measured): a ratio above its ceiling
 * by more than this is impossible.
 */
export const DEFAULT_NOISE = 0.15;

/** Human size: 64 B, 1 KiB, 1 MiB. */
export function sizeLabel(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}
