/**
 * Live counters of one server process.
 *
 * @module
 */

/** What {@linkcode SocketPeerServer.stats} reports. */
export interface ServerStats {
  /** Connected sockets. */
  sockets: number;
  /** Pair codes with one peer waiting. */
  waiting: number;
  /** Pair codes with two peers. */
  paired: number;
  /** Data frames relayed. */
  framesRelayed: number;
  /** Bytes of data frames relayed. */
  bytesRelayed: number;
  /** Signals (offer, answer, candidate, …) relayed. */
  signalsRelayed: number;
  /** Peers told `busy`. */
  busy: number;
  /** Requests refused with an `sp.error`. */
  refused: number;
}

/** The counters the socket handlers increment. */
export class RelayCounters {
  framesRelayed = 0;
  bytesRelayed = 0;
  signalsRelayed = 0;
  busy = 0;
  refused = 0;
}
