// Browser-safe: runs in browsers and in Deno.
/**
 * The options of {@linkcode SocketPeer}: the 1.x options, unchanged in
 * meaning, and the new ones. A bad option throws `ERR_INVALID_OPTION` from
 * the constructor.
 *
 * @module
 */
import type { Socket } from "npm:socket.io-client@4.8.1";
import { ErrorCode, SocketPeerError } from "../protocol/errors.ts";
import type { RTCIceServerInit } from "../protocol/events.ts";
import {
  BINARY_TYPES,
  type BinaryType,
  type Serialization,
  SERIALIZATIONS,
} from "../protocol/serialization.ts";
import { checkPairCode } from "../protocol/validate.ts";

/**
 * An RTCPeerConnection implementation (the `wrtc` option): any module or
 * object with a W3C `RTCPeerConnection` constructor, such as
 * `npm:node-datachannel@0.33.4/polyfill`. Its type is left open because such
 * polyfills declare their own classes.
 */
export interface WebRtcImplementation {
  RTCPeerConnection: unknown;
}

/** Options of a SocketPeer client. Every field is optional. */
export interface SocketPeerOptions {
  /**
   * The code both peers share. Without it the peer connects but pairs only
   * when {@linkcode SocketPeer.pair} is called.
   * @default {undefined}
   */
  pairCode?: string;
  /**
   * The server's SocketPeer URL, e.g. `https://example.com/socketpeer/`.
   * A URL without a path uses `/socketpeer/`.
   * @default {the directory of the script that loaded the client, in a browser}
   */
  url?: string;
  /**
   * Carry data through the server's relay while there is no direct
   * connection. When false, data waits for the DataChannel.
   * @default {true}
   */
  socketFallback?: boolean;
  /**
   * Reconnect to the server, and try the direct connection again, after
   * either drops.
   * @default {true}
   */
  reconnect?: boolean;
  /**
   * Base delay in ms between reconnection and upgrade attempts; it doubles
   * after each failure, up to 30 s. A failed upgrade attempt is retried at
   * once the first time.
   * @default {1000}
   */
  reconnectDelay?: number;
  /**
   * Milliseconds to wait for a partner after connecting; past it the peer
   * emits `connect_timeout` and `error` and closes. 0 waits forever.
   * @default {0}
   */
  timeout?: number;
  /**
   * Connect as soon as the peer is made. When false, call {@linkcode SocketPeer.connect}.
   * @default {true}
   */
  autoconnect?: boolean;
  /**
   * Log the peer's steps to the console.
   * @default {false}
   */
  debug?: boolean;
  /**
   * ICE servers for the direct connection; added to those the server hands out.
   * @default {[]}
   */
  iceServers?: RTCIceServerInit[];
  /**
   * Further RTCPeerConnection configuration (e.g. `iceTransportPolicy`).
   * @default {{}}
   */
  rtcConfig?: RTCConfiguration;
  /**
   * How values other than strings and binary are encoded: `"json"`,
   * `"binary"` (MessagePack, binary fields allowed), or `"raw"` (strings and
   * binary only).
   * @default {"json"}
   */
  serialization?: Serialization;
  /**
   * How binary messages arrive: `"arraybuffer"`, each an ArrayBuffer of its
   * own, or `"uint8array"`, each a Uint8Array viewing the bytes as they were
   * received, without the copy an ArrayBuffer takes (for high throughput).
   * @default {"arraybuffer"}
   */
  binaryType?: BinaryType;
  /**
   * An RTCPeerConnection implementation where the runtime has none, e.g.
   * `await import("npm:node-datachannel@0.33.4/polyfill")` in Deno. Without
   * one (and without a global RTCPeerConnection) the peer stays on the relay.
   * @default {globalThis}
   */
  wrtc?: WebRtcImplementation;
  /**
   * An existing socket.io-client socket to use instead of making one. It
   * must point at the SocketPeer namespace and path; SocketPeer does not
   * close it.
   * @default {undefined}
   */
  socket?: Socket;
  /**
   * The largest message this peer sends, in bytes (the server's limit
   * applies too, when lower). Larger sends throw `ERR_MESSAGE_TOO_LARGE`.
   * Incoming messages are held to the server's limit.
   * @default {16777216} (16 MiB)
   */
  maxMessageSize?: number;
  /**
   * `send()` returns false once this many bytes are unacknowledged; `drain`
   * follows when they fall below half of it.
   * @default {8388608} (8 MiB)
   */
  highWaterMark?: number;
  /**
   * Milliseconds one upgrade attempt may take before it counts as failed.
   * @default {15000}
   */
  upgradeTimeout?: number;
}

/** The options after defaults. */
export interface ResolvedClientOptions {
  pairCode?: string;
  url: string;
  socketFallback: boolean;
  reconnect: boolean;
  reconnectDelay: number;
  timeout: number;
  autoconnect: boolean;
  debug: boolean;
  iceServers: RTCIceServerInit[];
  rtcConfig: RTCConfiguration;
  serialization: Serialization;
  binaryType: BinaryType;
  wrtc?: WebRtcImplementation;
  socket?: Socket;
  maxMessageSize: number;
  highWaterMark: number;
  upgradeTimeout: number;
}

function bad(message: string): SocketPeerError {
  return new SocketPeerError(ErrorCode.INVALID_OPTION, message);
}

function count(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw bad(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw bad(`${name} must be true or false`);
  return value;
}

/**
 * Applies defaults and checks every option.
 *
 * @param options What the user gave.
 * @param defaultUrl The URL used when `options.url` is missing.
 * @returns The complete options.
 * @throws {SocketPeerError} `ERR_INVALID_OPTION` naming the bad option.
 */
export function resolveClientOptions(
  options: SocketPeerOptions,
  defaultUrl: string | undefined,
): ResolvedClientOptions {
  if (options === null || typeof options !== "object") throw bad("options must be an object");
  if (options.pairCode !== undefined) {
    const why = checkPairCode(options.pairCode);
    if (why) throw new SocketPeerError(ErrorCode.INVALID_PAIR_CODE, why);
  }
  const url = options.url ?? defaultUrl;
  if (!options.socket) {
    if (typeof url !== "string") {
      throw bad("url is required outside a page that loaded /socketpeer/socketpeer.js");
    }
    try {
      new URL(url);
    } catch {
      throw bad(`url must be an absolute http(s) URL, got ${url}`);
    }
  }
  const serialization = options.serialization ?? "json";
  if (!SERIALIZATIONS.includes(serialization)) {
    throw bad(`serialization must be one of ${SERIALIZATIONS.join(", ")}`);
  }
  const binaryType = options.binaryType ?? "arraybuffer";
  if (!BINARY_TYPES.includes(binaryType)) {
    throw bad(`binaryType must be one of ${BINARY_TYPES.join(", ")}`);
  }
  if (options.wrtc !== undefined && typeof options.wrtc?.RTCPeerConnection !== "function") {
    throw bad("wrtc must provide an RTCPeerConnection constructor");
  }
  if (options.iceServers !== undefined && !Array.isArray(options.iceServers)) {
    throw bad("iceServers must be an array");
  }
  const maxMessageSize = count("maxMessageSize", options.maxMessageSize, 16 * 1024 * 1024);
  if (maxMessageSize < 1) throw bad("maxMessageSize must be at least 1");
  return {
    pairCode: options.pairCode,
    url: url ?? "",
    socketFallback: flag("socketFallback", options.socketFallback, true),
    reconnect: flag("reconnect", options.reconnect, true),
    reconnectDelay: count("reconnectDelay", options.reconnectDelay, 1000),
    timeout: count("timeout", options.timeout, 0),
    autoconnect: flag("autoconnect", options.autoconnect, true),
    debug: flag("debug", options.debug, false),
    iceServers: options.iceServers ?? [],
    rtcConfig: options.rtcConfig ?? {},
    serialization,
    binaryType,
    wrtc: options.wrtc,
    socket: options.socket,
    maxMessageSize,
    highWaterMark: count("highWaterMark", options.highWaterMark, 8 * 1024 * 1024),
    upgradeTimeout: count("upgradeTimeout", options.upgradeTimeout, 15_000),
  };
}
