/**
 * Pairing rate, one load process: `concurrency` loops, each over and over making two fresh
 * relay-only peers on a new pair code, sending one message from the first and waiting until the
 * second has it, then closing both. Starts on `go` (stdin); prints one `result`.
 *
 * With `socketio: true`, the same against the socket.io room relay baseline: two sockets join a
 * new room, the first sends one `data` event once both are in, the second receives it.
 *
 * @module
 */
import { io } from "npm:socket.io-client@4.8.1";
import { SocketPeer } from "../../client.ts";
import { emit, serveControl } from "../servers/control.ts";

/** The argument of this script. */
export interface PairingConfig {
  url: string;
  concurrency: number;
  durationMs: number;
  /** Makes this process's pair codes unique. */
  prefix: string;
  /** Against the socket.io room relay baseline instead. */
  socketio?: boolean;
}

/** One socket.io room pairing: connect both, join, relay one event; resolves with its ms. */
async function roomPairing(url: string, room: string): Promise<number> {
  const start = performance.now();
  const options = { transports: ["websocket"], reconnection: false, forceNew: true };
  const a = io(url, options);
  const b = io(url, options);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`room ${room} timed out`)), 30_000);
      b.once("data", () => {
        clearTimeout(timer);
        resolve();
      });
      a.once("paired", () => a.emit("data", "first"));
      for (const s of [a, b]) s.on("connect", () => s.emit("join", room));
    });
  } finally {
    a.disconnect();
    b.disconnect();
  }
  return performance.now() - start;
}

/** One pairing: connect both, pair, relay one message; resolves with its duration in ms. */
async function pairing(url: string, pairCode: string): Promise<number> {
  const start = performance.now();
  const a = new SocketPeer({ url, pairCode, serialization: "raw" });
  const b = new SocketPeer({ url, pairCode, serialization: "raw" });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pairing ${pairCode} timed out`)), 30_000);
      b.once("data", () => {
        clearTimeout(timer);
        resolve();
      });
      a.send("first");
    });
  } finally {
    a.close();
    b.close();
  }
  return performance.now() - start;
}

async function run(config: PairingConfig): Promise<void> {
  const durations: number[] = [];
  let failures = 0;
  let counter = 0;
  const start = performance.now();
  const end = start + config.durationMs;
  const loop = async () => {
    while (performance.now() < end) {
      try {
        const code = `${config.prefix}-${counter++}`;
        durations.push(
          await (config.socketio ? roomPairing(config.url, code) : pairing(config.url, code)),
        );
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, loop));
  emit({
    event: "result",
    pairs: durations.length,
    failures,
    seconds: (performance.now() - start) / 1000,
    durations: durations.map((d) => Math.round(d * 100) / 100),
  });
}

if (import.meta.main) {
  const config = JSON.parse(Deno.args[0]) as PairingConfig;
  emit({ event: "ready" });
  await serveControl({
    go: () => {
      run(config).catch((err) => emit({ event: "fatal", error: String(err) }));
      return {};
    },
  });
}
