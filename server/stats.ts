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
  /** Refusals by error code. */
  readonly refusedByCode = new Map<string, number>();
  /** Upgrade attempts by outcome, as the initiators report them. */
  readonly upgrades = { succeeded: 0, failed: 0 };
  /** Signals delivered by type; each `offer` starts an upgrade attempt. */
  readonly signalsByType = new Map<string, number>();

  /** Counts one refusal. */
  countRefusal(code: string): void {
    this.refused++;
    this.refusedByCode.set(code, (this.refusedByCode.get(code) ?? 0) + 1);
  }

  /** Counts one delivered signal. */
  countSignal(type: string): void {
    this.signalsByType.set(type, (this.signalsByType.get(type) ?? 0) + 1);
  }
}
