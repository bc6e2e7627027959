/**
 * The listeners of a peer socket: the check every incoming packet passes
 * first (a known event, within the socket's rate), which also dispatches
 * every event but data (pair, leave, signal, report); data; disconnect.
 *
 * They are made once per server and shared by every socket: each reads its
 * socket from `this`, which an event emitter (and socket.io for `onAny`)
 * sets to the emitter it calls a listener for. A server holding many idle
 * sockets so keeps no closure per socket, only its entries in the socket's
 * listener tables, as few as can be.
 *
 * @module
 */
import process from "node:process";
import { ErrorCode } from "../protocol/errors.ts";
import { type PeerLeft, WireEvent } from "../protocol/events.ts";
import { checkPairRequest } from "../protocol/validate.ts";
import type { Hub } from "./hub.ts";
import { type AddressThrottle, RelayRateLimiter } from "./limits.ts";
import type { Pairing } from "./pairing.ts";
import type { PeerSocket } from "./peer_socket.ts";
import { clientAddress } from "./policy.ts";
import type { Relay } from "./relay.ts";

/** What the listeners act through. */
export interface ListenerContext {
  hub: Hub;
  pairing: Pairing;
  relay: Relay;
  /** Limits `pair` requests per address, when the server does. */
  pairThrottle?: AddressThrottle;
  /** Addresses the per-address limits do not apply to. */
  exempt: ReadonlySet<string>;
}

/**
 * Makes the listeners of one server.
 *
 * @param context What they act through.
 * @returns The function that sets up a newly connected socket: its state
 * (address, relay rate) and the shared listeners.
 *
 * @example
 * ```ts
 * io.on("connection", peerListeners({ hub, pairing, relay, exempt: new Set() }));
 * ```
 */
export function peerListeners(context: ListenerContext): (socket: PeerSocket) => void {
  const { hub, pairing, relay, pairThrottle, exempt } = context;
  const opts = hub.options;

  // socket.io calls `onAny` listeners as each event arrives, before it
  // queues the event for its own listeners (on the next tick, and only while
  // the socket is connected): an unknown event is refused here, and a packet
  // that gets the socket disconnected for its rate is never dispatched. Data
  // and signals count themselves (with their size) when they are handled;
  // every other packet counts here, so that nothing a client sends escapes
  // the rate.
  //
  // All events but data are dispatched from here too, the way socket.io
  // would: on the next tick, in the order they came, and only while the
  // socket is connected. A listener each would cost every socket a larger
  // listener table (socket.io's sockets keep theirs in a hash table that
  // grows with the number of event names); data, the one frequent event,
  // keeps its listener.
  function onPacket(this: PeerSocket, event: unknown, payload: unknown): void {
    if (event === WireEvent.DATA) return;
    if (event === WireEvent.SIGNAL) {
      process.nextTick(dispatch, this, event, payload);
      return;
    }
    if (event !== WireEvent.PAIR && event !== WireEvent.LEAVE && event !== WireEvent.REPORT) {
      hub.refuse(this, ErrorCode.INVALID_PAYLOAD, `unknown event ${JSON.stringify(event)}`);
      hub.admit(this, 64);
      return;
    }
    if (hub.admit(this, 64)) process.nextTick(dispatch, this, event, payload);
  }

  function dispatch(socket: PeerSocket, event: unknown, payload: unknown): void {
    if (!socket.connected) return;
    if (event === WireEvent.SIGNAL) relay.signal(socket, payload);
    else if (event === WireEvent.PAIR) pair(socket, payload);
    else if (event === WireEvent.LEAVE) leave(socket, "left");
    else report(socket, payload);
  }

  function pair(socket: PeerSocket, payload: unknown): void {
    const address = socket.data.address!;
    if (pairThrottle && !exempt.has(address) && !pairThrottle.allow(address)) {
      hub.refuse(
        socket,
        ErrorCode.RATE_LIMITED,
        `more than ${opts.pairRequestsPerMinute} pair requests a minute from this address`,
        WireEvent.PAIR,
      );
      return;
    }
    const request = checkPairRequest(payload);
    if (typeof request === "string") {
      const code = request.startsWith("pairCode")
        ? ErrorCode.INVALID_PAIR_CODE
        : ErrorCode.INVALID_PAYLOAD;
      hub.refuse(socket, code, request, WireEvent.PAIR);
      return;
    }
    pairing.serialize(socket, () => pairing.pair(socket, request));
  }

  function leave(socket: PeerSocket, why: PeerLeft["reason"]): void {
    pairing.serialize(socket, () => pairing.leave(socket, why));
  }

  function onData(this: PeerSocket, payload: unknown): void {
    relay.data(this, payload);
  }

  function onDisconnect(this: PeerSocket, reason: string): void {
    // A client that closes on purpose says so by disconnecting its namespace;
    // socket.io runs that before any event still waiting to be dispatched.
    leave(this, reason === "client namespace disconnect" ? "left" : "disconnected");
  }

  function report(socket: PeerSocket, payload: unknown): void {
    const outcome = (payload as { upgrade?: unknown } | null)?.upgrade;
    if (outcome === "succeeded" || outcome === "failed") {
      if (socket.data.partner !== undefined) hub.counters.upgrades[outcome]++;
    } else {
      hub.refuse(
        socket,
        ErrorCode.INVALID_PAYLOAD,
        'report expects { upgrade: "succeeded" | "failed" }',
        WireEvent.REPORT,
      );
    }
  }

  return (socket) => {
    socket.data.address = clientAddress(socket.request, opts.trustProxy);
    if (opts.relayRate) socket.data.rate = new RelayRateLimiter(opts.relayRate);
    socket.onAny(onPacket);
    socket.on(WireEvent.DATA, onData);
    socket.on("disconnect", onDisconnect);
  };
}
