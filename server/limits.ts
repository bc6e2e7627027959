/**
 * The counters behind the server's rate limits: the relay
 * rate of one socket (warn first, then disconnect), and per-address counts
 * (connections, pair requests). Addresses are `Map` keys, never object keys.
 *
 * @example
 * ```ts
 * import { RelayRateLimiter } from "./limits.ts";
 * const limiter = new RelayRateLimiter({ messagesPerSecond: 5000, bytesPerSecond: 16 << 20 });
 * if (limiter.frame(frame.byteLength) === "disconnect") socket.disconnect(true);
 * ```
 *
 * @module
 */
import { MAX_FRAME_SIZE } from "../protocol/frame.ts";
import { monotonicNow, refill, TokenBucket } from "../protocol/token_bucket.ts";

/**
 * engine.io's `maxHttpBufferSize`: the largest packet a client may send.
 * Frames are at most MAX_FRAME_SIZE; long-polling sends binary as base64
 * (4/3 larger); 1 KiB more covers socket.io's framing.
 */
export const MAX_HTTP_BUFFER_SIZE = Math.ceil(MAX_FRAME_SIZE / 3) * 4 + 1024;

/** The relay limits of one socket. */
export interface RelayRate {
  /** Relay packets a second: `data` events (a frame, or a BATCH of frames) and signals. */
  messagesPerSecond: number;
  /** Bytes a second. */
  bytesPerSecond: number;
}

/** What a {@linkcode RelayRateLimiter} says of one frame. */
export type RateVerdict = "ok" | "warn" | "disconnect";

/**
 * The relay rate of one socket. Within the rate (with two seconds of burst)
 * frames pass. Past it the first frame earns a warning; a socket that stays
 * past it for `graceMs` after that is disconnected. Frames are never dropped
 * silently: the exactly-once layer would only resend them.
 *
 * Its two token buckets (packets, bytes) are kept as numbers in the limiter
 * itself, refilled together: the server holds one limiter per socket, and
 * two bucket objects each would more than double its size.
 */
export class RelayRateLimiter {
  #rate: RelayRate;
  #graceMs: number;
  #now: () => number;
  /** Tokens of the packet bucket, and of the byte bucket, at `#last`. */
  #messages: number;
  #bytes: number;
  #last: number;
  #overSince: number | null = null;

  constructor(rate: RelayRate, graceMs = 3000, now: () => number = monotonicNow) {
    this.#rate = rate;
    this.#graceMs = graceMs;
    this.#now = now;
    this.#messages = rate.messagesPerSecond * 2;
    this.#bytes = rate.bytesPerSecond * 2;
    this.#last = now();
  }

  /** Whether the socket is past its rate now (warned, not yet forgiven). */
  get limited(): boolean {
    return this.#overSince !== null;
  }

  /** Counts one relay packet of `bytes` bytes. */
  frame(bytes: number): RateVerdict {
    // One clock read per packet: it is the costliest part of counting one.
    const now = this.#now();
    const { messagesPerSecond, bytesPerSecond } = this.#rate;
    const elapsed = now - this.#last;
    this.#last = now;
    let messages = refill(this.#messages, elapsed, messagesPerSecond, messagesPerSecond * 2);
    let byteTokens = refill(this.#bytes, elapsed, bytesPerSecond, bytesPerSecond * 2);
    // A packet takes from the byte bucket only when the packet bucket let it through.
    const within = messages >= 1 && byteTokens >= bytes;
    if (messages >= 1) {
      messages -= 1;
      if (byteTokens >= bytes) byteTokens -= bytes;
    }
    this.#messages = messages;
    this.#bytes = byteTokens;
    if (this.#overSince === null) {
      if (within) return "ok";
      this.#overSince = now;
      return "warn";
    }
    // Forgiven once the socket has slowed enough for its buckets to refill halfway.
    if (within && messages >= messagesPerSecond && byteTokens >= bytesPerSecond) {
      this.#overSince = null;
      return "ok";
    }
    return now - this.#overSince > this.#graceMs ? "disconnect" : "ok";
  }
}

/** Counts open connections per address. */
export class ConnectionCounter {
  #counts = new Map<string, number>();

  /** Adds one, unless the address is at `max` already. */
  tryAdd(address: string, max: number): boolean {
    const n = this.#counts.get(address) ?? 0;
    if (n >= max) return false;
    this.#counts.set(address, n + 1);
    return true;
  }

  /** Removes one. */
  remove(address: string): void {
    const n = (this.#counts.get(address) ?? 0) - 1;
    if (n <= 0) this.#counts.delete(address);
    else this.#counts.set(address, n);
  }

  /** The count of an address. */
  count(address: string): number {
    return this.#counts.get(address) ?? 0;
  }
}

/**
 * One token bucket per address, for requests such as `pair` that a guesser
 * would repeat. Idle buckets are forgotten after a while.
 */
export class AddressThrottle {
  #buckets = new Map<string, { bucket: TokenBucket; seen: number }>();
  #sweep = 0;

  /**
   * @param perMinute Requests an address may make a minute (and in a burst).
   */
  constructor(private readonly perMinute: number) {}

  /** Whether an address may make one more request now. */
  allow(address: string): boolean {
    const now = performance.now();
    if (++this.#sweep % 1024 === 0) {
      for (const [key, entry] of this.#buckets) {
        if (now - entry.seen > 120_000) this.#buckets.delete(key);
      }
    }
    let entry = this.#buckets.get(address);
    if (!entry) {
      entry = { bucket: new TokenBucket(this.perMinute / 60, this.perMinute), seen: now };
      this.#buckets.set(address, entry);
    }
    entry.seen = now;
    return entry.bucket.take(1);
  }
}

/** The parts of an engine.io connection the server's limits touch. */
export interface EngineConnection {
  on(event: "packet", listener: () => void): unknown;
  close(): void;
  transport?: { socket?: { terminate?: () => void } };
}

/**
 * Ends an engine.io connection at once. A polite close waits for the client
 * to answer the WebSocket close handshake, and a hostile client never does:
 * meanwhile the server would go on reading what it sends.
 */
export function terminate(conn: EngineConnection): void {
  conn.close();
  conn.transport?.socket?.terminate?.();
}

/**
 * Caps the engine.io packets a connection may send a second, whatever they
 * are (packets for a namespace not yet connected, pings, anything): past
 * four times the relay rate's frames (a relayed frame is two packets, and
 * twice that again) for more than a 3 s burst, the connection is terminated.
 * It is the backstop for floods the per-socket rate (warning first) never
 * sees; honest clients pace themselves below the relay rate, far from it.
 *
 * @param conn A new engine.io connection.
 * @param rate The relay rate.
 */
export function capPacketRate(conn: EngineConnection, rate: RelayRate): void {
  const perSecond = 4 * rate.messagesPerSecond + 100;
  const bucket = new TokenBucket(perSecond, perSecond * 3);
  let ended = false;
  conn.on("packet", () => {
    if (ended || bucket.take(1)) return;
    ended = true;
    terminate(conn);
  });
}
