/**
 * What the socket handlers share: the socket.io server, the registry, the
 * options and counters, the other nodes of a cluster, and the ways to answer
 * a socket (deliver to a peer by socket id, forward an update to the node
 * that holds a socket, refuse with a stable code).
 *
 * @module
 */
import type { ErrorCode } from "../protocol/errors.ts";
import { type ServerToClientEvents, type Signal, WireEvent } from "../protocol/events.ts";
import type { Emitter } from "../protocol/emitter.ts";
import type { ServerEvents } from "./events.ts";
import type { NodeLink, PeerUpdate } from "./node_link.ts";
import type { ResolvedServerOptions } from "./options.ts";
import type { PeerServer, PeerSocket } from "./peer_socket.ts";
import type { PairRegistry } from "./registry.ts";
import type { RelayCounters } from "./stats.ts";

/** Shared state of one server's socket handlers. */
export class Hub {
  /** The other nodes, in cluster mode. */
  link?: NodeLink;
  /** Resolves once pairing may start (in cluster mode, once Redis is set up). */
  ready: Promise<void> = Promise.resolve();

  constructor(
    readonly io: PeerServer,
    /** Set once, before `ready`, in cluster mode. */
    public registry: PairRegistry,
    readonly options: ResolvedServerOptions,
    readonly counters: RelayCounters,
    readonly events: Emitter<ServerEvents>,
  ) {}

  /** The local socket with this id, if it is connected to this process. */
  local(socketId: string): PeerSocket | undefined {
    return this.io.sockets.sockets.get(socketId);
  }

  /**
   * Sends an event to a peer by socket id: directly when the socket is local,
   * else through the socket.io adapter (another node in a cluster). While
   * the other nodes are out of reach it drops what it cannot send; the
   * clients resend it once the nodes introduce the pair again.
   */
  deliver<E extends keyof ServerToClientEvents>(
    socketId: string,
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void {
    if (event === WireEvent.SIGNAL) this.counters.countSignal((args[0] as Signal).type);
    const socket = this.local(socketId);
    // deno-lint-ignore no-explicit-any
    if (socket) (socket.emit as any)(event, ...args);
    // deno-lint-ignore no-explicit-any
    else if (this.link?.up !== false) (this.io.to(socketId).emit as any)(event, ...args);
  }

  /**
   * Sends an update to the node that holds its socket (not this one): over
   * the cluster's link, or, with no cluster, through the socket.io adapter.
   */
  forward(update: PeerUpdate): void {
    if (this.link) {
      if (this.link.up) this.link.send(update);
      return;
    }
    const to = this.io.to(update.socketId);
    if (update.type === "found") to.emit(WireEvent.FOUND, update.found);
    else if (update.type === "left" || update.type === "kicked") {
      to.emit(WireEvent.LEFT, update.left);
    }
    if (update.type === "kicked") this.io.in(update.socketId).disconnectSockets(true);
  }

  /** Refuses a request: the sender gets `sp.error` with a stable code; nothing throws. */
  refuse(socket: PeerSocket, code: ErrorCode, message: string, event?: string): void {
    this.counters.countRefusal(code);
    const notice = event === undefined ? { code, message } : { code, message, event };
    socket.emit(WireEvent.ERROR, notice);
    this.events.emit("refused", notice);
  }
}
