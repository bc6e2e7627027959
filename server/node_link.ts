/**
 * How the nodes of a cluster change each other's sockets. Pairing state
 * lives on each socket (`socket.data.partner`, `pairCode`), and only the node
 * that holds a socket can change it and talk to its client. A node that
 * pairs, unpairs or removes a peer held elsewhere sends a
 * {@linkcode PeerUpdate} there; the holder applies it exactly as it applies
 * its own. Relayed frames never take this way: they go to the partner's
 * socket id through the socket.io adapter.
 *
 * @module
 */
import type { PeerFound, PeerLeft } from "../protocol/events.ts";

/** A change to the pairing state of one socket, and what its client is told. */
export type PeerUpdate =
  /** A partner was found: remember it, and tell the client. */
  | { type: "found"; socketId: string; partner: string; found: PeerFound }
  /** The partner left: forget it, tell the client, and wait again. */
  | { type: "left"; socketId: string; left: PeerLeft }
  /** The pair was removed: tell the client, and disconnect it. */
  | { type: "kicked"; socketId: string; left: PeerLeft }
  /** The same client took this socket's slot from a new socket: disconnect this one. */
  | { type: "replaced"; socketId: string };

/** The way to the other nodes of a cluster. */
export interface NodeLink {
  /** Whether updates and relayed frames can reach other nodes now. */
  readonly up: boolean;
  /** Sends an update to the node that holds its socket. */
  send(update: PeerUpdate): void;
}
