// Browser-safe: no Deno or Node APIs.
/**
 * The socket.io event names of the SocketPeer protocol, in one place, and the
 * payload each carries. `protocol/README.md` describes them for implementers
 * in other languages.
 *
 * @example
 * ```ts
 * import { WireEvent } from "./events.ts";
 * socket.emit(WireEvent.PAIR, { v: 1, pairCode: "room-42", peerId: crypto.randomUUID() });
 * ```
 *
 * @module
 */
import type { ErrorCode } from "./errors.ts";

/** Every socket.io event name the protocol uses. */
export const WireEvent = {
  /** client → server: join the pair named by a pair code. */
  PAIR: "pair",
  /** client → server: leave the current pair but keep the socket. */
  LEAVE: "leave",
  /** both ways: one binary frame (see `frame.ts`), relayed to the partner unchanged. */
  DATA: "data",
  /** both ways: a WebRTC signal (offer, answer, candidate, …), relayed to the partner. */
  SIGNAL: "signal",
  /** server → client: the peer joined and waits for a partner. */
  WAITING: "peer.waiting",
  /** server → client: a partner is here; exactly one side gets `initiator: true`. */
  FOUND: "peer.found",
  /** server → client: the partner left; the peer waits for a new one. */
  LEFT: "peer.left",
  /** server → client: the pair code already has two peers. */
  BUSY: "busy",
  /** server → client: a request was refused; names a stable error code. */
  ERROR: "sp.error",
  /** client → server: how an upgrade attempt ended (for the server's metrics). */
  REPORT: "report",
} as const;

/** Body of {@linkcode WireEvent.PAIR}. */
export interface PairRequest {
  /** Protocol version spoken by the client (see `version.ts`). */
  v: number;
  /** The shared code that names the pair. */
  pairCode: string;
  /**
   * A random secret of this client instance (at least 128 bits of entropy),
   * stable across its reconnects. Nobody else ever sees it: the server
   * names the client by the first 32 hex digits of its SHA-256, and
   * presenting the same secret again resumes the client's slot and stream.
   */
  peerId: string;
  /** Whether the client can make a WebRTC connection; when false, the pair stays on the relay. */
  webrtc?: boolean;
  /**
   * Whether the client decodes BATCH frames (several frames in one transport
   * message); when absent or false, its partner sends it one frame at a time.
   */
  batch?: boolean;
  /**
   * The largest frame (or BATCH frame) the client accepts, in bytes: at
   * least 65,536. When absent, 65,536. This version announces 65,556
   * (`MAX_FRAME_SIZE`), so that a 64 KiB message is one frame.
   */
  maxFrameSize?: number;
}

/** Body of {@linkcode WireEvent.WAITING}. */
export interface WaitingNotice {
  pairCode: string;
}

/** Body of {@linkcode WireEvent.FOUND}. */
export interface PeerFound {
  pairCode: string;
  /** True for exactly one of the two peers: it makes the WebRTC offer. */
  initiator: boolean;
  /** The partner's public id: the first 32 hex digits of SHA-256 of its secret `peerId`. */
  peerId: string;
  /** Whether both peers can make a WebRTC connection, so an upgrade is worth trying. */
  webrtc: boolean;
  /** Whether both peers decode BATCH frames, so either may send them. */
  batch: boolean;
  /**
   * The largest frame either peer may send, in bytes: the smaller of what
   * both announced in `pair` and what the server relays. A client treats an
   * absent value as 65,536 (a server of an older version).
   */
  maxFrameSize: number;
  /** ICE servers to use, TURN credentials included when the server issues them. */
  iceServers: RTCIceServerInit[];
  /** The largest application message the server relays, in bytes. */
  maxMessageSize: number;
  /**
   * The relay rate the server enforces per socket (null: none). A client
   * that exceeds it is warned, then disconnected; clients pace below it.
   */
  relayRate: { messagesPerSecond: number; bytesPerSecond: number } | null;
}

/** Body of {@linkcode WireEvent.LEFT}. */
export interface PeerLeft {
  pairCode: string;
  /** `left`: the partner asked; `disconnected`: its socket dropped; `kicked`: the server removed the pair. */
  reason: "left" | "disconnected" | "kicked";
}

/** Body of {@linkcode WireEvent.BUSY}. */
export interface BusyNotice {
  pairCode: string;
  /**
   * Present when a slot is only reserved for a peer whose connection dropped:
   * the milliseconds until the reservation lapses, after which asking again
   * may succeed.
   */
  retryAfter?: number;
}

/** Body of {@linkcode WireEvent.ERROR}. */
export interface ErrorNotice {
  code: ErrorCode;
  message: string;
  /** The event that was refused, when the error answers one. */
  event?: string;
}

/** The WebRTC signal kinds the server forwards; any other is refused. */
export const SIGNAL_TYPES = ["offer", "answer", "candidate", "renegotiate", "close"] as const;

/** One of {@linkcode SIGNAL_TYPES}. */
export type SignalType = typeof SIGNAL_TYPES[number];

/**
 * Body of {@linkcode WireEvent.SIGNAL}. The server checks its shape and size
 * but never parses the SDP.
 */
export interface Signal {
  type: SignalType;
  /** Names one upgrade attempt, so signals of an abandoned attempt are ignored. */
  attempt: string;
  /** For `offer` and `answer`. */
  sdp?: string;
  /** For `candidate`; `null` marks the end of candidates. */
  candidate?: RTCIceCandidateInitLike | null;
}

/** The JSON form of an ICE candidate, as `RTCIceCandidate.toJSON()` gives it. */
export interface RTCIceCandidateInitLike {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** An ICE server entry, as `RTCConfiguration.iceServers` takes it. */
export interface RTCIceServerInit {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/**
 * Events a server emits to a client, keyed by name (socket.io's typed map).
 * Frames arrive as `ArrayBuffer` in browsers and as `Uint8Array` in Deno.
 */
export interface ServerToClientEvents {
  [WireEvent.WAITING]: (notice: WaitingNotice) => void;
  [WireEvent.FOUND]: (found: PeerFound) => void;
  [WireEvent.LEFT]: (left: PeerLeft) => void;
  [WireEvent.BUSY]: (busy: BusyNotice) => void;
  [WireEvent.ERROR]: (error: ErrorNotice) => void;
  [WireEvent.DATA]: (frame: ArrayBuffer | Uint8Array) => void;
  [WireEvent.SIGNAL]: (signal: Signal) => void;
}

/**
 * Body of {@linkcode WireEvent.REPORT}: the initiator of a pair says how an
 * upgrade attempt ended, since the server cannot see a DataChannel open.
 */
export interface UpgradeReport {
  upgrade: "succeeded" | "failed";
}

/** Events a client emits to a server, keyed by name (socket.io's typed map). */
export interface ClientToServerEvents {
  [WireEvent.REPORT]: (report: UpgradeReport) => void;
  [WireEvent.PAIR]: (request: PairRequest) => void;
  [WireEvent.LEAVE]: () => void;
  [WireEvent.DATA]: (frame: ArrayBuffer | Uint8Array) => void;
  [WireEvent.SIGNAL]: (signal: Signal) => void;
}
