/**
 * Cluster mode: several server processes (nodes) behind one address, sharing
 * pairing state and socket.io rooms through one Redis. Loaded only when the
 * server is given `redis` (or `REDIS_URL`): `server.ts` imports this module
 * by a computed specifier, so without Redis neither ioredis nor the adapter
 * is even fetched.
 *
 * Each node holds two Redis connections:
 *
 * - commands: the pair registry's Lua scripts ({@linkcode RedisPairRegistry})
 *   and every publish;
 * - subscriptions: socket.io's sharded Redis adapter
 *   (`@socket.io/redis-adapter`, `createShardedAdapter`) in the
 *   `dynamic-private` mode, where every socket has a channel of its own, so
 *   a frame relayed to a peer on another node reaches that node only. The
 *   adapter sends binary as MessagePack `bin` (notepack.io): a 64 KiB frame
 *   costs 64 KiB plus about 100 bytes of envelope, never base64.
 *
 * A node that pairs, unpairs or removes a peer held by another node sends a
 * {@linkcode PeerUpdate} with `serverSideEmit` over the same two connections
 * as the frames, so an update and the frames that follow it arrive in order.
 *
 * When Redis is out of reach, frames and updates for other nodes are dropped
 * (the clients keep them until acknowledged), pairs on one node carry on,
 * and `pair` requests wait. When it is back, every node joins its peers
 * again and introduces each pair that spans nodes once more, so both clients
 * resend what was lost; duplicates are dropped on arrival.
 *
 * @module
 */
import { Redis } from "npm:ioredis@5.9.3";
import { createShardedAdapter } from "npm:@socket.io/redis-adapter@8.3.0";
import type { Hub } from "./hub.ts";
import type { NodeLink, PeerUpdate } from "./node_link.ts";
import type { Pairing } from "./pairing.ts";
import { RedisPairRegistry } from "./redis_registry.ts";
import type { ResolvedRedisOptions } from "./options.ts";

/** The `serverSideEmit` event that carries updates between nodes. */
const UPDATE_EVENT = "socketpeer:update";

type ServerSide = {
  serverSideEmit(event: string, update: PeerUpdate): boolean;
  on(event: string, listener: (update: PeerUpdate) => void): unknown;
  off(event: string, listener: (update: PeerUpdate) => void): unknown;
};

/** One node's membership of a cluster. */
export class Cluster implements NodeLink {
  readonly registry: RedisPairRegistry;
  readonly #commands: Redis;
  readonly #subscriptions: Redis;
  readonly #hub: Hub;
  readonly #onUpdate: (update: PeerUpdate) => void;
  #down = false;

  private constructor(hub: Hub, pairing: Pairing, options: ResolvedRedisOptions) {
    this.#hub = hub;
    // Commands wait for Redis while it is down rather than fail; nothing is
    // sent to other nodes meanwhile (see `up`), so the queue stays small.
    const connect = () => new Redis(options.url, { maxRetriesPerRequest: null });
    this.#commands = connect();
    this.#subscriptions = connect();
    for (const client of [this.#commands, this.#subscriptions]) {
      client.on("error", (err: Error) => this.#lost(err));
      client.on("close", () => this.#lost());
    }
    this.registry = new RedisPairRegistry({
      client: this.#commands,
      prefix: options.prefix,
      nodeTimeout: options.nodeTimeout,
    });
    this.registry.watch((event) => {
      if (event.type === "orphaned") pairing.orphaned(event.pairCode, event.member);
      else pairing.resync();
    });
    this.#onUpdate = (update) => {
      const socket = hub.local(update?.socketId);
      if (socket) pairing.apply(socket, update);
    };
    for (const client of [this.#commands, this.#subscriptions]) {
      client.on("ready", () => this.#recover(pairing));
    }
  }

  async #recover(pairing: Pairing): Promise<void> {
    if (!this.#down || !this.up) return;
    // The resubscriptions went out before "ready"; once PINGs come back
    // after them, frames for this node's sockets arrive again.
    await Promise.all([this.#commands.ping(), this.#subscriptions.ping()]).catch(() => {});
    if (!this.#down || !this.up) return;
    this.#down = false;
    console.warn(`SocketPeer: Redis reachable again (node ${this.registry.nodeId})`);
    pairing.resync();
  }

  /**
   * Joins the cluster: puts the registry and the Redis adapter in place and
   * resolves once Redis answered (it waits for Redis, retrying).
   *
   * @param hub The server's shared state; its registry and link are set.
   * @param pairing Applies updates from other nodes.
   * @param options The resolved `redis` option.
   */
  static async start(hub: Hub, pairing: Pairing, options: ResolvedRedisOptions): Promise<Cluster> {
    const cluster = new Cluster(hub, pairing, options);
    const { io } = hub;
    io.adapter(
      createShardedAdapter(cluster.#commands, cluster.#subscriptions, {
        channelPrefix: `${options.prefix}io`,
        subscriptionMode: "dynamic-private",
      }) as unknown as Parameters<typeof io.adapter>[0],
    );
    // Sockets that connected before (on a server given to SocketPeer) join
    // their own room again, in the new adapter.
    for (const socket of io.sockets.sockets.values()) socket.join(socket.id);
    (io.sockets as unknown as ServerSide).on(UPDATE_EVENT, cluster.#onUpdate);
    await cluster.registry.ready;
    hub.registry = cluster.registry;
    hub.link = cluster;
    return cluster;
  }

  #lost(err?: Error): void {
    if (this.#down) return;
    this.#down = true;
    const why = err ? `: ${err.message}` : "";
    console.warn(`SocketPeer: Redis unreachable${why} (node ${this.registry?.nodeId})`);
  }

  /** Whether both connections are up. */
  get up(): boolean {
    return this.#commands.status === "ready" && this.#subscriptions.status === "ready";
  }

  send(update: PeerUpdate): void {
    (this.#hub.io.sockets as unknown as ServerSide).serverSideEmit(UPDATE_EVENT, update);
  }

  /** Whether Redis answers now (within 2 s). */
  async healthy(): Promise<boolean> {
    if (!this.up) return false;
    try {
      await this.registry.ping();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Leaves the cluster: the registry retires this node's remaining members
   * (their partners elsewhere are told at once), then both connections close.
   */
  async close(): Promise<void> {
    (this.#hub.io.sockets as unknown as ServerSide).off(UPDATE_EVENT, this.#onUpdate);
    await this.registry.close();
    for (const client of [this.#commands, this.#subscriptions]) {
      client.removeAllListeners("close");
      client.removeAllListeners("error");
      client.on("error", () => {});
      if (client.status === "ready") await client.quit().catch(() => {});
      client.disconnect();
    }
  }
}
