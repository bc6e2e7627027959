// Browser-safe: no Deno or Node APIs.
/**
 * Shape checks for every payload that crosses the wire. Each returns the
 * typed value, or a string that says what is wrong; none throws, so a hostile
 * payload can never break the side that checks it.
 *
 * @example
 * ```ts
 * import { checkPairRequest } from "./validate.ts";
 * const request = checkPairRequest(payload);
 * if (typeof request === "string") refuse(request);
 * ```
 *
 * @module
 */
import { type PairRequest, type Signal, SIGNAL_TYPES, type SignalType } from "./events.ts";
import { BASE_FRAME_SIZE } from "./frame.ts";

/** The longest pair code accepted. */
export const MAX_PAIR_CODE_LENGTH = 128;
/**
 * The characters a pair code may use: letters and digits of any script, and
 * `. _ ~ : @ + = -`. No spaces, no control characters, no slashes.
 */
export const PAIR_CODE_PATTERN = /^[\p{L}\p{N}._~:@+=-]+$/u;
/** The longest peer id accepted. */
export const MAX_PEER_ID_LENGTH = 64;
/** The largest signal accepted, in UTF-16 code units of SDP or candidate text. */
export const MAX_SIGNAL_SIZE = 64 * 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks a pair code against the built-in bounds.
 *
 * @param code The candidate pair code.
 * @returns Null when it is acceptable, else the reason.
 */
export function checkPairCode(code: unknown): string | null {
  if (typeof code !== "string" || code.length === 0) return "pairCode must be a non-empty string";
  if (code.length > MAX_PAIR_CODE_LENGTH) {
    return `pairCode must be at most ${MAX_PAIR_CODE_LENGTH} characters`;
  }
  if (!PAIR_CODE_PATTERN.test(code)) {
    return "pairCode may hold only letters, digits and . _ ~ : @ + = -";
  }
  return null;
}

/**
 * Checks the body of a `pair` request.
 *
 * @param value The received payload.
 * @returns The request, or the reason it is malformed.
 */
export function checkPairRequest(value: unknown): PairRequest | string {
  if (!isRecord(value)) return "pair expects an object { v, pairCode, peerId }";
  const { v, pairCode, peerId, webrtc, batch, maxFrameSize } = value;
  if (webrtc !== undefined && typeof webrtc !== "boolean") return "webrtc must be a boolean";
  if (batch !== undefined && typeof batch !== "boolean") return "batch must be a boolean";
  if (
    maxFrameSize !== undefined &&
    !(Number.isSafeInteger(maxFrameSize) && (maxFrameSize as number) >= BASE_FRAME_SIZE)
  ) {
    return `maxFrameSize must be an integer of at least ${BASE_FRAME_SIZE}`;
  }
  if (typeof v !== "number" || !Number.isInteger(v)) return "v must be the protocol version";
  const bad = checkPairCode(pairCode);
  if (bad) return bad;
  if (
    typeof peerId !== "string" || peerId.length === 0 || peerId.length > MAX_PEER_ID_LENGTH ||
    !/^[\w-]+$/.test(peerId)
  ) {
    return `peerId must be 1 to ${MAX_PEER_ID_LENGTH} characters of [A-Za-z0-9_-]`;
  }
  return {
    v,
    pairCode: pairCode as string,
    peerId,
    webrtc: webrtc !== false,
    batch: batch === true,
    maxFrameSize: (maxFrameSize as number | undefined) ?? BASE_FRAME_SIZE,
  };
}

/**
 * Checks the body of a `signal` message. The SDP is not parsed: only its
 * type and size are checked.
 *
 * @param value The received payload.
 * @returns The signal, or the reason it is malformed.
 */
export function checkSignal(value: unknown): Signal | string {
  if (!isRecord(value)) return "signal expects an object { type, attempt, … }";
  const { type, attempt, sdp, candidate } = value;
  if (!SIGNAL_TYPES.includes(type as SignalType)) {
    return `signal type must be one of ${SIGNAL_TYPES.join(", ")}`;
  }
  if (typeof attempt !== "string" || attempt.length === 0 || attempt.length > 64) {
    return "signal attempt must be a string of 1 to 64 characters";
  }
  const signal: Signal = { type: type as SignalType, attempt };
  if (type === "offer" || type === "answer") {
    if (typeof sdp !== "string" || sdp.length > MAX_SIGNAL_SIZE) {
      return `${type} needs an sdp string of at most ${MAX_SIGNAL_SIZE} characters`;
    }
    signal.sdp = sdp;
  } else if (type === "candidate") {
    if (candidate === null) {
      signal.candidate = null;
    } else {
      if (!isRecord(candidate) || typeof candidate.candidate !== "string") {
        return "candidate needs { candidate: string, sdpMid?, sdpMLineIndex? } or null";
      }
      const { sdpMid, sdpMLineIndex, usernameFragment } = candidate;
      if (candidate.candidate.length > 4096) return "candidate is too long";
      if (sdpMid != null && (typeof sdpMid !== "string" || sdpMid.length > 256)) {
        return "candidate sdpMid must be a short string";
      }
      if (sdpMLineIndex != null && !Number.isInteger(sdpMLineIndex)) {
        return "candidate sdpMLineIndex must be an integer";
      }
      if (
        usernameFragment != null &&
        (typeof usernameFragment !== "string" || usernameFragment.length > 256)
      ) {
        return "candidate usernameFragment must be a short string";
      }
      signal.candidate = {
        candidate: candidate.candidate,
        sdpMid: (sdpMid ?? null) as string | null,
        sdpMLineIndex: (sdpMLineIndex ?? null) as number | null,
        ...(usernameFragment != null ? { usernameFragment: usernameFragment as string } : {}),
      };
    }
  }
  return signal;
}

/**
 * Reads a binary frame as bytes, whatever form the transport delivered it in
 * (Uint8Array and Node Buffer in Deno, ArrayBuffer in browsers).
 *
 * @param value The received payload.
 * @returns A view of its bytes, or null when it is not binary.
 */
export function asBytes(value: unknown): Uint8Array | null {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return null;
}
