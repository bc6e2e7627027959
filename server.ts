/**
 * The SocketPeer server: pairs peers by pair code, relays their data and
 * WebRTC signals over socket.io, and serves the browser client and a demo.
 *
 * Run it: `deno run -A server.ts` (listens on `PORT`, default 3000, and
 * `HOST`, default 0.0.0.0; with `REDIS_URL`, joins the cluster of nodes that
 * share that Redis: see DEPLOY.md).
 *
 * @example
 * ```ts
 * import { SocketPeerServer } from "./server.ts";
 * const server = new SocketPeerServer({ port: 3000 });
 * await server.ready;
 * console.log(`pair at ${server.url}`);
 * ```
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { Server } from "npm:socket.io@4.8.1";
// engine.io's WebSocket server (ws) unmasks what clients send with bufferutil's native code when it
// loads, instead of a JavaScript loop (bench: ~1.6 CPU s per GB in JavaScript).
import "npm:bufferutil@4.0.9";
import { Emitter } from "./protocol/emitter.ts";
import { PROTOCOL_VERSION } from "./protocol/version.ts";
import type { ServerEvents } from "./server/events.ts";
import { attachRequestHandler, createRequestHandler } from "./server/http.ts";
import { Hub } from "./server/hub.ts";
import {
  type ResolvedServerOptions,
  resolveServerOptions,
  type SocketPeerServerOptions,
} from "./server/options.ts";
import { Pairing } from "./server/pairing.ts";
import type { PeerServer, PeerSocket } from "./server/peer_socket.ts";
import { authorization } from "./server/authorize.ts";
import {
  AddressThrottle,
  capPacketRate,
  ConnectionCounter,
  type EngineConnection,
  MAX_HTTP_BUFFER_SIZE,
} from "./server/limits.ts";
import { peerListeners } from "./server/listeners.ts";
import {
  type AllowRequest,
  clientAddress,
  connectionCap,
  oneSocketPerConnection,
  originPolicy,
} from "./server/policy.ts";
import { MemoryPairRegistry } from "./server/registry.ts";
import { Relay } from "./server/relay.ts";
import { RelayCounters, type ServerStats } from "./server/stats.ts";
import { fetchThrough } from "./server/fetch_bridge.ts";
import { formatMetrics } from "./server/metrics.ts";
import type { ResolvedRedisOptions } from "./server/options.ts";
import type { Cluster } from "./server/cluster.ts";

// Cluster mode's module, imported only when it is used: its npm packages
// (ioredis, the Redis adapter) are then not even fetched without Redis.
type ClusterModule = typeof import("./server/cluster.ts");
const CLUSTER_MODULE = new URL("./server/cluster.ts", import.meta.url).href;

export type { HandshakeInfo, RedisOptions, SocketPeerServerOptions } from "./server/options.ts";
export type { RelayRate } from "./server/limits.ts";
export type { ServerEvents } from "./server/events.ts";
export type { ServerStats } from "./server/stats.ts";
export type { JoinResult, PairMember, PairRegistry, RegistryStats } from "./server/registry.ts";
export { MemoryPairRegistry } from "./server/registry.ts";
export type { TurnOptions } from "./server/turn.ts";

type EngineOn = (event: "close", listener: () => void) => void;

/**
 * A SocketPeer server. It listens by itself (`{ port, host }`), attaches to
 * an existing `node:http`/`https` server (`{ httpServer }`), or reuses a
 * socket.io server (`{ io }`); Deno.serve-style apps share their port with it
 * through {@linkcode SocketPeerServer.fetch}.
 *
 * Events: `pair`, `unpair`, `busy`, `refused` (see {@linkcode ServerEvents}).
 *
 * @example Attach to an existing HTTP server
 * ```ts
 * import { createServer } from "node:http";
 * const httpServer = createServer(app);
 * const peers = new SocketPeerServer({ httpServer });
 * httpServer.listen(8080);
 * ```
 */
export class SocketPeerServer extends Emitter<ServerEvents> {
  /** The socket.io server carrying the protocol. */
  readonly io: PeerServer;
  /** The HTTP server SocketPeer serves on, when it has one. */
  readonly httpServer?: HttpServer | HttpsServer;
  /** Resolves once the server listens (at once when it was given a server). */
  readonly ready: Promise<void>;
  /** The options in force, defaults applied. */
  readonly options: Readonly<ResolvedServerOptions>;

  #hub: Hub;
  #pairing: Pairing;
  #ownsHttpServer: boolean;
  #ownsIo: boolean;
  #closed?: Promise<void>;
  #connectionListener: (socket: PeerSocket) => void;
  #cluster?: Cluster;

  /**
   * @param options See {@linkcode SocketPeerServerOptions}; all optional.
   * @throws {SocketPeerError} `ERR_INVALID_OPTION` for an invalid option.
   */
  constructor(options: SocketPeerServerOptions = {}) {
    super();
    this.options = resolveServerOptions(options);
    const opts = this.options;
    const counters = new RelayCounters();
    const registry = options.registry ?? new MemoryPairRegistry();

    this.#ownsIo = !options.io;
    this.httpServer = options.httpServer ??
      (options.io?.httpServer as HttpServer | undefined) ??
      (options.io ? undefined : createServer());
    this.#ownsHttpServer = !options.httpServer && !options.io;

    const handler = createRequestHandler(opts, () => this.#health(), () => this.#metrics());
    if (this.httpServer) {
      attachRequestHandler(this.httpServer, (req, res) => !this.#closed && handler(req, res));
    }

    const connections = new ConnectionCounter();
    const exempt = new Set(opts.exemptAddresses);
    const addressOf = (req: IncomingMessage) => clientAddress(req, opts.trustProxy);
    const admission = (next?: AllowRequest) =>
      originPolicy(
        opts.allowedOrigins,
        connectionCap(
          (a) => exempt.has(a) ? 0 : connections.count(a),
          opts.maxConnectionsPerIp,
          addressOf,
          next,
        ),
      );
    if (options.io) {
      this.io = options.io as PeerServer;
      const engineOpts = (this.io.engine as unknown as { opts: Record<string, unknown> }).opts;
      engineOpts.allowRequest = admission(engineOpts.allowRequest as AllowRequest | undefined);
    } else {
      this.io = new Server(this.httpServer, {
        path: `${opts.path}socket.io/`,
        serveClient: false,
        maxHttpBufferSize: MAX_HTTP_BUFFER_SIZE,
        perMessageDeflate: false,
        httpCompression: false,
        // A peer that vanishes without a FIN is noticed within 15 s.
        pingInterval: 10_000,
        pingTimeout: 5_000,
        connectTimeout: 10_000,
        cors: { origin: opts.allowedOrigins ?? true, credentials: false },
        allowRequest: admission(),
      }) as PeerServer;
    }
    type Conn = EngineConnection & { request: IncomingMessage } & { on: EngineOn };
    this.io.engine.on("connection", (conn: Conn) => {
      const address = addressOf(conn.request);
      connections.tryAdd(address, Number.MAX_SAFE_INTEGER);
      // engine.io emits "close" once: `on` spares the wrapper that `once` makes per connection.
      conn.on("close", () => connections.remove(address));
      if (opts.relayRate) capPacketRate(conn, opts.relayRate);
    });
    this.io.use(oneSocketPerConnection());
    if (opts.authorize) this.io.use(authorization(opts.authorize, addressOf));
    this.#hub = new Hub(this.io, registry, opts, counters, this);
    this.#pairing = new Pairing(this.#hub);
    this.#connectionListener = peerListeners({
      hub: this.#hub,
      pairing: this.#pairing,
      relay: new Relay(this.#hub),
      pairThrottle: opts.pairRequestsPerMinute > 0
        ? new AddressThrottle(opts.pairRequestsPerMinute)
        : undefined,
      exempt,
    });
    this.io.on("connection", this.#connectionListener);
    if (opts.redis) this.#hub.ready = this.#joinCluster(opts.redis);

    if (this.#ownsHttpServer) {
      const http = this.httpServer as HttpServer;
      this.ready = this.#hub.ready.then(() =>
        new Promise((resolve, reject) => {
          http.once("error", reject);
          http.listen(opts.port, opts.host, () => {
            http.off("error", reject);
            resolve();
          });
        })
      );
    } else {
      this.ready = this.#hub.ready;
    }
  }

  async #joinCluster(redis: ResolvedRedisOptions): Promise<void> {
    const { Cluster }: ClusterModule = await import(CLUSTER_MODULE);
    this.#cluster = await Cluster.start(this.#hub, this.#pairing, redis);
  }

  async #health(): Promise<Record<string, unknown>> {
    if (this.options.redis && !await this.#cluster?.healthy()) {
      // Pairing waits and relaying across nodes stops until Redis is back.
      return {
        status: "unavailable",
        protocol: PROTOCOL_VERSION,
        redis: "unreachable",
        sockets: this.io.sockets.sockets.size,
      };
    }
    const redis = this.options.redis ? { redis: "ok" } : {};
    return { status: "ok", protocol: PROTOCOL_VERSION, ...redis, ...(await this.stats()) };
  }

  async #metrics(): Promise<string> {
    const pairs = await this.#hub.registry.stats().catch(() => undefined);
    return formatMetrics({
      sockets: this.io.sockets.sockets.size,
      pairs,
      counters: this.#hub.counters,
      redisUp: this.options.redis ? this.#cluster?.up === true : undefined,
    });
  }

  /** The port the HTTP server listens on (after {@linkcode ready}). */
  get port(): number {
    const address = this.httpServer?.address() as AddressInfo | null | undefined;
    if (!address || typeof address !== "object") {
      throw new Error("SocketPeerServer is not listening");
    }
    return address.port;
  }

  /** The base URL clients connect to, e.g. `http://127.0.0.1:3000/socketpeer/`. */
  get url(): string {
    const address = this.httpServer?.address() as AddressInfo | null | undefined;
    if (!address || typeof address !== "object") {
      throw new Error("SocketPeerServer is not listening");
    }
    const host = address.address === "0.0.0.0" || address.address === "::"
      ? "localhost"
      : address.family === "IPv6"
      ? `[${address.address}]`
      : address.address;
    return `http://${host}:${address.port}${this.options.path}`;
  }

  /**
   * Live counters: sockets, pairs waiting and paired, relayed frames and bytes.
   *
   * @example
   * ```ts
   * const { paired, bytesRelayed } = await server.stats();
   * ```
   */
  async stats(): Promise<ServerStats> {
    const { waiting, paired } = await this.#hub.registry.stats();
    const c = this.#hub.counters;
    return {
      sockets: this.io.sockets.sockets.size,
      waiting,
      paired,
      framesRelayed: c.framesRelayed,
      bytesRelayed: c.bytesRelayed,
      signalsRelayed: c.signalsRelayed,
      busy: c.busy,
      refused: c.refused,
    };
  }

  /**
   * Breaks both ends of a pair: each peer is told (`peer.left`, reason
   * `kicked`) and disconnected; its client does not reconnect by itself.
   *
   * @param pairCode The pair to remove.
   * @returns How many peers were removed (0, 1 or 2).
   *
   * @example
   * ```ts
   * await server.leave("room-42");
   * ```
   */
  leave(pairCode: string): Promise<number> {
    return this.#pairing.kick(pairCode);
  }

  /**
   * Whether a fetch-style request belongs to SocketPeer (its path prefix, or
   * the demo page when served). Pair with {@linkcode SocketPeerServer.fetch}.
   *
   * @example Share a port with a Deno.serve app
   * ```ts
   * const peers = new SocketPeerServer({ port: 0, host: "127.0.0.1" });
   * await peers.ready;
   * Deno.serve((req, info) => peers.handles(req) ? peers.fetch(req, info) : app(req));
   * ```
   */
  handles(request: Request): boolean {
    const { pathname } = new URL(request.url);
    return pathname.startsWith(this.options.path) ||
      (this.options.serveDemo && (pathname === "/" || pathname === "/index.html"));
  }

  /**
   * Answers a fetch-style request (`Deno.serve`, Hono, Oak, Fresh) by handing
   * it, WebSocket upgrades included, to this server's own listener on
   * loopback. The server must be listening.
   *
   * Pass `Deno.serve`'s second argument as `info` and set `trustProxy: true`
   * so that per-address limits see the real client address (the bridge
   * replaces any `X-Forwarded-For` the client sent).
   *
   * @param request The incoming request.
   * @param info The connection info (`Deno.ServeHandlerInfo`).
   * @returns The response.
   */
  fetch(request: Request, info?: { remoteAddr: { hostname?: string } }): Promise<Response> {
    try {
      return fetchThrough(request, this.port, info?.remoteAddr.hostname);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Disconnects every peer and stops serving. Closes the HTTP server only when
   * SocketPeer created it, and a socket.io server only when it made it.
   * Clients see the connection drop as after a crash, and reconnect (to this
   * address once something serves it again). Idempotent.
   *
   * @example
   * ```ts
   * Deno.addSignalListener("SIGTERM", () => server.close());
   * ```
   */
  close(): Promise<void> {
    this.#closed ??= this.#stop().then(async () => {
      // Let the disconnected peers' departures reach the registry, then leave the cluster.
      await this.#pairing.idle();
      await this.#cluster?.close();
    });
    return this.#closed;
  }

  #stop(): Promise<void> {
    return (async () => {
      if (!this.#ownsIo) {
        // Someone else's socket.io server: leave it running, drop our peers.
        this.io.off("connection", this.#connectionListener);
        for (const socket of this.io.sockets.sockets.values()) socket.disconnect(true);
        return;
      }
      if (!this.#ownsHttpServer) {
        // Our socket.io on someone else's HTTP server: close the transports only.
        // Clients see a transport close and reconnect, as after a crash.
        this.io.engine.close();
        return;
      }
      const http = this.httpServer as HttpServer;
      const closed = new Promise<void>((resolve) => this.io.close(() => resolve()));
      http.closeAllConnections?.();
      await closed;
    })();
  }
}

if (import.meta.main) {
  const port = Number(Deno.env.get("PORT") ?? 3000);
  const host = Deno.env.get("HOST") ?? "0.0.0.0";
  const url = Deno.env.get("REDIS_URL");
  const server = new SocketPeerServer({ port, host, ...(url ? { redis: { url } } : {}) });
  await server.ready;
  console.log(`SocketPeer server listening on http://${host}:${server.port}/`);
  console.log(`  client library: ${server.url}socketpeer.js`);
  if (url) {
    const shown = new URL(url);
    if (shown.password) shown.password = "***";
    console.log(`  cluster mode: pairs shared through Redis at ${shown.href}`);
  }
  const shutdown = async (signal: string) => {
    console.log(`${signal}: shutting down`);
    await server.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => shutdown("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => shutdown("SIGTERM"));
}
