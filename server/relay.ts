/**
 * The relay: data frames and WebRTC signals go to the sender's partner and
 * nowhere else. Frames are forwarded as the very bytes received (socket.io
 * binary attachments, never base64); the headers are read in place, to check
 * the frames and enforce the message size limit on each frame of a BATCH.
 * One `data` event counts as one packet of its bytes against the relay rate,
 * however many frames it holds. Signals are checked for shape and size,
 * never parsed.
 *
 * @module
 */
import { ErrorCode } from "../protocol/errors.ts";
import { WireEvent } from "../protocol/events.ts";
import { checkFrames } from "../protocol/frame.ts";
import { asBytes, checkSignal } from "../protocol/validate.ts";
import type { Hub } from "./hub.ts";
import type { PeerSocket } from "./peer_socket.ts";

/** The forwarding handlers of one server. */
export class Relay {
  constructor(private readonly hub: Hub) {}

  /** Forwards one data frame (or BATCH frame) to the partner. */
  data(socket: PeerSocket, payload: unknown): void {
    const { hub } = this;
    const bytes = asBytes(payload);
    // Every packet counts against the rate, refused ones too.
    if (!hub.admit(socket, bytes?.byteLength ?? 64)) return;
    const partner = socket.data.partner;
    if (partner === undefined) {
      hub.refuse(socket, ErrorCode.NOT_PAIRED, "data sent before a partner was found", "data");
      return;
    }
    if (!bytes) {
      hub.refuse(socket, ErrorCode.INVALID_PAYLOAD, "data must be one binary frame", "data");
      return;
    }
    const frames = checkFrames(bytes, hub.options.maxMessageSize);
    if (typeof frames !== "number") {
      hub.refuse(socket, frames.code, frames.message, "data");
      return;
    }
    if (!hub.receiverKeepsUp(partner)) return;
    hub.counters.framesRelayed += frames;
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
