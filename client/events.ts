// Browser-safe: runs in browsers and in Deno.
/**
 * The events a {@linkcode SocketPeer} emits. Names and meanings of the 1.x
 * events are unchanged; `peer.waiting`, `peer.left` and `drain` are new.
 *
 * @example
 * ```ts
 * peer.on("data", (data) => console.log("got", data));
 * peer.on("upgrade", () => console.log("now peer-to-peer"));
 * ```
 *
 * @module
 */
import type { SocketPeerError } from "../protocol/errors.ts";

/** Details of a found partner. */
export interface PeerFoundInfo {
  pairCode: string;
  /** Whether this peer makes the WebRTC offer. */
  initiator: boolean;
  /** The partner's instance id. */
  peerId: string;
}

/** The client's typed event map: event name → listener arguments. */
export interface SocketPeerEvents {
  [event: string]: unknown[];
  /** Paired with a partner for the first time: `send()` reaches it now. */
  connect: [];
  /** Connecting to the server. */
  connect_attempt: [];
  /** The connection to the server failed or was refused. */
  connect_error: [error: SocketPeerError];
  /** No partner was found within `timeout` ms. */
  connect_timeout: [error: SocketPeerError];
  /** Paired again, after the server connection or the partner was lost. */
  reconnect: [];
  /** Connecting to the server again; `attempt` counts from 1. */
  reconnect_attempt: [attempt: number];
  /** A reconnection attempt failed. */
  reconnect_error: [error: SocketPeerError];
  /** The server put this peer with a partner (every time, first or not). */
  "peer.found": [info: PeerFoundInfo];
  /** The server placed this peer under its pair code, waiting for a partner. */
  "peer.waiting": [];
  /** The partner left; this peer waits under the same code for a partner. */
  "peer.left": [reason: "left" | "disconnected" | "kicked"];
  /** A message from the partner, exactly once and in order. */
  data: [data: unknown];
  /** The direct DataChannel is open: data goes peer-to-peer. */
  upgrade: [];
  /** An attempt to open the direct connection began. */
  upgrade_attempt: [];
  /** An attempt to open the direct connection failed; the relay carries on. */
  upgrade_error: [error: SocketPeerError];
  /** The direct connection was lost; data goes through the relay again. */
  downgrade: [];
  /** The pair code already had two peers. */
  busy: [error: SocketPeerError];
  /** `send()` returned false earlier, and the buffer has drained below half of `highWaterMark`. */
  drain: [];
  /**
   * The peer closed: by `close()`/`destroy()`, the `timeout` option, being
   * removed by the server (`ERR_KICKED`), or its page going away. (After a
   * refusal such as `ERR_INVALID_PAIR_CODE` the peer stays open: `pair()` again.)
   */
  close: [];
  /** Something failed; `error.code` says what. */
  error: [error: SocketPeerError];
  /** Something odd that the peer recovered from. */
  warning: [warning: SocketPeerError];
}
