/**
 * The events a {@linkcode SocketPeerServer} emits, for logging and metrics.
 *
 * @example
 * ```ts
 * server.on("pair", ({ pairCode }) => console.log(`${pairCode} paired`));
 * ```
 *
 * @module
 */

/** The server's typed event map. */
export interface ServerEvents {
  [event: string]: unknown[];
  /** Two peers paired under a code. */
  pair: [info: { pairCode: string }];
  /** A pair lost a peer (it left, disconnected, or was removed). */
  unpair: [info: { pairCode: string; reason: "left" | "disconnected" | "kicked" }];
  /** A third peer was refused because the code had two already. */
  busy: [info: { pairCode: string }];
  /** A request was refused with a stable code. */
  refused: [info: { code: string; message: string; event?: string }];
}
