// Browser-safe: no Deno or Node APIs. The browser benchmark sends these functions to Chromium
// pages as source, so each may call only the other functions of bench/harness/ by name.
/**
 * The workloads every path runs, written once: a throughput stream, a closed-loop ping-pong and
 * an open-loop fixed-rate ping. They see a path only as a {@linkcode Link}, so SocketPeer and the
 * baselines run the very same message pattern under the same code.
 *
 * A throughput case is measured by the receiver, on its own clock: the sender announces the case
 * (`b`), then sends data (`x`) as fast as the path's flow control lets it until the receiver
 * answers with its result (`r`). The receiver lets `warmupMs` pass after the first data
 * message, then counts what arrives for `measureMs`, so the pipe is full all through the window
 * whatever the path buffers. The sender then says how many it sent (`e`); the receiver answers
 * how many it got (`c`), by which time the backlog has drained, and a loss shows.
 *
 * Every message starts with a flag (its first byte, or first character for strings):
 *
 * | flag | meaning                                                                 |
 * | ---- | ----------------------------------------------------------------------- |
 * | `b`  | a case begins: JSON `{ id, warmupMs, measureMs }` after the flag         |
 * | `x`  | data of the case whose id is the second byte (or character)             |
 * | `r`  | the receiver's result of the case, as JSON                              |
 * | `e`  | the sender is done: JSON `{ id, sent }`                                 |
 * | `c`  | the receiver's count: JSON `{ id, received }`                           |
 * | `p`  | a 64-byte ping, echoed unchanged; bytes 8–15 hold its send time         |
 *
 * @module
 */

/** What a path delivers: text, or bytes in whichever container the runtime uses. */
export type Message = string | ArrayBuffer | ArrayBufferView;

/** One way to the partner, as the workloads see it. */
export interface Link {
  /**
   * Sends one message. Returns a promise when the path's flow control says to wait before the
   * next one.
   */
  send(data: string | Uint8Array): void | Promise<void>;
  /** Takes every message the partner sends (one handler per link). */
  onMessage(handler: (data: Message) => void): void;
  /** Bytes received so far on each path, for links that have two (SocketPeer). */
  received?(): { p2p: number; relay: number };
  /** The largest message the path carries, when it has a limit (a raw DataChannel). */
  maxMessageSize?: number;
}

/** One throughput case. */
export interface StreamCase {
  /** Bytes per message (characters, all ASCII, for strings). */
  size: number;
  /** Binary (Uint8Array) or string messages. */
  binary: boolean;
  /** Milliseconds of unmeasured traffic first. */
  warmupMs: number;
  /** Milliseconds of measured traffic. */
  measureMs: number;
}

/** What the receiver measured in one throughput case. */
export interface StreamResult {
  /** Messages counted in the window (after its first one). */
  messages: number;
  /** Their bytes. */
  bytes: number;
  /** From the window's first message to its last, in seconds. */
  seconds: number;
  /** Bytes received per path over the window, when the link tells (SocketPeer). */
  via?: { p2p: number; relay: number };
  /** Messages of the case the sender sent… */
  sent: number;
  /** …and the receiver got; equal unless the path lost some. */
  received: number;
  /** Why the case did not run (the path cannot carry such messages). */
  skipped?: string;
}

/** Round-trip times of pings, in milliseconds, and how many never came back. */
export interface PingResult {
  rtts: number[];
  sent: number;
  lost: number;
  /** Open loop: how late the pings went out, p50 and max in ms (timer granularity, stalls). */
  lagP50?: number;
  lagMax?: number;
}

/** The flag of a message: its first character or byte. */
export function flagOf(data: Message): string {
  if (typeof data === "string") return data.charAt(0);
  const bytes = data instanceof ArrayBuffer
    ? new Uint8Array(data, 0, Math.min(1, data.byteLength))
    : new Uint8Array(data.buffer, data.byteOffset, Math.min(1, data.byteLength));
  return bytes.length ? String.fromCharCode(bytes[0]) : "";
}

/** The size of a message: characters of a string, bytes otherwise. */
export function sizeOf(data: Message): number {
  return typeof data === "string" ? data.length : data.byteLength;
}

/** Reads the float64 at byte 8 of a ping. */
export function pingStamp(data: Message): number {
  if (typeof data === "string") return NaN;
  const view = data instanceof ArrayBuffer
    ? new DataView(data)
    : new DataView(data.buffer, data.byteOffset, data.byteLength);
  return view.byteLength >= 16 ? view.getFloat64(8) : NaN;
}

/**
 * Makes one data message of `size` bytes (at least 2) for case `id`.
 *
 * @param id One character naming the case.
 * @param size Bytes (or ASCII characters).
 * @param binary Bytes or a string.
 * @returns The message.
 */
export function makeMessage(id: string, size: number, binary: boolean): string | Uint8Array {
  if (!binary) return "x" + id + "y".repeat(Math.max(0, size - 2));
  const bytes = new Uint8Array(size).fill(121);
  bytes[0] = 120; // "x"
  bytes[1] = id.charCodeAt(0);
  return bytes;
}

/** The second character or byte of a message: the case id of data. */
export function caseOf(data: Message): string {
  if (typeof data === "string") return data.charAt(1);
  const bytes = data instanceof ArrayBuffer
    ? new Uint8Array(data, 0, Math.min(2, data.byteLength))
    : new Uint8Array(data.buffer, data.byteOffset, Math.min(2, data.byteLength));
  return bytes.length > 1 ? String.fromCharCode(bytes[1]) : "";
}

/** A 64-byte ping carrying `stamp` at byte 8. */
export function makePing(stamp: number): Uint8Array {
  const bytes = new Uint8Array(64);
  bytes[0] = 112; // "p"
  new DataView(bytes.buffer).setFloat64(8, stamp);
  return bytes;
}

/**
 * Yields to the event loop for one task. A MessageChannel hop, not `setTimeout(0)`, whose
 * nested calls browsers clamp to 4 ms.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(0);
  });
}

/**
 * Starts the receiving end: measures throughput cases (see the module doc) and echoes pings.
 *
 * @param link The path to the sender.
 */
export function respond(link: Link): void {
  let current: {
    id: string;
    warmupMs: number;
    measureMs: number;
    received: number;
    first: number;
    /** Arrival of the window's first message, and of its latest. */
    start: number;
    last: number;
    messages: number;
    bytes: number;
    via0?: { p2p: number; relay: number };
    done: boolean;
  } | null = null;
  link.onMessage((data) => {
    const flag = flagOf(data);
    if (flag === "x") {
      const c = current;
      if (!c || caseOf(data) !== c.id) return;
      c.received++;
      if (c.done) return;
      const now = performance.now();
      if (c.first < 0) c.first = now;
      if (now - c.first < c.warmupMs) return;
      if (c.start < 0) {
        c.start = now;
        c.via0 = link.received?.();
        return;
      }
      c.messages++;
      c.bytes += sizeOf(data);
      c.last = now;
      // At least a few messages, however slow the path.
      if (now - c.start >= c.measureMs && c.messages >= 4) {
        c.done = true;
        const via1 = link.received?.();
        const result = {
          messages: c.messages,
          bytes: c.bytes,
          seconds: (c.last - c.start) / 1000,
          via: c.via0 && via1
            ? { p2p: via1.p2p - c.via0.p2p, relay: via1.relay - c.via0.relay }
            : undefined,
        };
        link.send("r" + JSON.stringify(result));
      }
    } else if (flag === "p") {
      link.send(
        typeof data === "string"
          ? data
          : data instanceof ArrayBuffer
          ? new Uint8Array(data)
          : new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      );
    } else if (flag === "b" && typeof data === "string") {
      const { id, warmupMs, measureMs } = JSON.parse(data.slice(1));
      current = {
        id,
        warmupMs,
        measureMs,
        received: 0,
        first: -1,
        start: -1,
        last: -1,
        messages: 0,
        bytes: 0,
        done: false,
      };
    } else if (flag === "e" && typeof data === "string") {
      const { id } = JSON.parse(data.slice(1));
      const c = current as { id: string; received: number } | null;
      link.send("c" + JSON.stringify({ id, received: c && c.id === id ? c.received : 0 }));
    }
  });
}

/** The sending end: runs cases and pings against a {@linkcode respond}ing partner. */
export interface Driver {
  /** Runs one throughput case and returns what the receiver measured. */
  stream(c: StreamCase): Promise<StreamResult>;
  /** Closed loop: one ping at a time, `count` times after `warmup` unrecorded ones. */
  pingPong(count: number, warmup: number): Promise<PingResult>;
  /**
   * Open loop: pings at a fixed rate whatever comes back, each timed from when it was due, so
   * a stall delays every ping scheduled during it (no coordinated omission).
   */
  openLoop(rate: number, durationMs: number): Promise<PingResult>;
  /** Messages sent and received so far: unchanged for long means the path is stuck. */
  progress(): number;
}

/**
 * Starts the sending end.
 *
 * @param link The path to a partner that runs {@linkcode respond}.
 * @returns The workloads.
 */
export function drive(link: Link): Driver {
  let onReply: ((flag: string, json: string) => void) | null = null;
  let onPong: ((rtt: number) => void) | null = null;
  let cases = 0;
  let progress = 0;
  const send = link.send.bind(link);
  link.send = (data) => {
    progress++;
    return send(data);
  };
  link.onMessage((data) => {
    progress++;
    const flag = flagOf(data);
    if (flag === "p") onPong?.(performance.now() - pingStamp(data));
    else if (typeof data === "string") onReply?.(flag, data.slice(1));
  });
  const reply = (want: string) =>
    new Promise<string>((resolve) => {
      onReply = (flag, json) => {
        if (flag !== want) return;
        onReply = null;
        resolve(json);
      };
    });

  async function stream(c: StreamCase): Promise<StreamResult> {
    if (link.maxMessageSize !== undefined && c.size > link.maxMessageSize) {
      const skipped = `above the channel's max-message-size of ${link.maxMessageSize} bytes`;
      return { messages: 0, bytes: 0, seconds: 0, sent: 0, received: 0, skipped };
    }
    const id = String.fromCharCode(65 + (cases++ % 26));
    const message = makeMessage(id, c.size, c.binary);
    const measured = reply("r");
    let result: StreamResult | null = null;
    measured.then((json) => result = JSON.parse(json));
    await link.send("b" + JSON.stringify({ id, warmupMs: c.warmupMs, measureMs: c.measureMs }));
    let sent = 0;
    let lastTurn = performance.now();
    while (!result) {
      const wait = link.send(message);
      sent++;
      if (wait) {
        await wait;
        lastTurn = performance.now();
      } else if (performance.now() - lastTurn > 20) {
        // Paths that never push back still let their own events (acks, the result) in.
        await nextTurn();
        lastTurn = performance.now();
      }
    }
    const counted = reply("c");
    await link.send("e" + JSON.stringify({ id, sent }));
    const { received } = JSON.parse(await counted);
    return { ...(result as StreamResult), sent, received };
  }

  async function pingPong(count: number, warmup: number): Promise<PingResult> {
    const rtts: number[] = [];
    for (let i = 0; i < warmup + count; i++) {
      const rtt = await new Promise<number>((resolve) => {
        onPong = resolve;
        link.send(makePing(performance.now()));
      });
      if (i >= warmup) rtts.push(rtt);
    }
    onPong = null;
    return { rtts, sent: count, lost: 0 };
  }

  async function openLoop(rate: number, durationMs: number): Promise<PingResult> {
    const rtts: number[] = [];
    const lags: number[] = [];
    onPong = (rtt) => rtts.push(rtt);
    const interval = 1000 / rate;
    const total = Math.floor(durationMs / interval);
    const start = performance.now();
    let next = 0;
    while (next < total) {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        const due = start + next * interval;
        link.send(makePing(due));
        lags.push(now - due);
        next++;
      }
      const wait = start + next * interval - performance.now();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.floor(wait))));
    }
    const deadline = performance.now() + 2000;
    while (rtts.length < total && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    onPong = null;
    lags.sort((a, b) => a - b);
    return {
      rtts,
      sent: total,
      lost: total - rtts.length,
      lagP50: lags[Math.floor(lags.length / 2)] ?? 0,
      lagMax: lags[lags.length - 1] ?? 0,
    };
  }

  return { stream, pingPong, openLoop, progress: () => progress };
}
