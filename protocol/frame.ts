// Browser-safe: no Deno or Node APIs.
/**
 * The binary frame codec. Every application message travels as one or more
 * DATA frames, and receipts travel as ACK frames; both paths (relay and
 * DataChannel) carry the very same bytes. All integers are big-endian.
 *
 * ```text
 * DATA  | 0: type=1 (u8) | 1: kind (u8) | 2: reserved=0 (u16) | 4: seq (f64)
 *       | 12: chunkIndex (u32) | 16: chunkCount (u32) | 20: payload …
 * ACK   | 0: type=2 (u8) | 1: reserved=0 (u8 ×3) | 4: ackSeq (f64)
 * ```
 *
 * `seq` numbers an application message (1, 2, 3, … per sender and partner),
 * exact as an f64 up to 2^53. `ackSeq` is cumulative: every message up to and
 * including it was delivered to the application.
 *
 * @example
 * ```ts
 * import { decodeFrame, encodeMessage, PayloadKind } from "./frame.ts";
 * const [frame] = encodeMessage(1, PayloadKind.STRING, new TextEncoder().encode("hi"));
 * decodeFrame(frame); // { type: 1, kind: 0, seq: 1, chunkIndex: 0, chunkCount: 1, payload }
 * ```
 *
 * @module
 */
import { ErrorCode, SocketPeerError } from "./errors.ts";

/** Frame type tags (byte 0). */
export const FrameType = { DATA: 1, ACK: 2 } as const;

/** What the payload of a message holds (byte 1 of a DATA frame). */
export const PayloadKind = {
  /** UTF-8 text; arrives as a string. */
  STRING: 0,
  /** Raw bytes; arrive as an ArrayBuffer. */
  BINARY: 1,
  /** UTF-8 JSON text; arrives parsed. */
  JSON: 2,
  /** MessagePack; arrives decoded (`serialization: "binary"`). */
  MSGPACK: 3,
} as const;

/** One of {@linkcode PayloadKind}. */
export type PayloadKind = typeof PayloadKind[keyof typeof PayloadKind];

/** Bytes of a DATA frame before its payload. */
export const DATA_HEADER_SIZE = 20;
/** Bytes of an ACK frame. */
export const ACK_FRAME_SIZE = 12;
/**
 * Payload bytes per DATA frame. 64 KiB keeps every frame under the 256 KiB
 * max-message-size of Chromium and libdatachannel DataChannels, and under the
 * 64 KiB default that RFC 8841 implies when a peer does not announce one.
 */
export const CHUNK_SIZE = 64 * 1024 - DATA_HEADER_SIZE;
/** The largest frame either path carries. */
export const MAX_FRAME_SIZE = CHUNK_SIZE + DATA_HEADER_SIZE;

/** A decoded DATA frame. `payload` is a view into the frame's bytes. */
export interface DataFrame {
  type: typeof FrameType.DATA;
  kind: PayloadKind;
  seq: number;
  chunkIndex: number;
  chunkCount: number;
  payload: Uint8Array;
}

/** A decoded ACK frame. */
export interface AckFrame {
  type: typeof FrameType.ACK;
  ackSeq: number;
}

/** Either frame. */
export type Frame = DataFrame | AckFrame;

/**
 * Splits one message into DATA frames of at most {@linkcode MAX_FRAME_SIZE}
 * bytes. An empty payload still makes one frame.
 *
 * @param seq The message's sequence number (≥ 1).
 * @param kind What the payload holds.
 * @param payload The encoded message.
 * @returns The frames, in order.
 *
 * @example
 * ```ts
 * const frames = encodeMessage(7, PayloadKind.BINARY, new Uint8Array(200_000));
 * frames.length; // 4
 * ```
 */
export function encodeMessage(seq: number, kind: PayloadKind, payload: Uint8Array): Uint8Array[] {
  const chunkCount = Math.max(1, Math.ceil(payload.byteLength / CHUNK_SIZE));
  const frames: Uint8Array[] = [];
  for (let i = 0; i < chunkCount; i++) {
    const part = payload.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE);
    const frame = new Uint8Array(DATA_HEADER_SIZE + part.byteLength);
    const view = new DataView(frame.buffer);
    view.setUint8(0, FrameType.DATA);
    view.setUint8(1, kind);
    view.setFloat64(4, seq);
    view.setUint32(12, i);
    view.setUint32(16, chunkCount);
    frame.set(part, DATA_HEADER_SIZE);
    frames.push(frame);
  }
  return frames;
}

/**
 * Encodes a cumulative receipt.
 *
 * @param ackSeq Every message up to this sequence number was delivered.
 * @returns The ACK frame.
 *
 * @example
 * ```ts
 * const frame = encodeAck(41);
 * ```
 */
export function encodeAck(ackSeq: number): Uint8Array {
  const frame = new Uint8Array(ACK_FRAME_SIZE);
  const view = new DataView(frame.buffer);
  view.setUint8(0, FrameType.ACK);
  view.setFloat64(4, ackSeq);
  return frame;
}

function invalid(why: string): SocketPeerError {
  return new SocketPeerError(ErrorCode.INVALID_PAYLOAD, `Invalid frame: ${why}`);
}

/**
 * Decodes and checks one frame.
 *
 * @param bytes The frame, as received from either path.
 * @returns The frame's fields.
 * @throws {SocketPeerError} `ERR_INVALID_PAYLOAD` for a malformed frame.
 *
 * @example
 * ```ts
 * const frame = decodeFrame(new Uint8Array(await event.data));
 * if (frame.type === FrameType.ACK) console.log(frame.ackSeq);
 * ```
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.byteLength < ACK_FRAME_SIZE) throw invalid(`${bytes.byteLength} bytes is too short`);
  if (bytes.byteLength > MAX_FRAME_SIZE) {
    throw new SocketPeerError(
      ErrorCode.MESSAGE_TOO_LARGE,
      `Frame of ${bytes.byteLength} bytes exceeds ${MAX_FRAME_SIZE}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint8(0);
  const seq = view.getFloat64(4);
  if (!Number.isSafeInteger(seq) || seq < 0) throw invalid(`sequence number ${seq}`);
  if (type === FrameType.ACK) {
    if (bytes.byteLength !== ACK_FRAME_SIZE) throw invalid("ACK frame has a body");
    return { type, ackSeq: seq };
  }
  if (type !== FrameType.DATA) throw invalid(`unknown type ${type}`);
  if (bytes.byteLength < DATA_HEADER_SIZE) throw invalid("DATA header is truncated");
  const kind = view.getUint8(1);
  if (kind > PayloadKind.MSGPACK) throw invalid(`unknown payload kind ${kind}`);
  if (seq < 1) throw invalid("DATA sequence numbers start at 1");
  const chunkIndex = view.getUint32(12);
  const chunkCount = view.getUint32(16);
  if (chunkCount < 1 || chunkIndex >= chunkCount) {
    throw invalid(`chunk ${chunkIndex} of ${chunkCount}`);
  }
  return {
    type,
    kind: kind as PayloadKind,
    seq,
    chunkIndex,
    chunkCount,
    payload: bytes.subarray(DATA_HEADER_SIZE),
  };
}

/**
 * The fewest bytes the message a DATA frame belongs to can have: its full
 * chunks before the last, plus the last chunk when this frame is it. The server refuses a message
 * over its limit at the first frame that gives it away. ACK frames give 0.
 *
 * @param frame A decoded frame.
 * @returns A lower bound of the whole message's size in bytes.
 *
 * @example
 * ```ts
 * if (minMessageSize(decodeFrame(bytes)) > maxMessageSize) refuse();
 * ```
 */
export function minMessageSize(frame: Frame): number {
  if (frame.type !== FrameType.DATA) return 0;
  const last = frame.chunkIndex === frame.chunkCount - 1 ? frame.payload.byteLength : 0;
  return (frame.chunkCount - 1) * CHUNK_SIZE + last;
}
