/**
 * What the socket handlers share: the socket.io server, the registry, the
 * options and counters, the other nodes of a cluster, and the ways to answer
 * a socket (deliver to a peer by socket id, forward an update to the node
 * that holds a socket, refuse with a stable code).
 *
 * @module
 */
import { ErrorCode } from "../protocol/errors.ts";
import { type ServerToClientEvents, type Signal, WireEvent } from "../protocol/events.ts";
import type { Emitter } from "../protocol/emitter.ts";
import type { ServerEvents } from "./events.ts";
import type { NodeLink, PeerUpdate } from "./node_link.ts";
import type { ResolvedServerOptions } from "./options.ts";
import type { PeerServer, PeerSocket } from "./peer_socket.ts";
import type { PairRegistry } from "./registry.ts";
import { type EngineConnection, terminate } from "./limits.ts";
import type { RelayCounters } from "./stats.ts";

/** Packets waiting for one socket past which it counts as not reading. */
const MAX_BACKLOG_PACKETS = 4096;

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

  /**
   * Refuses a request: the sender gets `sp.error` with a stable code; nothing
   * throws. A sender that does not read what it is sent is disconnected
   * instead: replies queued for it would pile up in the server's memory.
   */
  refuse(socket: PeerSocket, code: ErrorCode, message: string, event?: string): void {
    this.counters.countRefusal(code);
    const notice = event === undefined ? { code, message } : { code, message, event };
    this.events.emit("refused", notice);
    if (this.backlogged(socket)) {
      this.drop(socket);
      return;
    }
    // A socket past its rate was warned once; answering each of its further
    // packets would only queue replies it may never read.
    if (socket.data.rate?.limited && code !== ErrorCode.RATE_LIMITED) return;
    socket.emit(WireEvent.ERROR, notice);
  }

  /**
   * Counts one incoming packet of `bytes` bytes against the socket's rate.
   * Past the rate the socket is warned, and if it keeps on, disconnected.
   *
   * @returns False when the socket was disconnected: drop the packet.
   */
  admit(socket: PeerSocket, bytes: number): boolean {
    const verdict = socket.data.rate?.frame(bytes) ?? "ok";
    if (verdict === "ok") return true;
    const { relayRate } = this.options;
    const limit = relayRate
      ? `${relayRate.messagesPerSecond} messages and ${relayRate.bytesPerSecond} bytes a second`
      : "";
    if (verdict === "warn") {
      this.refuse(socket, ErrorCode.RATE_LIMITED, `slow down: the server allows ${limit}`);
      return socket.connected;
    }
    this.refuse(socket, ErrorCode.RATE_LIMITED, `disconnected: kept exceeding ${limit}`);
    this.drop(socket, !this.backlogged(socket));
    return false;
  }

  /**
   * Disconnects a socket and ends its connection (see `terminate`): at once
   * for a socket that does not read anyway, or after a second, so that a
   * socket that does read gets its last refusal and the disconnect packet.
   */
  drop(socket: PeerSocket, reads = false): void {
    const conn = socket.conn as unknown as EngineConnection;
    socket.disconnect(true);
    if (!reads) {
      terminate(conn);
      return;
    }
    const timer = setTimeout(() => terminate(conn), 1000);
    Deno.unrefTimer?.(timer as unknown as number);
  }

  /** Whether more than `maxRelayBacklog` bytes wait in a socket's write buffer. */
  backlogged(socket: PeerSocket): boolean {
    const buffer = (socket.conn as unknown as { writeBuffer?: { data?: unknown }[] }).writeBuffer;
    // Cheap first: a few queued packets are normal, and a great many are not,
    // whatever their size (each costs far more memory than its bytes).
    if (!buffer || buffer.length < 16) return false;
    if (buffer.length > MAX_BACKLOG_PACKETS) return true;
    let bytes = 0;
    for (const packet of buffer) {
      const data = packet.data;
      bytes += typeof data === "string"
        ? data.length
        : (data as { byteLength?: number })?.byteLength ?? 0;
    }
    return bytes > this.options.maxRelayBacklog;
  }

  /**
   * Checks a local receiver before relaying to it. One that stopped reading
   * is dropped: its client reconnects, and senders resend what it did not
   * acknowledge once they are paired again.
   *
   * @returns False when the receiver was dropped: do not relay.
   */
  receiverKeepsUp(socketId: string): boolean {
    const receiver = this.local(socketId);
    if (!receiver || !this.backlogged(receiver)) return true;
    this.counters.countRefusal(ErrorCode.SLOW_CONSUMER);
    this.drop(receiver);
    return false;
  }
}
