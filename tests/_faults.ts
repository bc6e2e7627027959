/**
 * Fixtures of the fault and adversarial tests: the server as a process of its
 * own (to kill, stop, and watch its memory and stderr), bare Engine.IO /
 * socket.io clients over a WebSocket, raw TCP exchanges and hand-made
 * WebSocket frames, and a seeded random source so that failures reproduce.
 *
 * @module
 */
import { encodeMessage, PayloadKind } from "../protocol/frame.ts";
import { PROTOCOL_VERSION } from "../protocol/version.ts";
import { pairOf, sequenceProblems, sleep, type Tally, tally, until } from "./_fixtures.ts";

/** The repository root, where `server.ts` lives. */
export const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** The socket.io endpoint under the default SocketPeer path. */
export const IO_PATH = "/socketpeer/socket.io/";

/** The server's `maxHttpBufferSize`: the largest packet engine.io reads. */
export { MAX_HTTP_BUFFER_SIZE } from "../server/limits.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Resident memory of a process in bytes, from `/proc/<pid>/status` (0 once it is gone). */
export function rssOf(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return kb ? Number(kb[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Megabytes, for printing. */
export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Lines of a server's stderr that say something went wrong (uncaught errors, panics). */
export function troubleIn(stderr: string): string[] {
  return stderr.split("\n").filter((line) =>
    /uncaught|unhandled|panic|error|exception|fatal/i.test(line)
  );
}

/** A Deno script running as a child process, its output collected. */
export interface DenoProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  /** Everything the process wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Whether the process has not exited. */
  alive(): boolean;
  /** Its resident memory in bytes. */
  rss(): number;
  /** Sends a signal (SIGSTOP, SIGCONT, SIGKILL, …). */
  signal(signal: Deno.Signal): void;
  /** Resolves with the first match of `pattern` in stdout, or rejects after `ms` or an exit. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit status. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** Sends SIGKILL (if alive) and waits for the exit. Idempotent. */
  kill(): Promise<Deno.CommandStatus>;
}

/** Children still running: killed when this process exits, so none outlives it. */
const living = new Set<Deno.ChildProcess>();
globalThis.addEventListener("unload", () => {
  for (const child of living) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }
});

/**
 * Runs `deno run -A <script> <args>` from the repository root.
 *
 * @param script The script, relative to the root.
 * @param args Its arguments.
 * @param env Extra environment variables.
 */
export function spawnDeno(
  script: string,
  args: string[] = [],
  env: Record<string, string> = {},
): DenoProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  const collect = (stream: ReadableStream<Uint8Array>, add: (s: string) => void) =>
    stream.pipeTo(new WritableStream({ write: (chunk) => add(decoder.decode(chunk)) }));
  const drained = Promise.all([
    collect(child.stdout, (s) => out += s),
    collect(child.stderr, (s) => err += s),
  ]).catch(() => {});
  let exitStatus: Deno.CommandStatus | undefined;
  living.add(child);
  const exited = child.status.then(async (status) => {
    exitStatus = status;
    living.delete(child);
    await drained;
    return status;
  });
  const kill = async () => {
    if (exitStatus === undefined) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    return await exited;
  };
  return {
    child,
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    alive: () => exitStatus === undefined,
    rss: () => rssOf(child.pid),
    signal: (signal) => child.kill(signal),
    async waitFor(pattern, ms = 60_000) {
      await until(
        () => pattern.test(out) || exitStatus !== undefined,
        `${script} prints ${pattern}`,
        ms,
      ).catch((cause) => {
        throw new Error(`${script} did not print ${pattern}:\n${out}\n${err}`, { cause });
      });
      const match = pattern.exec(out);
      if (!match) throw new Error(`${script} exited before printing ${pattern}:\n${out}\n${err}`);
      return match;
    },
    exited,
    kill,
    [Symbol.asyncDispose]: async () => void await kill(),
  };
}

/** `deno run -A server.ts` on loopback, as its own process. */
export interface ServerProcess extends DenoProcess {
  readonly port: number;
  /** The SocketPeer URL, e.g. `http://127.0.0.1:4321/socketpeer/`. */
  readonly url: string;
}

/**
 * Starts `server.ts` as a child process on 127.0.0.1 and waits until it logs
 * that it listens.
 *
 * @param port The port; 0 picks a free one. A port just freed by a killed
 * server is retried until it can be bound again.
 */
export async function startServerProcess(port = 0): Promise<ServerProcess> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const server = spawnDeno("server.ts", [], { PORT: String(port), HOST: "127.0.0.1" });
    try {
      const [, bound] = await server.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)\//);
      return Object.assign(server, {
        port: Number(bound),
        url: `http://127.0.0.1:${bound}/socketpeer/`,
      });
    } catch (err) {
      await server.kill();
      // A port that a killed process held can take a moment to be free again.
      if (port === 0 || Date.now() > deadline || !/in use/i.test(server.stderr())) throw err;
      await sleep(200);
    }
  }
}

/** What a bare WebSocket saw of its closing. */
export interface Closed {
  code: number;
  reason: string;
}

/**
 * A bare Engine.IO v4 client over Deno's WebSocket: it answers pings and
 * records what the server sends, and sends whatever it is given, valid or not.
 */
export class RawEio implements Disposable {
  /** Text and binary messages from the server, in order. */
  readonly received: (string | Uint8Array)[] = [];
  /** Resolves when the socket closes, by either side. */
  readonly closed: Promise<Closed>;
  /** The Engine.IO session id from the open packet. */
  sid = "";
  #ws: WebSocket;
  #isClosed = false;
  #waiters = new Set<() => void>();
  #cursor = 0;
  #disconnected = false;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.binaryType = "arraybuffer";
    this.closed = new Promise((resolve) => {
      ws.addEventListener("close", (event) => {
        this.#isClosed = true;
        resolve({ code: event.code, reason: event.reason });
        this.#wake();
      });
    });
    ws.addEventListener("message", (event) => {
      const data = typeof event.data === "string" ? event.data : new Uint8Array(event.data);
      if (data === "2") ws.send("3"); // Engine.IO ping → pong
      if (data === "41") this.#disconnected = true;
      this.received.push(data);
      this.#wake();
    });
  }

  /**
   * Opens a WebSocket to the Engine.IO endpoint and waits for the open packet.
   * With `join`, also connects to the main socket.io namespace (`40`).
   *
   * @param port The server's port.
   * @param options `query` appended to the URL, `join` the namespace (default true).
   */
  static async open(
    port: number,
    options: { query?: string; join?: boolean; headers?: Record<string, string> } = {},
  ): Promise<RawEio> {
    const query = options.query ?? "EIO=4&transport=websocket";
    const ws = new WebSocket(
      `ws://127.0.0.1:${port}${IO_PATH}?${query}`,
      options.headers ? { headers: options.headers } as unknown as string[] : undefined,
    );
    const raw = new RawEio(ws);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", (e) => reject(new Error((e as ErrorEvent).message)), {
        once: true,
      });
    });
    const open = await raw.next((m) => typeof m === "string" && m.startsWith("0{"));
    raw.sid = JSON.parse((open as string).slice(1)).sid;
    if (options.join ?? true) {
      raw.send("40");
      await raw.next((m) => typeof m === "string" && m.startsWith("40"));
    }
    return raw;
  }

  /**
   * Whether the server disconnected the socket from its namespace on
   * purpose (a `41` came), even if the message was forgotten since.
   */
  get disconnectedByServer(): boolean {
    return this.#disconnected;
  }

  /** Whether the socket is closed. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Sends a text or binary WebSocket message; ignored once closed. */
  send(data: string | Uint8Array): void {
    if (this.#isClosed || this.#ws.readyState !== WebSocket.OPEN) return;
    this.#ws.send(data as Uint8Array<ArrayBuffer>);
  }

  /** Sends a socket.io EVENT packet (`42[...]`). */
  emit(event: string, ...args: unknown[]): void {
    this.send(`42${JSON.stringify([event, ...args])}`);
  }

  /** Bytes the WebSocket has queued and not yet handed to the network. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /**
   * Resolves with the next message that `match` accepts, reading on from the
   * last message a previous call returned (so a message that arrived before
   * the call is still found); rejects after `ms` or when the socket closes
   * first. `from` overrides where to start reading.
   */
  async next(
    match: (message: string | Uint8Array) => boolean,
    ms = 15_000,
    from = this.#cursor,
  ): Promise<string | Uint8Array> {
    const deadline = Date.now() + ms;
    let index = from;
    for (;;) {
      for (; index < this.received.length; index++) {
        if (match(this.received[index])) {
          this.#cursor = index + 1;
          return this.received[index];
        }
      }
      if (this.#isClosed) {
        throw new Error(`the socket closed before the expected message; got ${this.#tail()}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no expected message within ${ms} ms; got ${this.#tail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(done);
      });
    }
  }

  /** Drops every message received so far (long runs keep memory flat). */
  forget(): void {
    this.received.length = 0;
    this.#cursor = 0;
  }

  /** Resolves with the next `sp.error` notice. */
  async nextError(ms = 15_000): Promise<{ code: string; message: string; event?: string }> {
    const m = await this.next(
      (m) => typeof m === "string" && m.startsWith('42["sp.error"'),
      ms,
    ) as string;
    return JSON.parse(m.slice(2))[1];
  }

  /**
   * Resolves with how the socket closed, or null if it is still open after
   * `ms` (the server kept it).
   */
  async closedWithin(ms: number): Promise<Closed | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = await Promise.race([
      this.closed,
      new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms)),
    ]);
    clearTimeout(timer);
    return result;
  }

  /** The last few messages, for failure reports. */
  #tail(): string {
    return JSON.stringify(
      this.received.slice(-4).map((m) =>
        typeof m === "string" ? m.slice(0, 200) : `<${m.byteLength} bytes>`
      ),
    );
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
    this.#waiters.clear();
  }

  /** Closes the WebSocket. */
  close(): void {
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) {
      this.#ws.close();
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A `pair` request body from a bare client. */
export function pairRequest(pairCode: string, peerId: string): Record<string, unknown> {
  return { v: PROTOCOL_VERSION, pairCode, peerId };
}

/** What a raw TCP exchange gave back. */
export interface RawReply {
  /** The bytes the server sent, as Latin-1 text (byte for byte). */
  text: string;
  bytes: Uint8Array;
  /** The HTTP status of the first response line, if there was one. */
  status: number | null;
  /** Whether the server closed the connection within the time allowed. */
  closedByServer: boolean;
}

/**
 * Connects to the server over plain TCP, writes `request` (in pieces, so a
 * huge request does not wait on a full socket buffer), and reads what comes
 * back until the server closes or `ms` pass.
 *
 * @param port The server's port.
 * @param request Bytes (or text) to write.
 * @param ms How long to read.
 * @param stopWhen Stops reading early once the reply satisfies it.
 */
export async function rawExchange(
  port: number,
  request: string | Uint8Array,
  ms = 5_000,
  stopWhen?: (reply: Uint8Array) => boolean,
): Promise<RawReply> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = typeof request === "string" ? encoder.encode(request) : request;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let closedByServer = false;
  let closedByUs = false;
  const deadline = Date.now() + ms;
  const reading = (async () => {
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) {
        closedByServer = !closedByUs;
        return;
      }
      chunks.push(buffer.slice(0, n));
      total += n;
      if (stopWhen?.(concat(chunks))) return;
    }
  })();
  const writing = (async () => {
    try {
      for (let offset = 0; offset < bytes.byteLength; offset += 16 * 1024) {
        await conn.write(bytes.subarray(offset, offset + 16 * 1024));
        if (Date.now() > deadline) return;
      }
    } catch { /* the server may close before reading it all */ }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    reading,
    new Promise((resolve) => timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))),
  ]);
  clearTimeout(timer);
  closedByUs = true;
  try {
    conn.close();
  } catch { /* closed */ }
  await Promise.allSettled([reading, writing]);
  const all = concat(chunks).subarray(0, total);
  const text = latin1(all);
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return { text, bytes: all, status: status ? Number(status[1]) : null, closedByServer };
}

/** Joins byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Bytes as Latin-1 text: one character per byte, nothing lost. */
export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.byteLength; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

/** An HTTP/1.1 upgrade request to the Engine.IO WebSocket endpoint. */
export function upgradeRequest(
  port: number,
  options: { query?: string; headers?: string[] } = {},
): string {
  return [
    `GET ${IO_PATH}?${options.query ?? "EIO=4&transport=websocket"} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    ...(options.headers ?? []),
    "",
    "",
  ].join("\r\n");
}

/** A hand-made WebSocket frame (RFC 6455 section 5.2), masked as a client's must be. */
export function wsFrame(
  opcode: number,
  payload: Uint8Array | string = new Uint8Array(0),
  options: { fin?: boolean; rsv?: number; mask?: boolean; length?: bigint } = {},
): Uint8Array {
  const body = typeof payload === "string" ? encoder.encode(payload) : payload;
  const mask = options.mask ?? true;
  const length = options.length ?? BigInt(body.byteLength);
  const head: number[] = [
    ((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | (opcode & 0x0f),
  ];
  const maskBit = mask ? 0x80 : 0;
  if (length < 126n) {
    head.push(maskBit | Number(length));
  } else if (length < 65536n) {
    head.push(maskBit | 126, Number(length >> 8n) & 0xff, Number(length) & 0xff);
  } else {
    head.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((length >> shift) & 0xffn));
  }
  const key = [0x12, 0x34, 0x56, 0x78];
  if (mask) head.push(...key);
  const masked = body.map((b, i) => mask ? b ^ key[i % 4] : b);
  return concat([new Uint8Array(head), masked]);
}

/** The payload of a close frame: a status code and a reason. */
export function closePayload(code: number, reason = ""): Uint8Array {
  const text = encoder.encode(reason);
  const out = new Uint8Array(2 + text.byteLength);
  new DataView(out.buffer).setUint16(0, code);
  out.set(text, 2);
  return out;
}

/**
 * Finds the first WebSocket close frame the server sent after its 101
 * response, in the bytes of a raw exchange.
 *
 * @returns Its status code (1005 when it has none), or null when none came.
 */
export function serverCloseCode(b: Uint8Array): number | null {
  let i = -1;
  for (let j = 0; j + 3 < b.byteLength; j++) {
    if (b[j] === 13 && b[j + 1] === 10 && b[j + 2] === 13 && b[j + 3] === 10) {
      i = j + 4;
      break;
    }
  }
  if (i < 0) return null;
  while (i + 2 <= b.byteLength) {
    const opcode = b[i] & 0x0f;
    let len = b[i + 1] & 0x7f;
    let offset = i + 2;
    if (len === 126) {
      if (offset + 2 > b.byteLength) return null;
      len = (b[offset] << 8) | b[offset + 1];
      offset += 2;
    } else if (len === 127) {
      if (offset + 8 > b.byteLength) return null;
      len = Number(new DataView(b.buffer, b.byteOffset + offset).getBigUint64(0));
      offset += 8;
    }
    if (opcode === 0x8) {
      if (len < 2) return 1005;
      if (offset + 2 > b.byteLength) return null;
      return (b[offset] << 8) | b[offset + 1];
    }
    i = offset + len;
  }
  return null;
}

/**
 * Proves the server still does its job: a fresh pair of relay-only peers
 * pairs, and a message crosses each way.
 *
 * @param url The server's SocketPeer URL.
 * @param label Names the pair code (and the failure).
 */
export async function assertServes(url: string, label: string): Promise<void> {
  const code = `alive-${label.replace(/[^\w-]/g, "-")}-${crypto.randomUUID().slice(0, 8)}`;
  const [a, b] = pairOf(url, code.slice(0, 120));
  try {
    const atA: unknown[] = [];
    const atB: unknown[] = [];
    a.on("data", (d) => atA.push(d));
    b.on("data", (d) => atB.push(d));
    a.send(0);
    b.send(0);
    a.send(1);
    b.send(1);
    await until(
      () => atA.length >= 2 && atB.length >= 2,
      `a fresh pair relays after ${label}`,
      30_000,
    );
    const problems = sequenceProblems(atB, 2) ?? sequenceProblems(atA, 2);
    if (problems) throw new Error(`after ${label}: ${problems}`);
  } finally {
    a.close();
    b.close();
  }
}

/**
 * A small, fast, seeded random source (mulberry32): the same seed gives the
 * same sequence, so a failing run can be replayed.
 */
export class SeededRandom {
  #state: number;

  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One of the items. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The seed to use: `$FUZZ_SEED` when set (to replay a failure), else a fixed default. */
export function seedFromEnv(fallback: number): number {
  const given = Deno.env.get("FUZZ_SEED");
  return given ? Number(given) >>> 0 : fallback;
}

/** The live counters of a server, read from its health endpoint. */
export async function healthOf(url: string): Promise<Record<string, number>> {
  const response = await fetch(`${url}health`);
  return await response.json();
}

/** Waits until the server counts no socket.io socket (every test socket is gone). */
export async function allSocketsGone(url: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  let sockets = -1;
  while (Date.now() < deadline) {
    sockets = (await healthOf(url)).sockets;
    if (sockets === 0) return;
    await sleep(50);
  }
  throw new Error(`${sockets} socket(s) still open ${ms} ms after their clients left`);
}

/** Adds tallies up. */
export function sumTallies(tallies: Tally[]): Tally {
  const total = { sent: 0, received: 0, lost: 0, duplicated: 0, reordered: 0 };
  for (const t of tallies) {
    for (const key of Object.keys(total) as (keyof Tally)[]) total[key] += t[key];
  }
  return total;
}

/**
 * A pair of relay-only peers that keep exchanging numbered messages (a few
 * every few ms, both ways) until stopped: the canary of a test that abuses
 * the server. `stop()` waits until everything sent arrived (or `ms` pass)
 * and tallies both directions.
 */
export function startCanary(url: string, pairCode: string): { stop(ms?: number): Promise<Tally> } {
  const [a, b] = pairOf(url, pairCode);
  const atA: unknown[] = [];
  const atB: unknown[] = [];
  a.on("data", (d) => atA.push(d));
  b.on("data", (d) => atB.push(d));
  let sent = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      for (let k = 0; k < 4; k++) {
        a.send(sent);
        b.send(sent);
        sent++;
      }
      await sleep(5);
    }
  })();
  return {
    async stop(ms = 60_000) {
      running = false;
      await loop;
      try {
        await until(
          () => atA.length >= sent && atB.length >= sent,
          "the canary's messages arrive",
          ms,
        ).catch(() => {});
        await sleep(50);
        return sumTallies([tally(atB, sent), tally(atA, sent)]);
      } finally {
        a.close();
        b.close();
      }
    },
  };
}

/** The WebSocket frames (opcode and payload) at the start of `bytes`, as far as complete. */
export function parseFrames(
  bytes: Uint8Array,
): { frames: { opcode: number; payload: Uint8Array }[]; rest: Uint8Array } {
  const frames: { opcode: number; payload: Uint8Array }[] = [];
  let i = 0;
  for (;;) {
    if (i + 2 > bytes.byteLength) break;
    let len = bytes[i + 1] & 0x7f;
    let offset = i + 2;
    if (len === 126) {
      if (offset + 2 > bytes.byteLength) break;
      len = (bytes[offset] << 8) | bytes[offset + 1];
      offset += 2;
    } else if (len === 127) {
      if (offset + 8 > bytes.byteLength) break;
      len = Number(new DataView(bytes.buffer, bytes.byteOffset + offset).getBigUint64(0));
      offset += 8;
    }
    if (offset + len > bytes.byteLength) break;
    frames.push({ opcode: bytes[i] & 0x0f, payload: bytes.subarray(offset, offset + len) });
    i = offset + len;
  }
  return { frames, rest: bytes.subarray(i) };
}

/**
 * A peer that pairs and then never reads again: a raw WebSocket over TCP
 * that, once it has its `peer.waiting` or `peer.found`, stops reading (so
 * the kernel buffers fill and the server has to hold or drop what it relays)
 * but keeps writing pongs, so that the server's heartbeat does not notice.
 */
export async function stalledReceiver(
  port: number,
  pairCode: string,
): Promise<AsyncDisposable & { readonly conn: Deno.TcpConn }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encoder.encode(upgradeRequest(port)));
  let buffered: Uint8Array = new Uint8Array(0);
  const readUntil = async (what: RegExp) => {
    const chunk = new Uint8Array(64 * 1024);
    const deadline = Date.now() + 15_000;
    while (!what.test(latin1(buffered))) {
      if (Date.now() > deadline) throw new Error(`the stalled receiver never saw ${what}`);
      const n = await conn.read(chunk);
      if (n === null) throw new Error("the server closed the stalled receiver early");
      buffered = concat([buffered, chunk.subarray(0, n)]);
    }
  };
  await readUntil(/0\{"sid"/);
  await conn.write(wsFrame(1, "40"));
  await readUntil(/40\{"sid"/);
  await conn.write(
    wsFrame(1, `42${JSON.stringify(["pair", pairRequest(pairCode, crypto.randomUUID())])}`),
  );
  await readUntil(/peer\.(waiting|found)/);
  // From here on nothing is read. Pongs keep the heartbeat content.
  const pongs = setInterval(() => conn.write(wsFrame(1, "3")).catch(() => {}), 4_000);
  return {
    conn,
    [Symbol.asyncDispose]: async () => {
      clearInterval(pongs);
      try {
        conn.close();
      } catch { /* closed */ }
      await sleep(0);
    },
  };
}

/**
 * Pushes DATA frames of 64 kB (valid, numbered from `firstSeq`) from a bare
 * socket, at `bytesPerSecond` when given, keeping its WebSocket buffer under
 * 4 MB, until `total` bytes went out, the socket closed, `stop()` says so,
 * or `ms` passed.
 *
 * @returns The bytes pushed and the next sequence number.
 */
export async function pushFrames(
  sender: RawEio,
  options: {
    total: number;
    bytesPerSecond?: number;
    stop?: () => boolean;
    ms?: number;
    firstSeq?: number;
    onChunk?: () => void;
  },
): Promise<{ pushed: number; nextSeq: number }> {
  const payload = new Uint8Array(64 * 1024 - 20);
  const started = Date.now();
  const deadline = started + (options.ms ?? 120_000);
  let pushed = 0;
  let seq = options.firstSeq ?? 1;
  while (pushed < options.total && !sender.isClosed && !options.stop?.()) {
    if (Date.now() > deadline) break;
    const allowed = options.bytesPerSecond
      ? (Date.now() - started) / 1000 * options.bytesPerSecond
      : Infinity;
    if (pushed > allowed || sender.bufferedAmount > 4 * 1024 * 1024) {
      await sleep(5);
      options.onChunk?.();
      continue;
    }
    sender.send('451-["data",{"_placeholder":true,"num":0}]');
    sender.send(encodeMessage(seq++, PayloadKind.BINARY, payload)[0]);
    pushed += 64 * 1024;
    if (seq % 16 === 0) {
      options.onChunk?.();
      await sleep(0);
    }
  }
  return { pushed, nextSeq: seq };
}

/** Pairs two bare sockets under `code`; returns them paired. */
export async function rawPair(port: number, code: string): Promise<[RawEio, RawEio]> {
  const starts = (prefix: string) => (m: string | Uint8Array) =>
    typeof m === "string" && m.startsWith(prefix);
  const a = await RawEio.open(port);
  const b = await RawEio.open(port);
  a.emit("pair", pairRequest(code, crypto.randomUUID()));
  await a.next(starts('42["peer.waiting"'));
  b.emit("pair", pairRequest(code, crypto.randomUUID()));
  await a.next(starts('42["peer.found"'));
  await b.next(starts('42["peer.found"'));
  return [a, b];
}

/** What a flooder did. */
export interface FloodReport {
  frames: number;
  /** Times the server warned it (`ERR_RATE_LIMITED`). */
  warnings: number;
  /** Times the server disconnected it (it paired again each time). */
  disconnects: number;
}

/**
 * A bare socket paired with a bare partner that sends `perSecond` small
 * DATA frames a second, pairing again under a new code whenever the server
 * disconnects it, until `stop()`.
 */
export function startFlood(port: number, perSecond: number): { stop(): Promise<FloodReport> } {
  const report: FloodReport = { frames: 0, warnings: 0, disconnects: 0 };
  let running = true;
  const loop = (async () => {
    let round = 0;
    while (running) {
      const [flooder, partner] = await rawPair(port, `flood-${crypto.randomUUID()}`);
      try {
        const started = Date.now();
        let sent = 0;
        while (running && !flooder.isClosed) {
          const due = Math.floor((Date.now() - started) / 1000 * perSecond);
          for (; sent < due; sent++) {
            flooder.send('451-["data",{"_placeholder":true,"num":0}]');
            flooder.send(encodeMessage(sent + 1, PayloadKind.BINARY, new Uint8Array(80))[0]);
          }
          report.warnings += flooder.received.filter((m) =>
            typeof m === "string" && m.includes("ERR_RATE_LIMITED")
          ).length;
          flooder.forget();
          partner.forget();
          await sleep(10);
        }
        report.frames += sent;
        if (flooder.isClosed) report.disconnects++;
      } finally {
        flooder.close();
        partner.close();
      }
      round++;
    }
    return round;
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return report;
    },
  };
}

/** Watches a process's resident memory: at the start, at its peak, and now. */
export class RssWatch {
  /** RSS when the watch began. */
  readonly before: number;
  #peak: number;
  #timer: ReturnType<typeof setInterval>;

  /**
   * @param process The process to watch.
   * @param everyMs How often to sample it for the peak.
   */
  constructor(private readonly process: DenoProcess, everyMs = 200) {
    this.before = this.#peak = process.rss();
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  /** Samples now; returns the RSS. */
  sample(): number {
    const rss = this.process.rss();
    this.#peak = Math.max(this.#peak, rss);
    return rss;
  }

  /** The highest RSS sampled so far. */
  get peak(): number {
    return this.#peak;
  }

  /** Stops sampling; returns the figures, `after` sampled now. */
  stop(): { before: number; peak: number; after: number } {
    clearInterval(this.#timer);
    const after = this.sample();
    return { before: this.before, peak: this.#peak, after };
  }
}

/**
 * What is wrong with a server process after an attack, if anything: it
 * died, its stderr reports trouble, sockets were left over, or a fresh pair
 * no longer pairs and relays.
 *
 * @param label Names the attack in the fresh pair's code.
 * @returns The problems (empty when the server is fine).
 */
export async function serverProblems(server: ServerProcess, label: string): Promise<string[]> {
  if (!server.alive()) return [`the server died:\n${server.stderr()}`];
  const problems = troubleIn(server.stderr()).map((line) => `stderr: ${line}`);
  await allSocketsGone(server.url).catch((err) => problems.push(String(err)));
  await assertServes(server.url, label).catch((err) => problems.push(String(err)));
  return problems;
}
