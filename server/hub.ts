/**
 * What the socket handlers share: the socket.io server, the registry, the
 * options and counters, and the two ways to answer a socket (deliver to a
 * peer by socket id, refuse with a stable code).
 *
 * @module
 */
import type { ErrorCode } from "../protocol/errors.ts";
import { type ServerToClientEvents, WireEvent } from "../protocol/events.ts";
import type { Emitter } from "../protocol/emitter.ts";
import type { ServerEvents } from "./events.ts";
import type { ResolvedServerOptions } from "./options.ts";
import type { PeerServer, PeerSocket } from "./peer_socket.ts";
import type { PairRegistry } from "./registry.ts";
import type { RelayCounters } from "./stats.ts";

/** Shared state of one server's socket handlers. */
export class Hub {
  constructor(
    readonly io: PeerServer,
    readonly registry: PairRegistry,
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
   * else through the socket.io adapter (another node in a cluster).
   */
  deliver<E extends keyof ServerToClientEvents>(
    socketId: string,
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void {
    const socket = this.local(socketId);
    // deno-lint-ignore no-explicit-any
    if (socket) (socket.emit as any)(event, ...args);
    // deno-lint-ignore no-explicit-any
    else (this.io.to(socketId).emit as any)(event, ...args);
  }

  /** Refuses a request: the sender gets `sp.error` with a stable code; nothing throws. */
  refuse(socket: PeerSocket, code: ErrorCode, message: string, event?: string): void {
    this.counters.refused++;
    const notice = event === undefined ? { code, message } : { code, message, event };
    socket.emit(WireEvent.ERROR, notice);
    this.events.emit("refused", notice);
  }
}
