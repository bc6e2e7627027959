/**
 * The relay: data frames and WebRTC signals go to the sender's partner and
 * nowhere else. Frames are forwarded as the very bytes received (socket.io
 * binary attachments, never base64); the header is read only to enforce the
 * message size limit. Signals are checked for shape and size, never parsed.
 *
 * @module
 */
import { ErrorCode, SocketPeerError } from "../protocol/errors.ts";
import { WireEvent } from "../protocol/events.ts";
import { decodeFrame, MAX_FRAME_SIZE, minMessageSize } from "../protocol/frame.ts";
import { asBytes, checkSignal } from "../protocol/validate.ts";
import type { Hub } from "./hub.ts";
import type { PeerSocket } from "./peer_socket.ts";

/** The forwarding handlers of one server. */
export class Relay {
  constructor(private readonly hub: Hub) {}

  /** Forwards one data frame to the partner. */
  data(socket: PeerSocket, payload: unknown): void {
    const { hub } = this;
    const partner = socket.data.partner;
    if (partner === undefined) {
      hub.refuse(socket, ErrorCode.NOT_PAIRED, "data sent before a partner was found", "data");
      return;
    }
    const bytes = asBytes(payload);
    if (!bytes) {
      hub.refuse(socket, ErrorCode.INVALID_PAYLOAD, "data must be one binary frame", "data");
      return;
    }
    if (bytes.byteLength > MAX_FRAME_SIZE) {
      hub.refuse(
        socket,
        ErrorCode.MESSAGE_TOO_LARGE,
        `frame of ${bytes.byteLength} bytes exceeds ${MAX_FRAME_SIZE}`,
        "data",
      );
      return;
    }
    try {
      const frame = decodeFrame(bytes);
      if (minMessageSize(frame) > hub.options.maxMessageSize) {
        hub.refuse(
          socket,
          ErrorCode.MESSAGE_TOO_LARGE,
          `message exceeds maxMessageSize ${hub.options.maxMessageSize}`,
          "data",
        );
        return;
      }
    } catch (err) {
      const code = err instanceof SocketPeerError ? err.code : ErrorCode.INVALID_PAYLOAD;
      hub.refuse(socket, code, String((err as Error).message), "data");
      return;
    }
    if (!this.#withinRate(socket, bytes.byteLength)) return;
    const receiver = hub.local(partner);
    if (receiver && this.#backlogged(receiver)) {
      // The receiver stopped reading. Holding more would let one stalled peer
      // fill the server's memory: drop it; its client reconnects, and the
      // sender resends what was not acknowledged once they are paired again.
      hub.refuse(
        receiver,
        ErrorCode.SLOW_CONSUMER,
        `more than ${hub.options.maxRelayBacklog} bytes were waiting for this peer`,
      );
      receiver.disconnect(true);
      return;
    }
    hub.counters.framesRelayed++;
    hub.counters.bytesRelayed += bytes.byteLength;
    hub.deliver(partner, WireEvent.DATA, bytes);
  }

  /** Applies the relay rate; false when the socket was disconnected for it. */
  #withinRate(socket: PeerSocket, bytes: number): boolean {
    const verdict = socket.data.rate?.frame(bytes) ?? "ok";
    if (verdict === "ok") return true;
    const { relayRate } = this.hub.options;
    const limit = relayRate
      ? `${relayRate.messagesPerSecond} messages and ${relayRate.bytesPerSecond} bytes a second`
      : "";
    if (verdict === "warn") {
      this.hub.refuse(socket, ErrorCode.RATE_LIMITED, `slow down: the relay allows ${limit}`);
      return true;
    }
    this.hub.refuse(socket, ErrorCode.RATE_LIMITED, `disconnected: kept exceeding ${limit}`);
    socket.disconnect(true);
    return false;
  }

  /** Whether more than `maxRelayBacklog` bytes wait in a socket's write buffer. */
  #backlogged(socket: PeerSocket): boolean {
    const buffer = (socket.conn as unknown as { writeBuffer?: { data?: unknown }[] }).writeBuffer;
    // Cheap first: a few queued packets are normal.
    if (!buffer || buffer.length < 16) return false;
    let bytes = 0;
    for (const packet of buffer) {
      const data = packet.data;
      bytes += typeof data === "string"
        ? data.length
        : (data as { byteLength?: number })?.byteLength ?? 0;
    }
    return bytes > this.hub.options.maxRelayBacklog;
  }

  /** Forwards one WebRTC signal to the partner. */
  signal(socket: PeerSocket, payload: unknown): void {
    const { hub } = this;
    const partner = socket.data.partner;
    if (partner === undefined) {
      hub.refuse(socket, ErrorCode.NOT_PAIRED, "signal sent before a partner was found", "signal");
      return;
    }
    const signal = checkSignal(payload);
    if (typeof signal === "string") {
      hub.refuse(socket, ErrorCode.INVALID_PAYLOAD, signal, "signal");
      return;
    }
    if (!this.#withinRate(socket, 0)) return;
    hub.counters.signalsRelayed++;
    hub.deliver(partner, WireEvent.SIGNAL, signal);
  }
}
