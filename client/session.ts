// Browser-safe: runs in browsers and in Deno.
/**
 * The socket.io session with the server: it makes (or adopts) the socket,
 * reconnects with backoff, and turns socket.io's events into the few the
 * peer needs. It sends what the protocol defines and nothing else.
 *
 * @module
 */
import { io, type Socket } from "npm:socket.io-client@4.8.1";
// In Deno, socket.io-client's WebSocket (ws) masks what it sends with bufferutil's native code when it
// loads, instead of a JavaScript loop. Browsers mask natively: the bundle leaves it out.
import "npm:bufferutil@4.0.9";
import { Emitter } from "../protocol/emitter.ts";
import { MAX_RETRY_DELAY } from "./backoff.ts";
import {
  type ClientToServerEvents,
  type PairRequest,
  type ServerToClientEvents,
  type Signal,
  WireEvent,
} from "../protocol/events.ts";

/** The client's typed socket. */
export type PeerClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** What a Session reports. */
export interface SessionEvents {
  [event: string]: unknown[];
  /** The socket connected (first time or again). */
  open: [];
  /** The socket disconnected; `willReconnect` says whether socket.io retries. */
  lost: [reason: string, willReconnect: boolean];
  /** Connecting failed (refused by the server, or unreachable). */
  refused: [error: Error];
  /** socket.io starts reconnection attempt `n`. */
  attempt: [n: number];
}

/**
 * Splits a SocketPeer URL into the origin socket.io connects to and the
 * socket.io path under the SocketPeer prefix.
 *
 * @example
 * ```ts
 * endpoint("https://example.com/socketpeer/");
 * // { origin: "https://example.com", path: "/socketpeer/socket.io/" }
 * ```
 */
export function endpoint(url: string): { origin: string; path: string } {
  const parsed = new URL(url);
  let prefix = parsed.pathname === "/" ? "/socketpeer/" : parsed.pathname;
  if (!prefix.endsWith("/")) prefix += "/";
  return { origin: parsed.origin, path: `${prefix}socket.io/` };
}

/** One peer's connection to the server. */
export class Session extends Emitter<SessionEvents> {
  readonly socket: PeerClientSocket;
  #owns: boolean;
  #detach: () => void;

  /**
   * @param options `url` (or an existing `socket`), and the reconnection policy.
   */
  constructor(options: {
    url: string;
    socket?: Socket;
    reconnect: boolean;
    reconnectDelay: number;
  }) {
    super();
    this.#owns = !options.socket;
    if (options.socket) {
      this.socket = options.socket as PeerClientSocket;
    } else {
      const { origin, path } = endpoint(options.url);
      this.socket = io(origin, {
        path,
        autoConnect: false,
        transports: ["websocket", "polling"],
        tryAllTransports: true,
        reconnection: options.reconnect,
        reconnectionDelay: Math.max(1, options.reconnectDelay),
        reconnectionDelayMax: MAX_RETRY_DELAY,
      }) as PeerClientSocket;
    }
    const socket = this.socket;
    const onOpen = () => this.emit("open");
    const onLost = (reason: string) => {
      // socket.io retries by itself unless the server or the client ended it.
      const willReconnect = socket.io.opts.reconnection !== false &&
        reason !== "io server disconnect" && reason !== "io client disconnect";
      this.emit("lost", reason, willReconnect);
    };
    const onError = (err: Error) => this.emit("refused", err);
    const onAttempt = (n: number) => this.emit("attempt", n);
    socket.on("connect", onOpen);
    socket.on("disconnect", onLost);
    socket.on("connect_error", onError);
    socket.io.on("reconnect_attempt", onAttempt);
    this.#detach = () => {
      socket.off("connect", onOpen);
      socket.off("disconnect", onLost);
      socket.off("connect_error", onError);
      socket.io.off("reconnect_attempt", onAttempt);
    };
  }

  /** Whether the socket is connected. */
  get connected(): boolean {
    return this.socket.connected;
  }

  /** Opens the socket (or notes it is open already). */
  connect(): void {
    if (this.socket.connected) {
      queueMicrotask(() => this.emit("open"));
      return;
    }
    this.socket.connect();
  }

  /** Subscribes to one server event. */
  onServer<E extends keyof ServerToClientEvents>(
    event: E,
    listener: ServerToClientEvents[E],
  ): void {
    // deno-lint-ignore no-explicit-any
    this.socket.on(event, listener as any);
    const previous = this.#detach;
    this.#detach = () => {
      previous();
      // deno-lint-ignore no-explicit-any
      this.socket.off(event, listener as any);
    };
  }

  /** Asks to join a pair. */
  pair(request: PairRequest): void {
    this.socket.emit(WireEvent.PAIR, request);
  }

  /** Leaves the current pair, keeping the socket. */
  leave(): void {
    if (this.socket.connected) this.socket.emit(WireEvent.LEAVE);
  }

  /** Sends one frame to the partner through the relay. */
  sendFrame(frame: Uint8Array): void {
    this.socket.emit(WireEvent.DATA, frame);
  }

  /** Tells the server how an upgrade attempt ended (for its metrics). */
  report(upgrade: "succeeded" | "failed"): void {
    if (this.socket.connected) this.socket.emit(WireEvent.REPORT, { upgrade });
  }

  /** Sends one WebRTC signal to the partner through the server. */
  signal(signal: Signal): void {
    if (this.socket.connected) this.socket.emit(WireEvent.SIGNAL, signal);
  }

  /** Stops listening, and closes the socket when the session made it. */
  close(): void {
    this.#detach();
    if (this.#owns) this.socket.disconnect();
    this.removeAllListeners();
  }
}
