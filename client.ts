// Browser-safe: runs in browsers (bundled as /socketpeer/socketpeer.js) and in Deno.
/**
 * The SocketPeer client: pairs with the peer that knows the same pair code,
 * talks through the server's relay at once, upgrades to a direct WebRTC
 * DataChannel, falls back to the relay when that breaks, and never loses,
 * duplicates or reorders a message across those switches.
 *
 * @example In a page (SocketPeer 1.x style)
 * ```js
 * const peer = new SocketPeer({ pairCode: "yolo", url: location.origin + "/socketpeer/" });
 * peer.on("data", (data) => console.log("got", data));
 * peer.on("upgrade", () => console.log("peer-to-peer now"));
 * peer.send("hello");
 * ```
 *
 * @example In Deno, with WebRTC from node-datachannel
 * ```ts
 * import { SocketPeer } from "./client.ts";
 * import * as wrtc from "npm:node-datachannel@0.33.4/polyfill";
 * const peer = new SocketPeer({ pairCode: "yolo", url: "http://localhost:3000/socketpeer/", wrtc });
 * ```
 *
 * @module
 */
import { sha256 } from "npm:@noble/hashes@2.0.1/sha2.js";
import { Emitter } from "./protocol/emitter.ts";
import { ErrorCode, SocketPeerError } from "./protocol/errors.ts";
import {
  type ErrorNotice,
  type PeerFound,
  type RTCIceServerInit,
  WireEvent,
} from "./protocol/events.ts";
import { agreedFrameSize, MAX_FRAME_SIZE } from "./protocol/frame.ts";
import { asBytes, checkPairCode } from "./protocol/validate.ts";
import { PROTOCOL_VERSION } from "./protocol/version.ts";
import type { PeerFoundInfo, SocketPeerEvents } from "./client/events.ts";
import { Negotiator } from "./client/negotiator.ts";
import {
  resolveClientOptions,
  type ResolvedClientOptions,
  type SocketPeerOptions,
} from "./client/options.ts";
import { backoffDelay, retryDelay } from "./client/backoff.ts";
import { RelayPacer } from "./client/pacer.ts";
import { Session } from "./client/session.ts";
import { MessageStream, type PathName, type PathStats } from "./client/stream.ts";

export { ErrorCode, SocketPeerError } from "./protocol/errors.ts";
export { PROTOCOL_VERSION } from "./protocol/version.ts";
export type { PeerFoundInfo, SocketPeerEvents } from "./client/events.ts";
export type { SocketPeerOptions, WebRtcImplementation } from "./client/options.ts";
export type { PathName, PathStats } from "./client/stream.ts";
export type { BinaryType, Serialization } from "./protocol/serialization.ts";

/**
 * A DataChannel takes frames while its send buffer holds less than this.
 * Far below Chromium's 16 MiB limit, past which `send()` fails.
 */
const CHANNEL_HIGH_WATER = 1024 * 1024;

/** Refusals after which the peer stops asking to pair until `pair()` is called. */
const FATAL_CODES = new Set<string>([
  ErrorCode.INVALID_PAIR_CODE,
  ErrorCode.PROTOCOL_VERSION,
  ErrorCode.PEER_TIMEOUT,
]);

/** How long a peer whose pair requests were throttled waits before asking again. */
const PAIR_RETRY_AFTER_THROTTLE = 30_000;

// The URL of the script that defined SocketPeer, read while it runs.
const scriptUrl: string | undefined = (() => {
  try {
    const script = (globalThis as { document?: Document }).document?.currentScript as
      | HTMLScriptElement
      | null
      | undefined;
    if (script?.src) return new URL("./", script.src).href;
    const location = (globalThis as { location?: Location }).location;
    if (location?.protocol.startsWith("http")) return `${location.origin}/socketpeer/`;
  } catch { /* not in a page */ }
  return undefined;
})();

/**
 * The stable code of a connect_error. A refusal by the `authorize` hook
 * carries it in `data.code`. A refusal at the handshake (origin, connection
 * cap) reaches the client as a generic transport error; over long-polling
 * the response text carries the code (and a 403 status means the origin).
 * A WebSocket-only client cannot tell: browsers hide why an upgrade failed.
 */
function refusalCode(cause: unknown): ErrorCode {
  const err = cause as {
    message?: unknown;
    description?: unknown;
    data?: { code?: unknown };
    context?: { responseText?: unknown };
  };
  const known = Object.values(ErrorCode) as string[];
  if (typeof err?.data?.code === "string" && known.includes(err.data.code)) {
    return err.data.code as ErrorCode;
  }
  const text = `${err?.context?.responseText ?? ""} ${err?.message ?? ""}`;
  const named = text.match(/ERR_[A-Z_]+/)?.[0];
  if (named && known.includes(named)) return named as ErrorCode;
  if (err?.description === 403) return ErrorCode.ORIGIN;
  return ErrorCode.CONNECTION;
}

/** Refusals the peer recovers from by itself: reported as `warning`. */
const RECOVERABLE_CODES = new Set<string>([
  // A frame crossed the partner's departure; it stays unacknowledged and
  // goes out again when the partner is back.
  ErrorCode.NOT_PAIRED,
  // The server asks this peer to slow down (it paces below the rate it was told).
  ErrorCode.RATE_LIMITED,
  // The server dropped a peer that stopped reading; it reconnects and resends.
  ErrorCode.SLOW_CONSUMER,
]);

/** What {@linkcode SocketPeer.stats} reports. */
export interface SocketPeerStats {
  /** The path messages take now, or null while neither is available. */
  path: PathName | null;
  /** Whether the server has put this peer with a partner. */
  paired: boolean;
  pairCode: string | undefined;
  /** This instance's id, as the partner sees it. */
  peerId: string;
  /** The partner's id, once one was found. */
  partnerId: string | null;
  /** Payload bytes sent and not yet acknowledged by the partner. */
  bufferedAmount: number;
  /** Traffic through the server's relay. */
  relay: PathStats;
  /** Traffic over the direct DataChannel. */
  p2p: PathStats;
  /** Messages sent again because the path they took was lost. */
  resent: number;
  /** Copies received and dropped because their message had arrived already. */
  duplicatesDropped: number;
  upgrades: number;
  downgrades: number;
  upgradeErrors: number;
}

function publicPeerId(secret: string): string {
  return hex(sha256(new TextEncoder().encode(secret))).slice(0, 32);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function randomId(): string {
  return hex(crypto.getRandomValues(new Uint8Array(16)));
}

/**
 * A two-way, exactly-once message pipe to the peer that shares a pair code.
 * See {@linkcode SocketPeerOptions} for the options and
 * {@linkcode SocketPeerEvents} for the events.
 */
export class SocketPeer extends Emitter<SocketPeerEvents> {
  /** The options in force, defaults applied. */
  readonly options: Readonly<ResolvedClientOptions>;
  /**
   * This instance's public id, as the partner sees it: the first 32 hex
   * digits of SHA-256 of a random secret that only this instance and the
   * server know (it resumes the slot after a reconnect).
   */
  readonly peerId: string;
  #secret = randomId();
  /** The pair code this peer joins. */
  pairCode: string | undefined;
  /** Whether this peer makes the WebRTC offer in the current pair. */
  initiator = false;

  #session: Session;
  #stream: MessageStream;
  #pacer: RelayPacer;
  #negotiator: Negotiator | null;
  #partnerId: string | null = null;
  #paired = false;
  #everPaired = false;
  #wantPair: boolean;
  #partnerWebrtc = false;
  #iceServers: RTCIceServerInit[] = [];
  #upgradeFailures = 0;
  #upgradeTimer: ReturnType<typeof setTimeout> | undefined;
  #timeoutTimer: ReturnType<typeof setTimeout> | undefined;
  #rejoinTimer: ReturnType<typeof setTimeout> | undefined;
  #counts = { upgrades: 0, downgrades: 0, upgradeErrors: 0 };
  #closed = false;

  /**
   * @param options See {@linkcode SocketPeerOptions}.
   * @throws {SocketPeerError} `ERR_INVALID_OPTION` or `ERR_INVALID_PAIR_CODE`.
   */
  constructor(options: SocketPeerOptions = {}) {
    super();
    this.options = resolveClientOptions(options, scriptUrl);
    this.peerId = publicPeerId(this.#secret);
    const opts = this.options;
    this.pairCode = opts.pairCode;
    this.#wantPair = opts.pairCode !== undefined;

    this.#session = new Session(opts);
    this.#stream = new MessageStream({
      relay: {
        open: () => this.#paired && this.#session.connected,
        writable: () => this.#pacer.ready(),
        send: (frame) => {
          this.#pacer.spend(frame.byteLength);
          this.#session.sendFrame(frame);
        },
      },
      p2p: {
        open: () => this.#negotiator?.channel != null,
        writable: () =>
          (this.#negotiator?.channel?.bufferedAmount ?? Infinity) < CHANNEL_HIGH_WATER,
        send: (frame) => this.#sendDirect(frame),
      },
    }, {
      serialization: opts.serialization,
      binaryType: opts.binaryType,
      maxMessageSize: opts.maxMessageSize,
      highWaterMark: opts.highWaterMark,
      useRelay: opts.socketFallback,
    });
    this.#pacer = new RelayPacer(() => this.#stream.pump());
    this.#stream.on("data", (data) => this.emit("data", data));
    this.#stream.on("drain", () => this.emit("drain"));
    this.#stream.on("error", (err) => this.emit("error", err));
    this.#stream.on("warning", (warning) => this.emit("warning", warning));

    const Impl = (opts.wrtc?.RTCPeerConnection as typeof RTCPeerConnection | undefined) ??
      (globalThis as { RTCPeerConnection?: typeof RTCPeerConnection }).RTCPeerConnection;
    this.#negotiator = Impl ? new Negotiator(Impl, opts.rtcConfig, opts.upgradeTimeout) : null;
    this.#wireSession();
    this.#wireNegotiator();

    // A page that goes away leaves its pair at once, rather than holding its
    // slot as a dropped connection would (the reloaded page may want it).
    const page = globalThis as { addEventListener?: typeof addEventListener; document?: unknown };
    if (page.document && typeof page.addEventListener === "function") {
      page.addEventListener("pagehide", () => this.close());
    }

    if (opts.autoconnect) {
      setTimeout(() => {
        if (!this.#closed) this.connect();
      }, 0);
    }
  }

  #debug(...args: unknown[]): void {
    if (this.options.debug) console.debug(`[socketpeer ${this.pairCode ?? "-"}]`, ...args);
  }

  #wireSession(): void {
    const session = this.#session;
    session.on("open", () => {
      this.#debug("connected to the server");
      this.#requestPair();
    });
    session.on("lost", (reason, willReconnect) => {
      this.#debug("server connection lost:", reason, willReconnect ? "(will reconnect)" : "");
      this.#paired = false;
      if (
        reason === "io server disconnect" && this.options.reconnect && this.#wantPair &&
        !this.#closed
      ) {
        // socket.io leaves a socket the server dropped alone; a peer that
        // still wants its pair comes back by itself (a graceful restart).
        clearTimeout(this.#rejoinTimer);
        this.#rejoinTimer = setTimeout(() => {
          if (!this.#closed && !this.#session.connected) this.#session.connect();
        }, this.options.reconnectDelay);
      }
    });
    session.on("refused", (cause) => {
      const code = refusalCode(cause);
      const err = new SocketPeerError(code, `cannot connect to the server: ${cause?.message}`, {
        cause,
      });
      this.emit("connect_error", err);
      if (this.#everPaired) this.emit("reconnect_error", err);
      this.emit("error", err);
    });
    session.on("attempt", (n) => {
      this.emit("connect_attempt");
      this.emit("reconnect_attempt", n);
    });
    session.onServer(WireEvent.WAITING, () => {
      this.#paired = false;
      this.emit("peer.waiting");
    });
    session.onServer(WireEvent.FOUND, (found) => this.#onFound(found));
    session.onServer(WireEvent.LEFT, ({ reason }) => this.#onLeft(reason));
    session.onServer(WireEvent.BUSY, ({ pairCode, retryAfter }) => {
      if (typeof retryAfter === "number") {
        // A slot is held for a peer whose connection dropped; it may be
        // free once that reservation lapses.
        this.emit(
          "warning",
          new SocketPeerError(
            ErrorCode.BUSY,
            `Pair code "${pairCode}" is held for a reconnecting peer; asking again in ${retryAfter} ms`,
          ),
        );
        this.#retryPair(retryAfter + 100);
        return;
      }
      this.#wantPair = false;
      const err = new SocketPeerError(ErrorCode.BUSY, `Pair code "${pairCode}" already in use`);
      this.emit("busy", err);
      this.emit("error", err);
    });
    session.onServer(WireEvent.ERROR, (notice) => this.#onRefusal(notice));
    session.onServer(WireEvent.DATA, (frame) => {
      const bytes = asBytes(frame);
      if (bytes) this.#stream.receive(bytes, "relay");
    });
    session.onServer(WireEvent.SIGNAL, (signal) => {
      if (!this.#negotiator || !this.#partnerWebrtc) {
        // This side cannot do WebRTC: tell the partner to stop trying.
        if (signal.type === "offer") session.signal({ type: "close", attempt: signal.attempt });
        return;
      }
      this.#negotiator.signal(signal, this.#iceServers);
    });
  }

  #wireNegotiator(): void {
    const negotiator = this.#negotiator;
    if (!negotiator) return;
    negotiator.on("signal", (signal) => this.#session.signal(signal));
    negotiator.on("attempt", () => this.emit("upgrade_attempt"));
    negotiator.on("open", () => {
      this.#debug("upgraded to a direct DataChannel");
      this.#upgradeFailures = 0;
      this.#counts.upgrades++;
      if (this.initiator) this.#session.report("succeeded");
      this.emit("upgrade");
      this.#stream.pump();
      this.#stream.flushAck();
    });
    negotiator.on("failed", (err) => {
      this.#debug("upgrade failed:", err.message);
      this.#counts.upgradeErrors++;
      this.#upgradeFailures++;
      if (this.initiator) this.#session.report("failed");
      this.emit("upgrade_error", err);
      this.#scheduleUpgrade(retryDelay(this.#upgradeFailures, this.options.reconnectDelay));
    });
    negotiator.on("closed", () => {
      this.#debug("direct DataChannel lost; back to the relay");
      this.#counts.downgrades++;
      this.emit("downgrade");
      this.#stream.rewind();
      this.#upgradeFailures = Math.max(this.#upgradeFailures, 1);
      this.#scheduleUpgrade(backoffDelay(this.#upgradeFailures, this.options.reconnectDelay));
    });
    negotiator.on("message", (data) => this.#stream.receive(new Uint8Array(data), "p2p"));
    negotiator.on("drain", () => this.#stream.pump());
  }

  #requestPair(): void {
    if (!this.#wantPair || this.pairCode === undefined || !this.#session.connected) return;
    this.#session.pair({
      v: PROTOCOL_VERSION,
      pairCode: this.pairCode,
      peerId: this.#secret,
      webrtc: this.#negotiator !== null,
      batch: true,
      maxFrameSize: MAX_FRAME_SIZE,
    });
    if (this.options.timeout > 0 && !this.#paired) {
      clearTimeout(this.#timeoutTimer);
      this.#timeoutTimer = setTimeout(() => {
        if (this.#paired || this.#closed) return;
        const err = new SocketPeerError(
          ErrorCode.TIMEOUT,
          `Connection timeout after ${this.options.timeout} ms`,
        );
        this.emit("connect_timeout", err);
        this.emit("error", err);
        this.close();
      }, this.options.timeout);
    }
  }

  #onFound(found: PeerFound): void {
    clearTimeout(this.#timeoutTimer);
    const frameSize = agreedFrameSize(found.maxFrameSize);
    // A stream goes on with the same partner unless its frames no longer fit
    // (a server of an older version): both ends see that, and start anew.
    const same = found.peerId === this.#partnerId && frameSize >= this.#stream.outbox.frameSize;
    this.#debug(
      `partner ${found.peerId} found`,
      same ? "(again)" : "",
      "initiator:",
      found.initiator,
    );
    if (!same && this.#negotiator?.busy) this.#negotiator.close();
    this.#partnerId = found.peerId;
    this.#paired = true;
    this.initiator = found.initiator;
    this.#partnerWebrtc = found.webrtc;
    this.#stream.batching = found.batch === true;
    this.#stream.outbox.frameSize = frameSize;
    this.#negotiator?.require(frameSize);
    this.#iceServers = [...this.options.iceServers, ...found.iceServers];
    this.#stream.limits(
      Math.min(this.options.maxMessageSize, found.maxMessageSize),
      found.maxMessageSize,
    );
    this.#pacer.configure(found.relayRate ?? null);
    this.#stream.partner(same);
    this.#stream.flushAck();
    const info: PeerFoundInfo = {
      pairCode: found.pairCode,
      initiator: found.initiator,
      peerId: found.peerId,
    };
    this.emit("peer.found", info);
    this.emit(this.#everPaired ? "reconnect" : "connect");
    this.#everPaired = true;
    if (!this.#negotiator && !this.options.socketFallback) {
      this.emit(
        "error",
        new SocketPeerError(
          ErrorCode.WEBRTC_SUPPORT,
          "socketFallback is false but this runtime has no RTCPeerConnection",
        ),
      );
    }
    this.#upgradeFailures = 0;
    this.#scheduleUpgrade(0);
  }

  #onLeft(reason: "left" | "disconnected" | "kicked"): void {
    this.#debug("partner left:", reason);
    this.#paired = false;
    clearTimeout(this.#upgradeTimer);
    // A channel still open may outlive the partner's server connection; an
    // attempt in progress cannot finish without signals.
    if (reason !== "disconnected" || !this.#negotiator?.channel) this.#negotiator?.close();
    this.emit("peer.left", reason);
    if (reason === "kicked") {
      this.emit("error", new SocketPeerError(ErrorCode.KICKED, "the server removed this pair"));
      this.close();
    }
  }

  #onRefusal(notice: ErrorNotice): void {
    const err = new SocketPeerError(notice.code, notice.message);
    if (notice.code === ErrorCode.RATE_LIMITED && notice.event === WireEvent.PAIR) {
      this.emit("warning", err);
      this.#retryPair(PAIR_RETRY_AFTER_THROTTLE);
      return;
    }
    if (RECOVERABLE_CODES.has(notice.code)) {
      this.emit("warning", err);
      return;
    }
    if (FATAL_CODES.has(notice.code)) {
      this.#wantPair = false;
      clearTimeout(this.#timeoutTimer);
      if (notice.code === ErrorCode.PEER_TIMEOUT) this.emit("connect_timeout", err);
    }
    this.emit("error", err);
  }

  /** Asks to pair again after `delay` ms, unless something else happened meanwhile. */
  #retryPair(delay: number): void {
    clearTimeout(this.#rejoinTimer);
    this.#rejoinTimer = setTimeout(() => {
      if (!this.#closed && !this.#paired) this.#requestPair();
    }, delay);
  }

  /** The initiator tries the direct path after `delay` ms. */
  #scheduleUpgrade(delay: number): void {
    clearTimeout(this.#upgradeTimer);
    const negotiator = this.#negotiator;
    if (!negotiator || !this.#partnerWebrtc || !this.initiator || !this.#paired) return;
    if (this.#closed || negotiator.busy) return;
    if (this.#upgradeFailures > 0 && !this.options.reconnect) return;
    this.#upgradeTimer = setTimeout(() => {
      if (this.#paired && !this.#closed && !negotiator.busy) negotiator.offer(this.#iceServers);
    }, delay);
  }

  #sendDirect(frame: Uint8Array): void {
    const channel = this.#negotiator?.channel;
    try {
      if (!channel) throw new Error("no open DataChannel");
      channel.send(frame as Uint8Array<ArrayBuffer>);
    } catch (cause) {
      this.emit(
        "warning",
        new SocketPeerError(ErrorCode.UPGRADE, `DataChannel send failed: ${cause}`, { cause }),
      );
      // The frame stays unacknowledged; closing downgrades and resends it.
      queueMicrotask(() => this.#negotiator?.close());
    }
  }

  /**
   * Connects to the server (automatic unless `autoconnect: false`).
   *
   * @throws {SocketPeerError} `ERR_DESTROYED` after `close()`.
   */
  connect(): void {
    this.#assertOpen();
    if (this.#session.connected) {
      // An adopted socket may be connected already: pair on it.
      if (!this.#paired) this.#requestPair();
      return;
    }
    this.emit("connect_attempt");
    this.#session.connect();
  }

  /**
   * Joins a pair code (or the current one again, after `busy`).
   *
   * @param pairCode The code; the current one when omitted.
   * @throws {SocketPeerError} `ERR_INVALID_PAIR_CODE`, or `ERR_DESTROYED` after `close()`.
   *
   * @example
   * ```ts
   * peer.on("busy", () => peer.pair(prompt("Another code?")!));
   * ```
   */
  pair(pairCode?: string): void {
    this.#assertOpen();
    const code = pairCode ?? this.pairCode;
    const why = checkPairCode(code);
    if (why) throw new SocketPeerError(ErrorCode.INVALID_PAIR_CODE, why);
    if (code !== this.pairCode && this.#paired) {
      // Messages sent in this run were meant for the old partner: they go out first.
      this.#stream.pump();
      this.#paired = false;
      this.#negotiator?.close();
    }
    this.pairCode = code;
    this.#wantPair = true;
    if (this.#session.connected) this.#requestPair();
    else this.connect();
  }

  /**
   * Sends one message to the partner: a string, binary (ArrayBuffer,
   * TypedArray, DataView, Blob; it arrives as an ArrayBuffer), or under
   * `serialization: "json"`/`"binary"` any serializable value. Messages sent
   * before a partner is found wait for it.
   *
   * @returns False when `bufferedAmount` is past `highWaterMark`: wait for `drain`.
   * @throws {SocketPeerError} `ERR_DESTROYED`, `ERR_INVALID_DATA`, `ERR_MESSAGE_TOO_LARGE`.
   *
   * @example
   * ```ts
   * if (!peer.send(chunk)) await new Promise<void>((r) => peer.once("drain", () => r()));
   * ```
   */
  send(data: unknown): boolean {
    this.#assertOpen();
    return this.#stream.send(data);
  }

  /**
   * Resolves when every message sent so far has been acknowledged by the
   * partner.
   *
   * @throws {SocketPeerError} `ERR_DESTROYED` when the peer closes first.
   *
   * @example
   * ```ts
   * peer.send(lastMessage);
   * await peer.flush();
   * peer.close();
   * ```
   */
  async flush(): Promise<void> {
    this.#assertOpen();
    await this.#stream.flushed();
    if (this.#stream.outbox.length > 0) {
      throw new SocketPeerError(
        ErrorCode.DESTROYED,
        "closed before every message was acknowledged",
      );
    }
  }

  /** Payload bytes sent and not yet acknowledged by the partner. */
  get bufferedAmount(): number {
    return this.#stream.bufferedAmount;
  }

  /** The path messages take now: `"p2p"`, `"relay"`, or null. */
  get path(): PathName | null {
    return this.#closed ? null : this.#stream.path;
  }

  /** Whether the peer has a partner now. */
  get connected(): boolean {
    return this.#paired && !this.#closed;
  }

  /** Whether `close()` or `destroy()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The open direct DataChannel, or null (for inspection; do not send on it). */
  get channel(): RTCDataChannel | null {
    return this.#negotiator?.channel ?? null;
  }

  /** The current RTCPeerConnection, or null (for `getStats()` and the like). */
  get peerConnection(): RTCPeerConnection | null {
    return this.#negotiator?.connection ?? null;
  }

  /** The socket.io socket to the server. */
  get socket(): Session["socket"] {
    return this.#session.socket;
  }

  /**
   * The path in use and the traffic of each path.
   *
   * @example
   * ```ts
   * const { path, p2p, relay } = peer.stats();
   * console.log(path, p2p.bytesSent, relay.bytesSent);
   * ```
   */
  stats(): SocketPeerStats {
    const s = this.#stream.stats;
    return {
      path: this.path,
      paired: this.connected,
      pairCode: this.pairCode,
      peerId: this.peerId,
      partnerId: this.#partnerId,
      bufferedAmount: this.#stream.bufferedAmount,
      relay: { ...s.relay },
      p2p: { ...s.p2p },
      resent: this.#stream.resent,
      duplicatesDropped: this.#stream.inbox.duplicates,
      ...this.#counts,
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new SocketPeerError(ErrorCode.DESTROYED, "the peer is closed");
  }

  /**
   * Leaves the pair, closes the direct connection and the server connection,
   * and emits `close` once. Idempotent. Messages not yet acknowledged are
   * dropped: `await flush()` first to be sure they arrived.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#paired = false;
    clearTimeout(this.#upgradeTimer);
    clearTimeout(this.#timeoutTimer);
    clearTimeout(this.#rejoinTimer);
    this.#pacer.stop();
    this.#stream.close();
    this.#negotiator?.destroy();
    this.#session.leave();
    this.#session.close();
    this.emit("close");
  }

  /**
   * Like {@linkcode SocketPeer.close}; with an error, emits it as `error`
   * first (as simple-peer does).
   *
   * @param error Why the peer is destroyed.
   */
  destroy(error?: Error): void {
    if (this.#closed) return;
    if (error) {
      this.emit(
        "error",
        error instanceof SocketPeerError
          ? error
          : new SocketPeerError(ErrorCode.DESTROYED, error.message, { cause: error }),
      );
    }
    this.close();
  }
}
