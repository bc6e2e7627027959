/**
 * The typed socket.io socket of one peer, and the state the server keeps on
 * it (`socket.data`).
 *
 * @module
 */
import type { Server, Socket } from "npm:socket.io@4.8.1";
import type { ClientToServerEvents, ServerToClientEvents } from "../protocol/events.ts";
import type { RelayRateLimiter } from "./limits.ts";

/** What the server remembers about one socket. */
export interface PeerSocketData {
  /** The pair code joined, once `pair` succeeded. */
  pairCode?: string;
  /** The client instance id given with `pair`. */
  peerId?: string;
  /** The partner's socket id while paired. */
  partner?: string;
  /** Serializes this socket's `pair`/`leave` requests. */
  queue?: Promise<void>;
  /** Fires `peerTimeout` while waiting. */
  waitTimer?: ReturnType<typeof setTimeout>;
  /** The client's address (see the `trustProxy` option). */
  address?: string;
  /** This socket's relay rate, when the server limits it. */
  rate?: RelayRateLimiter;
  /** Whether this socket was warned that it exceeds the relay rate. */
  warned?: boolean;
}

/** The server's socket.io `Server`, typed with the protocol's event maps. */
export type PeerServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  PeerSocketData
>;

/** One peer's socket, typed with the protocol's event maps. */
export type PeerSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  PeerSocketData
>;
