// Browser-safe: no Deno or Node APIs. The browser benchmark sends these functions to Chromium
// pages as source, so each may call only the other functions of bench/harness/ by name.
/**
 * Adapters from each path to a {@linkcode Link}. Each applies the flow control its path has, so
 * the workloads see "wait" exactly where a real application would:
 *
 * - a SocketPeer waits for `drain` once `send()` returns false;
 * - a raw DataChannel waits for `bufferedamountlow` once 1 MiB is queued, the threshold
 *   SocketPeer's direct path uses;
 * - a raw relay (WebSocket or socket.io) has no end-to-end flow control at all, so the harness
 *   adds the one SocketPeer has: at most 4 MiB unacknowledged, and a cumulative ack every 64
 *   messages or 1 MiB, else after 5 ms. Without it the sender would pile data up in the relay
 *   server's memory without bound.
 *
 * @module
 */
import type { Link, Message } from "./workload.ts";

/** The part of a SocketPeer (Deno or browser bundle) the benchmark uses. */
export interface PeerLike {
  send(data: unknown): boolean;
  on(event: "data", listener: (data: unknown) => void): unknown;
  once(event: "drain", listener: () => void): unknown;
  stats(): { p2p: { bytesReceived: number }; relay: { bytesReceived: number } };
}

/**
 * A SocketPeer as a link.
 *
 * @param peer A paired SocketPeer.
 * @returns The link.
 */
export function peerLink(peer: PeerLike): Link {
  return {
    send(data) {
      if (!peer.send(data)) return new Promise<void>((resolve) => peer.once("drain", resolve));
    },
    onMessage(handler) {
      peer.on("data", (data) => handler(data as Message));
    },
    received() {
      const s = peer.stats();
      return { p2p: s.p2p.bytesReceived, relay: s.relay.bytesReceived };
    },
  };
}

/**
 * An open RTCDataChannel (browser or node-datachannel) as a link, with no framing of its own.
 *
 * @param channel The open channel.
 * @param maxMessageSize The largest message the channel takes (`RTCSctpTransport.maxMessageSize`).
 * @param highWater Wait once this many bytes are queued.
 * @param lowWater Resume when the queue falls to this.
 * @returns The link.
 */
export function channelLink(
  channel: RTCDataChannel,
  maxMessageSize?: number,
  highWater = 1024 * 1024,
  lowWater = 256 * 1024,
): Link {
  channel.binaryType = "arraybuffer";
  channel.bufferedAmountLowThreshold = lowWater;
  return {
    maxMessageSize,
    send(data) {
      channel.send(data as string & Uint8Array<ArrayBuffer>);
      if (channel.bufferedAmount >= highWater) {
        return new Promise<void>((resolve) => {
          // The event, or a look every 10 ms should it not come.
          const timer = setInterval(() => {
            if (channel.bufferedAmount <= lowWater) done();
          }, 10);
          const done = () => {
            clearInterval(timer);
            channel.removeEventListener("bufferedamountlow", done);
            resolve();
          };
          channel.addEventListener("bufferedamountlow", done);
        });
      }
    },
    onMessage(handler) {
      channel.addEventListener("message", (event) => handler(event.data as Message));
    },
  };
}

/** A bare message transport: a WebSocket, or a socket.io socket's `data` event. */
export interface Transport {
  send(data: string | Uint8Array): void;
  onMessage(handler: (data: Message) => void): void;
}

/**
 * A relay transport with SocketPeer's window and ack policy added (see the module doc). An ack
 * is 9 bytes, `0xff` then the float64 count of bytes received; no workload message is 9 bytes.
 *
 * @param transport The relay connection.
 * @param window Bytes that may be unacknowledged.
 * @param ackMessages Acknowledge after this many messages…
 * @param ackBytes …or this many bytes…
 * @param ackDelayMs …or after this delay.
 * @returns The link.
 */
export function windowedLink(
  transport: Transport,
  window = 4 * 1024 * 1024,
  ackMessages = 64,
  ackBytes = 1024 * 1024,
  ackDelayMs = 5,
): Link {
  let sentBytes = 0;
  let ackedBytes = 0;
  let resume: (() => void) | null = null;
  let receivedBytes = 0;
  let pendingMessages = 0;
  let pendingBytes = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let handler: (data: Message) => void = () => {};

  const sizeOfMessage = (data: Message) => typeof data === "string" ? data.length : data.byteLength;
  const ackNow = () => {
    clearTimeout(timer);
    timer = undefined;
    pendingMessages = pendingBytes = 0;
    const ack = new Uint8Array(9);
    ack[0] = 0xff;
    new DataView(ack.buffer).setFloat64(1, receivedBytes);
    transport.send(ack);
  };

  transport.onMessage((data) => {
    if (typeof data !== "string" && data.byteLength === 9) {
      const view = data instanceof ArrayBuffer
        ? new DataView(data)
        : new DataView(data.buffer, data.byteOffset, data.byteLength);
      if (view.getUint8(0) === 0xff) {
        ackedBytes = Math.max(ackedBytes, view.getFloat64(1));
        if (resume && sentBytes - ackedBytes < window) {
          const go = resume;
          resume = null;
          go();
        }
        return;
      }
    }
    const size = sizeOfMessage(data);
    receivedBytes += size;
    pendingBytes += size;
    pendingMessages++;
    if (pendingMessages >= ackMessages || pendingBytes >= ackBytes) ackNow();
    else timer ??= setTimeout(ackNow, ackDelayMs);
    handler(data);
  });

  return {
    send(data) {
      transport.send(data);
      sentBytes += sizeOfMessage(data);
      if (sentBytes - ackedBytes >= window) {
        return new Promise<void>((resolve) => resume = resolve);
      }
    },
    onMessage(h) {
      handler = h;
    },
  };
}
