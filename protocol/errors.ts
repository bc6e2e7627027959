// Browser-safe: no Deno or Node APIs.
/**
 * Every error SocketPeer reports carries one of these stable codes, on the
 * wire (in `sp.error` payloads) and on `SocketPeerError.code`.
 *
 * @example
 * ```ts
 * import { ErrorCode } from "./errors.ts";
 * peer.on("error", (err) => {
 *   if (err.code === ErrorCode.BUSY) console.log("that pair code is taken");
 * });
 * ```
 */
export const ErrorCode = {
  /** The pair code already has two peers. */
  BUSY: "ERR_BUSY",
  /** The pair code is missing, too long, of a forbidden charset, or refused by `pairCodeValidator`. */
  INVALID_PAIR_CODE: "ERR_INVALID_PAIR_CODE",
  /** A payload did not have the shape the protocol requires. */
  INVALID_PAYLOAD: "ERR_INVALID_PAYLOAD",
  /** The client speaks a protocol version the server does not. */
  PROTOCOL_VERSION: "ERR_PROTOCOL_VERSION",
  /** Data or a signal was sent by a socket that has no partner. */
  NOT_PAIRED: "ERR_NOT_PAIRED",
  /** A message or frame is larger than the configured limit. */
  MESSAGE_TOO_LARGE: "ERR_MESSAGE_TOO_LARGE",
  /** The value given to `send()` cannot be sent with the chosen serialization. */
  INVALID_DATA: "ERR_INVALID_DATA",
  /** An option given to a constructor is invalid. */
  INVALID_OPTION: "ERR_INVALID_OPTION",
  /** The peer was closed or destroyed; it can no longer send. */
  DESTROYED: "ERR_DESTROYED",
  /** The connection to the server failed or was refused. */
  CONNECTION: "ERR_CONNECTION",
  /** No partner was found before `timeout` elapsed. */
  TIMEOUT: "ERR_TIMEOUT",
  /** A peer waited for a partner longer than the server's `peerTimeout`. */
  PEER_TIMEOUT: "ERR_PEER_TIMEOUT",
  /** The browser or runtime offered no RTCPeerConnection. */
  WEBRTC_SUPPORT: "ERR_WEBRTC_SUPPORT",
  /** An upgrade to a direct connection failed (ICE, SDP, or timeout). */
  UPGRADE: "ERR_UPGRADE",
  /** The origin of the request is not in `allowedOrigins`. */
  ORIGIN: "ERR_ORIGIN",
  /** The server removed the pair (`leave(pairCode)` or shutdown). */
  KICKED: "ERR_KICKED",
  /** The server's `authorize` hook refused the connection. */
  UNAUTHORIZED: "ERR_UNAUTHORIZED",
  /** The address holds too many connections (`maxConnectionsPerIp`). */
  TOO_MANY_CONNECTIONS: "ERR_TOO_MANY_CONNECTIONS",
  /** Too many frames, bytes or pair requests: a warning first, then a disconnect. */
  RATE_LIMITED: "ERR_RATE_LIMITED",
  /** The peer did not read what was relayed to it fast enough; it was disconnected. */
  SLOW_CONSUMER: "ERR_SLOW_CONSUMER",
} as const;

/** One of the stable error codes in {@linkcode ErrorCode}. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/**
 * The one error type of SocketPeer: a message plus a stable `code`.
 *
 * @example
 * ```ts
 * import { ErrorCode, SocketPeerError } from "./errors.ts";
 * throw new SocketPeerError(ErrorCode.DESTROYED, "cannot send after close()");
 * ```
 */
export class SocketPeerError extends Error {
  /** The stable code: switch on it, not on the message. */
  readonly code: ErrorCode;

  /**
   * @param code A stable code from {@linkcode ErrorCode}.
   * @param message A readable explanation.
   * @param options `cause`, forwarded to `Error`.
   */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SocketPeerError";
    this.code = code;
  }
}
