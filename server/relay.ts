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
    // Every packet counts against the rate, refused ones too.
    if (!hub.admit(socket, asBytes(payload)?.byteLength ?? 64)) return;
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
    if (!hub.receiverKeepsUp(partner)) return;
    hub.counters.framesRelayed++;
    hub.counters.bytesRelayed += bytes.byteLength;
    hub.deliver(partner, WireEvent.DATA, bytes);
  }

  /** Forwards one WebRTC signal to the partner. */
  signal(socket: PeerSocket, payload: unknown): void {
    const { hub } = this;
    if (!hub.admit(socket, signalSize(payload))) return;
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
    if (!hub.receiverKeepsUp(partner)) return;
    hub.counters.signalsRelayed++;
    hub.deliver(partner, WireEvent.SIGNAL, signal);
  }
}

/** Roughly how many bytes a signal takes, for the byte rate (never throws). */
function signalSize(payload: unknown): number {
  const p = payload as { sdp?: unknown; candidate?: { candidate?: unknown } } | null;
  const sdp = typeof p?.sdp === "string" ? p.sdp.length : 0;
  const candidate = typeof p?.candidate?.candidate === "string" ? p.candidate.candidate.length : 0;
  return 64 + sdp + candidate;
}
