/**
 * The options of {@linkcode SocketPeerServer}, their defaults, and their
 * checks. A bad option throws `ERR_INVALID_OPTION` at construction, never
 * later.
 *
 * @module
 */
import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Server as IoServer } from "npm:socket.io@4.8.1";
import { ErrorCode, SocketPeerError } from "../protocol/errors.ts";
import type { RTCIceServerInit } from "../protocol/events.ts";
import type { PairRegistry } from "./registry.ts";
import type { RelayRate } from "./limits.ts";
import type { TurnOptions } from "./turn.ts";

/** Options of a SocketPeer server. Every field is optional. */
export interface SocketPeerServerOptions {
  /**
   * Port to listen on when the server makes its own HTTP server (neither
   * `httpServer` nor `io` given). Use 0 for a free port.
   * @default {3000}
   */
  port?: number;
  /**
   * Interface to listen on when the server makes its own HTTP server.
   * @default {"0.0.0.0"}
   */
  host?: string;
  /** An existing `node:http` or `node:https` server to attach to (an Express app's, say). */
  httpServer?: HttpServer | HttpsServer;
  /** An existing socket.io `Server` to reuse; SocketPeer adds its handlers to its default namespace. */
  io?: IoServer;
  /**
   * URL prefix for everything SocketPeer serves: the client library
   * (`<path>socketpeer.js`), health, and the socket.io endpoint
   * (`<path>socket.io/`). Must start and end with `/`.
   * @default {"/socketpeer/"}
   */
  path?: string;
  /**
   * Serve the browser client at `<path>socketpeer.js`, `.min.js`, `.mjs` and their source maps.
   * @default {true}
   */
  serveLibrary?: boolean;
  /**
   * Serve the demo chat page at `/` (and `/index.html`).
   * @default {true when SocketPeer makes its own HTTP server; false when given `httpServer` or `io`,
   * so that an app's home page stays its own}
   */
  serveDemo?: boolean;
  /**
   * Extra check of pair codes, after the built-in bounds (1–128 characters of
   * letters, digits and `. _ ~ : @ + = -`). Return (or resolve) false, or
   * throw, to refuse with `ERR_INVALID_PAIR_CODE`.
   * @default {undefined}
   */
  pairCodeValidator?: (pairCode: string) => boolean | Promise<boolean>;
  /**
   * Origins allowed to connect, e.g. `["https://app.example.com"]`. A request
   * whose `Origin` header is not listed is refused on every transport.
   * Requests without an `Origin` (non-browser clients) are allowed.
   * `undefined` allows every origin.
   * @default {undefined}
   */
  allowedOrigins?: string[];
  /**
   * Milliseconds a peer may wait for a partner; past it the server refuses it
   * with `ERR_PEER_TIMEOUT` and disconnects it. 0 waits forever.
   * @default {0}
   */
  peerTimeout?: number;
  /**
   * The largest application message relayed, in bytes. Larger messages are
   * refused with `ERR_MESSAGE_TOO_LARGE`; clients learn the limit on pairing
   * and refuse such sends locally first.
   * @default {16777216} (16 MiB)
   */
  maxMessageSize?: number;
  /**
   * ICE servers handed to clients on pairing (STUN/TURN), e.g.
   * `[{ urls: "stun:stun.example.com:3478" }]`. Without any, peers connect
   * directly only where host candidates reach each other (same host or LAN).
   * @default {[]}
   */
  iceServers?: RTCIceServerInit[];
  /**
   * Issue time-limited TURN credentials (coturn `use-auth-secret`) to each
   * paired peer, added to `iceServers`.
   * @default {undefined}
   */
  turn?: TurnOptions;
  /**
   * Where pairing state lives.
   * @default {new MemoryPairRegistry()}
   */
  registry?: PairRegistry;
  /**
   * Cluster mode: several server processes behind one address share pairing
   * state, and relay to each other's peers, through one Redis (7 or later; a
   * single primary, not Redis Cluster). See DEPLOY.md. `server.ts` takes the
   * URL from `REDIS_URL`. Not together with `registry`.
   * @default {undefined} (one process, pairing state in memory)
   */
  redis?: RedisOptions;
  /**
   * Decides whether a connection may proceed, from its handshake (headers,
   * query, `auth` payload, address). Return (or resolve) false, or throw, to
   * refuse: the client gets `connect_error` with code `ERR_UNAUTHORIZED`.
   * @default {undefined} (everyone may connect)
   */
  authorize?: (handshake: HandshakeInfo) => boolean | Promise<boolean>;
  /**
   * Open connections one address may hold; more are refused with
   * `ERR_TOO_MANY_CONNECTIONS`. 0 lifts the cap.
   * @default {50}
   */
  maxConnectionsPerIp?: number;
  /**
   * Addresses the per-address limits (`maxConnectionsPerIp`,
   * `pairRequestsPerMinute`) do not apply to. Loopback by default: local
   * tools and tests, and a proxy on the same host when `trustProxy` is off
   * (set `trustProxy` instead, so that each client is limited).
   * @default {["127.0.0.1", "::1", "::ffff:127.0.0.1"]}
   */
  exemptAddresses?: string[];
  /**
   * Take the client address from the first `X-Forwarded-For` entry (set this
   * only behind a proxy you run, which overwrites that header).
   * @default {false}
   */
  trustProxy?: boolean;
  /**
   * The relay rate one socket may send at: relay packets (`data` events, each
   * one frame or a BATCH of frames up to 64 KiB, and signals) and bytes a
   * second. Past it the socket is warned (`ERR_RATE_LIMITED`), and
   * disconnected if it keeps on for 3 s. Clients learn the rate on pairing
   * and pace themselves below it. `false` lifts it.
   * @default {{ messagesPerSecond: 5000, bytesPerSecond: 16777216 }}
   */
  relayRate?: RelayRate | false;
  /**
   * `pair` requests one address may make a minute (guessing pair codes
   * costs this); more are refused with `ERR_RATE_LIMITED`.
   * @default {60}
   */
  pairRequestsPerMinute?: number;
  /**
   * Bytes the server may hold for a receiver that does not read. Past it the
   * receiver is disconnected with `ERR_SLOW_CONSUMER` (its client reconnects
   * and the senders resend), so server memory stays bounded.
   * @default {8388608} (8 MiB)
   */
  maxRelayBacklog?: number;
  /**
   * Milliseconds a peer's slot stays reserved after its connection drops, so
   * that only the same client (presenting its secret `peerId`) can take it
   * back; others get `busy` meanwhile.
   * @default {15000}
   */
  resumeGrace?: number;
}

/** The `redis` option: where the cluster's Redis is. */
export interface RedisOptions {
  /** `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. */
  url: string;
  /**
   * Prefix of every key and channel, so that several deployments can share a Redis.
   * @default {"socketpeer:"}
   */
  prefix?: string;
  /**
   * Milliseconds without a heartbeat after which a node counts as dead: its
   * pairs are removed and their partners told. Heartbeats go four times as often.
   * @default {10000}
   */
  nodeTimeout?: number;
}

/** The `redis` option after defaults. */
export type ResolvedRedisOptions = Required<RedisOptions>;

function resolveRedisOptions(options: SocketPeerServerOptions): ResolvedRedisOptions | undefined {
  const { redis } = options;
  if (redis === undefined) return undefined;
  if (options.registry) throw bad("give either redis or registry, not both");
  if (typeof redis?.url !== "string" || !/^rediss?:\/\/[^/]/.test(redis.url)) {
    throw bad(`redis.url must be a redis:// or rediss:// URL, got ${String(redis?.url)}`);
  }
  const prefix = redis.prefix ?? "socketpeer:";
  if (typeof prefix !== "string") throw bad("redis.prefix must be a string");
  const nodeTimeout = nonNegativeInteger("redis.nodeTimeout", redis.nodeTimeout, 10_000);
  if (nodeTimeout < 1000) throw bad("redis.nodeTimeout must be at least 1000 ms");
  return { url: redis.url, prefix, nodeTimeout };
}

/** What `authorize` sees of a connection. */
export interface HandshakeInfo {
  /** The request headers of the handshake. */
  headers: Record<string, string | string[] | undefined>;
  /** The query parameters of the handshake. */
  query: Record<string, unknown>;
  /** The `auth` payload the client sent (socket.io's `auth` option). */
  auth: Record<string, unknown>;
  /** The client's address (see `trustProxy`). */
  address: string;
}

/** The options after defaults. */
export interface ResolvedServerOptions {
  port: number;
  host: string;
  path: string;
  serveLibrary: boolean;
  serveDemo: boolean;
  pairCodeValidator?: (pairCode: string) => boolean | Promise<boolean>;
  allowedOrigins?: string[];
  peerTimeout: number;
  maxMessageSize: number;
  iceServers: RTCIceServerInit[];
  turn?: TurnOptions;
  authorize?: (handshake: HandshakeInfo) => boolean | Promise<boolean>;
  maxConnectionsPerIp: number;
  trustProxy: boolean;
  exemptAddresses: string[];
  relayRate: RelayRate | false;
  pairRequestsPerMinute: number;
  maxRelayBacklog: number;
  resumeGrace: number;
  redis?: ResolvedRedisOptions;
}

function bad(message: string): SocketPeerError {
  return new SocketPeerError(ErrorCode.INVALID_OPTION, message);
}

function nonNegativeInteger(name: string, value: unknown, fallback: number): number {
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
 * @returns The complete options.
 * @throws {SocketPeerError} `ERR_INVALID_OPTION` naming the bad option.
 *
 * @example
 * ```ts
 * resolveServerOptions({ path: "/p2p/" }).maxMessageSize; // 16777216
 * ```
 */
export function resolveServerOptions(options: SocketPeerServerOptions): ResolvedServerOptions {
  const path = options.path ?? "/socketpeer/";
  if (
    typeof path !== "string" || !/^\/([\w.~-]+\/)+$/.test(path) || /\/\.{1,2}\//.test(path)
  ) {
    throw bad(
      `path must be one or more segments that start and end with "/" (like "/socketpeer/"), got ${
        String(path)
      }`,
    );
  }
  const port = nonNegativeInteger("port", options.port, 3000);
  if (port > 65535) throw bad(`port must be at most 65535, got ${port}`);
  const maxMessageSize = nonNegativeInteger(
    "maxMessageSize",
    options.maxMessageSize,
    16 * 1024 * 1024,
  );
  if (maxMessageSize < 1) throw bad("maxMessageSize must be at least 1");
  if (
    options.allowedOrigins !== undefined &&
    (!Array.isArray(options.allowedOrigins) ||
      options.allowedOrigins.some((o) => typeof o !== "string"))
  ) {
    throw bad("allowedOrigins must be an array of origin strings");
  }
  if (
    options.pairCodeValidator !== undefined && typeof options.pairCodeValidator !== "function"
  ) {
    throw bad("pairCodeValidator must be a function");
  }
  if (options.iceServers !== undefined && !Array.isArray(options.iceServers)) {
    throw bad("iceServers must be an array of RTCIceServer entries");
  }
  if (options.turn !== undefined) {
    const { secret, urls, ttl } = options.turn;
    if (typeof secret !== "string" || secret.length === 0) {
      throw bad("turn.secret must be a non-empty string");
    }
    if (typeof urls !== "string" && !Array.isArray(urls)) {
      throw bad("turn.urls must be a URL or an array of URLs");
    }
    nonNegativeInteger("turn.ttl", ttl, 86_400);
  }
  if (
    options.exemptAddresses !== undefined &&
    (!Array.isArray(options.exemptAddresses) ||
      options.exemptAddresses.some((a) => typeof a !== "string"))
  ) {
    throw bad("exemptAddresses must be an array of addresses");
  }
  if (options.authorize !== undefined && typeof options.authorize !== "function") {
    throw bad("authorize must be a function");
  }
  let relayRate: RelayRate | false = {
    messagesPerSecond: 5000,
    bytesPerSecond: 16 * 1024 * 1024,
  };
  if (options.relayRate === false) {
    relayRate = false;
  } else if (options.relayRate !== undefined) {
    const { messagesPerSecond, bytesPerSecond } = options.relayRate;
    relayRate = {
      messagesPerSecond: nonNegativeInteger(
        "relayRate.messagesPerSecond",
        messagesPerSecond,
        relayRate.messagesPerSecond,
      ),
      bytesPerSecond: nonNegativeInteger(
        "relayRate.bytesPerSecond",
        bytesPerSecond,
        relayRate.bytesPerSecond,
      ),
    };
    if (relayRate.messagesPerSecond < 1 || relayRate.bytesPerSecond < 65_536) {
      throw bad("relayRate must allow at least 1 message and 65536 bytes a second");
    }
  }
  return {
    port,
    host: options.host ?? "0.0.0.0",
    path,
    serveLibrary: options.serveLibrary ?? true,
    serveDemo: options.serveDemo ?? (!options.httpServer && !options.io),
    pairCodeValidator: options.pairCodeValidator,
    allowedOrigins: options.allowedOrigins?.map((o) => o.replace(/\/$/, "")),
    peerTimeout: nonNegativeInteger("peerTimeout", options.peerTimeout, 0),
    maxMessageSize,
    iceServers: options.iceServers ?? [],
    turn: options.turn,
    authorize: options.authorize,
    maxConnectionsPerIp: nonNegativeInteger("maxConnectionsPerIp", options.maxConnectionsPerIp, 50),
    trustProxy: flag("trustProxy", options.trustProxy, false),
    exemptAddresses: options.exemptAddresses ?? ["127.0.0.1", "::1", "::ffff:127.0.0.1"],
    relayRate,
    pairRequestsPerMinute: nonNegativeInteger(
      "pairRequestsPerMinute",
      options.pairRequestsPerMinute,
      60,
    ),
    maxRelayBacklog: nonNegativeInteger(
      "maxRelayBacklog",
      options.maxRelayBacklog,
      8 * 1024 * 1024,
    ),
    resumeGrace: nonNegativeInteger("resumeGrace", options.resumeGrace, 15_000),
    redis: resolveRedisOptions(options),
  };
}
