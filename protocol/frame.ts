// Browser-safe: no Deno or Node APIs.
/**
 * The binary frame codec. Every application message travels as one or more
 * DATA frames, and receipts travel as ACK frames; both paths (relay and
 * DataChannel) carry the very same bytes. Several frames ready at once may
 * travel together in one BATCH frame. All integers are big-endian.
 * Frames are at most {@linkcode BASE_FRAME_SIZE} bytes, or the larger size
 * both peers and the server agreed on (at most {@linkcode MAX_FRAME_SIZE}).
 *
 * ```text
 * DATA  | 0: type=1 (u8) | 1: kind (u8) | 2: reserved=0 (u16) | 4: seq (f64)
 *       | 12: chunkIndex (u32) | 16: chunkCount (u32) | 20: payload …
 * ACK   | 0: type=2 (u8) | 1: reserved=0 (u8 ×3) | 4: ackSeq (f64)
 * BATCH | 0: type=3 (u8) | 1: reserved=0 (u8 ×3)
 *       | 4: length (u16) | 6: DATA or ACK frame of that length | length (u16) | frame | …
 * ```
 *
 * `seq` numbers an application message (1, 2, 3, … per sender and partner),
 * exact as an f64 up to 2^53. `ackSeq` is cumulative: every message up to and
 * including it was delivered to the application. A BATCH is at most
 * {@linkcode MAX_BATCH_SIZE} bytes in all, and holds one or more DATA or ACK
 * frames (never a BATCH), in the order they were sent.
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
export const FrameType = { DATA: 1, ACK: 2, BATCH: 3 } as const;

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
 * The largest frame every peer accepts: 64 KiB, the max-message-size that
 * RFC 8841 implies when a DataChannel peer does not announce one. Frames are
 * at most this unless both peers and the server allow larger ones
 * (`maxFrameSize` in `pair` and `peer.found`).
 */
export const BASE_FRAME_SIZE = 64 * 1024;
/**
 * The largest frame this version sends, accepts and relays: a full 64 KiB of
 * payload and its header, so that a 64 KiB message is one frame. Chromium
 * and libdatachannel DataChannels take messages of up to 256 KiB.
 */
export const MAX_FRAME_SIZE = 64 * 1024 + DATA_HEADER_SIZE;
/**
 * Payload bytes of every DATA frame of a message but the last, when frames
 * are {@linkcode BASE_FRAME_SIZE} bytes: the fewest any sender puts there.
 */
export const CHUNK_SIZE = BASE_FRAME_SIZE - DATA_HEADER_SIZE;
/**
 * The largest BATCH frame: 64 KiB, so that every length inside it fits its
 * u16 and a full-size DATA frame always travels alone.
 */
export const MAX_BATCH_SIZE = 64 * 1024;
/**
 * The frame size a peer uses with its partner, from `peer.found`'s
 * `maxFrameSize`: {@linkcode BASE_FRAME_SIZE} when the server gave none (an
 * older server), and never more than {@linkcode MAX_FRAME_SIZE}.
 *
 * @param announced `maxFrameSize` from `peer.found`, if any.
 * @returns The largest frame to send.
 *
 * @example
 * ```ts
 * agreedFrameSize(undefined); // 65536
 * agreedFrameSize(65_556); // 65556
 * ```
 */
export function agreedFrameSize(announced: number | undefined): number {
  if (typeof announced !== "number" || !(announced >= BASE_FRAME_SIZE)) return BASE_FRAME_SIZE;
  return Math.min(Math.floor(announced), MAX_FRAME_SIZE);
}

/** Bytes of a BATCH frame before its first inner frame. */
export const BATCH_HEADER_SIZE = 4;
/** Bytes of the length before each frame inside a BATCH frame. */
export const BATCH_LENGTH_SIZE = 2;

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

/** How {@linkcode encodeMessage} makes frames. */
export interface EncodeOptions {
  /**
   * The largest frame, in bytes: every frame but the last carries this
   * less the header. {@linkcode BASE_FRAME_SIZE} by default.
   */
  frameSize?: number;
  /**
   * Gives the bytes each frame is written to: `size` zeroed bytes, never
   * handed out before (by default, a new buffer per frame).
   */
  alloc?: (size: number) => Uint8Array;
}

/**
 * Splits one message into DATA frames of at most `frameSize` bytes. An empty
 * payload still makes one frame.
 *
 * @param seq The message's sequence number (≥ 1).
 * @param kind What the payload holds.
 * @param payload The encoded message.
 * @param options The frame size, and where frames are written.
 * @returns The frames, in order.
 * @throws {RangeError} When `frameSize` is outside
 * [{@linkcode BASE_FRAME_SIZE}, {@linkcode MAX_FRAME_SIZE}].
 *
 * @example
 * ```ts
 * encodeMessage(7, PayloadKind.BINARY, new Uint8Array(200_000)).length; // 4
 * encodeMessage(8, PayloadKind.BINARY, new Uint8Array(65_536), { frameSize: MAX_FRAME_SIZE })
 *   .length; // 1
 * ```
 */
export function encodeMessage(
  seq: number,
  kind: PayloadKind,
  payload: Uint8Array,
  { frameSize = BASE_FRAME_SIZE, alloc = (size) => new Uint8Array(size) }: EncodeOptions = {},
): Uint8Array[] {
  if (!(frameSize >= BASE_FRAME_SIZE && frameSize <= MAX_FRAME_SIZE)) {
    throw new RangeError(
      `frameSize ${frameSize} is outside [${BASE_FRAME_SIZE}, ${MAX_FRAME_SIZE}]`,
    );
  }
  const chunk = frameSize - DATA_HEADER_SIZE;
  const chunkCount = Math.max(1, Math.ceil(payload.byteLength / chunk));
  const frames: Uint8Array[] = [];
  for (let i = 0; i < chunkCount; i++) {
    const part = chunkCount === 1 ? payload : payload.subarray(i * chunk, (i + 1) * chunk);
    const frame = alloc(DATA_HEADER_SIZE + part.byteLength);
    // Byte by byte rather than through a DataView per frame: small messages
    // are many, and the view costs more than the writes.
    frame[0] = FrameType.DATA;
    frame[1] = kind;
    putFloat64(frame, 4, seq);
    putUint32(frame, 12, i);
    putUint32(frame, 16, chunkCount);
    frame.set(part, DATA_HEADER_SIZE);
    frames.push(frame);
  }
  return frames;
}

const scratch = new DataView(new ArrayBuffer(8));

/** Writes a big-endian float64 at `at`. */
function putFloat64(bytes: Uint8Array, at: number, value: number): void {
  scratch.setFloat64(0, value);
  for (let i = 0; i < 8; i++) bytes[at + i] = scratch.getUint8(i);
}

/** Writes a big-endian uint32 at `at`. */
function putUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
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

/**
 * Whether an encoded frame is a DATA frame that ends its message (its last
 * chunk), read from the header in place.
 *
 * @param frame An encoded DATA or ACK frame.
 * @returns True for the last DATA frame of a message.
 *
 * @example
 * ```ts
 * const frames = encodeMessage(1, PayloadKind.BINARY, new Uint8Array(100_000));
 * frames.map(endsMessage); // [false, true]
 * ```
 */
export function endsMessage(frame: Uint8Array): boolean {
  if (frame[0] !== FrameType.DATA || frame.byteLength < DATA_HEADER_SIZE) return false;
  const index = (frame[12] << 24 | frame[13] << 16 | frame[14] << 8 | frame[15]) >>> 0;
  const count = (frame[16] << 24 | frame[17] << 16 | frame[18] << 8 | frame[19]) >>> 0;
  return index === count - 1;
}

/**
 * Packs frames into one BATCH frame, to send several frames as one
 * transport message.
 *
 * @param frames DATA and ACK frames, in order; together at most
 * {@linkcode MAX_BATCH_SIZE} bytes with their lengths and the BATCH header
 * (see {@linkcode batchSize}).
 * @returns The BATCH frame.
 * @throws {RangeError} When the frames do not fit.
 *
 * @example
 * ```ts
 * const [a] = encodeMessage(1, PayloadKind.STRING, new TextEncoder().encode("a"));
 * const [b] = encodeMessage(2, PayloadKind.STRING, new TextEncoder().encode("b"));
 * const batch = encodeBatch([a, b, encodeAck(7)]);
 * decodeFrames(batch).length; // 3
 * ```
 */
export function encodeBatch(frames: readonly Uint8Array[]): Uint8Array {
  let size = BATCH_HEADER_SIZE;
  for (const frame of frames) size += BATCH_LENGTH_SIZE + frame.byteLength;
  if (size > MAX_BATCH_SIZE) throw new RangeError(`a batch of ${size} bytes is too large`);
  const batch = new Uint8Array(size);
  batch[0] = FrameType.BATCH;
  let at = BATCH_HEADER_SIZE;
  for (const frame of frames) {
    batch[at] = frame.byteLength >>> 8;
    batch[at + 1] = frame.byteLength & 0xff;
    batch.set(frame, at + BATCH_LENGTH_SIZE);
    at += BATCH_LENGTH_SIZE + frame.byteLength;
  }
  return batch;
}

/**
 * The size of a BATCH frame holding frames of these sizes.
 *
 * @param frameBytes The sum of the inner frames' sizes.
 * @param count How many inner frames.
 * @returns Bytes of the BATCH frame.
 *
 * @example
 * ```ts
 * batchSize(2 * 1044, 2) <= MAX_BATCH_SIZE; // true: two 1 KiB messages fit in one batch
 * ```
 */
export function batchSize(frameBytes: number, count: number): number {
  return BATCH_HEADER_SIZE + count * BATCH_LENGTH_SIZE + frameBytes;
}

function invalid(why: string): SocketPeerError {
  return new SocketPeerError(ErrorCode.INVALID_PAYLOAD, `Invalid frame: ${why}`);
}

/** Refuses a transport message by its size alone. */
function sizeProblem(byteLength: number): SocketPeerError | undefined {
  if (byteLength < ACK_FRAME_SIZE) return invalid(`${byteLength} bytes is too short`);
  if (byteLength > MAX_FRAME_SIZE) {
    return new SocketPeerError(
      ErrorCode.MESSAGE_TOO_LARGE,
      `Frame of ${byteLength} bytes exceeds ${MAX_FRAME_SIZE}`,
    );
  }
}

/**
 * Checks the DATA or ACK frame at `[start, start + length)` of `view`.
 *
 * @returns Why it is malformed, or undefined when it is well-formed.
 */
function frameProblem(view: DataView, start: number, length: number): SocketPeerError | undefined {
  if (length < ACK_FRAME_SIZE) return invalid(`${length} bytes is too short`);
  const type = view.getUint8(start);
  if (type === FrameType.BATCH) return invalid("a BATCH frame where one frame belongs");
  const seq = view.getFloat64(start + 4);
  if (!Number.isSafeInteger(seq) || seq < 0) return invalid(`sequence number ${seq}`);
  if (type === FrameType.ACK) {
    return length === ACK_FRAME_SIZE ? undefined : invalid("ACK frame has a body");
  }
  if (type !== FrameType.DATA) return invalid(`unknown type ${type}`);
  if (length < DATA_HEADER_SIZE) return invalid("DATA header is truncated");
  const kind = view.getUint8(start + 1);
  if (kind > PayloadKind.MSGPACK) return invalid(`unknown payload kind ${kind}`);
  if (seq < 1) return invalid("DATA sequence numbers start at 1");
  const chunkIndex = view.getUint32(start + 12);
  const chunkCount = view.getUint32(start + 16);
  if (chunkCount < 1 || chunkIndex >= chunkCount) {
    return invalid(`chunk ${chunkIndex} of ${chunkCount}`);
  }
}

/**
 * Walks the frames of a BATCH frame, checking its layout and each frame in
 * it, and calls `visit` with each well-formed frame's place.
 *
 * @returns Why the batch is malformed (or what `visit` refused), or undefined.
 */
function walkBatch(
  view: DataView,
  visit: (start: number, length: number) => SocketPeerError | undefined,
): SocketPeerError | undefined {
  const end = view.byteLength;
  if (end <= BATCH_HEADER_SIZE) return invalid("empty BATCH frame");
  for (let at = BATCH_HEADER_SIZE; at < end;) {
    if (end - at < BATCH_LENGTH_SIZE) return invalid("BATCH frame ends inside a length");
    const length = view.getUint16(at);
    at += BATCH_LENGTH_SIZE;
    if (length > end - at) return invalid(`a frame of ${length} bytes overruns its BATCH frame`);
    if (length > 0 && view.getUint8(at) === FrameType.BATCH) {
      return invalid("a BATCH frame inside a BATCH frame");
    }
    const problem = frameProblem(view, at, length) ?? visit(at, length);
    if (problem) return problem;
    at += length;
  }
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads the well-formed frame at `[start, start + length)` of `bytes`. */
function readFrame(bytes: Uint8Array, view: DataView, start: number, length: number): Frame {
  const type = view.getUint8(start);
  const seq = view.getFloat64(start + 4);
  if (type === FrameType.ACK) return { type, ackSeq: seq };
  return {
    type: FrameType.DATA,
    kind: view.getUint8(start + 1) as PayloadKind,
    seq,
    chunkIndex: view.getUint32(start + 12),
    chunkCount: view.getUint32(start + 16),
    payload: bytes.subarray(start + DATA_HEADER_SIZE, start + length),
  };
}

/**
 * Decodes and checks one DATA or ACK frame.
 *
 * @param bytes The frame, as received from either path.
 * @returns The frame's fields.
 * @throws {SocketPeerError} `ERR_INVALID_PAYLOAD` for a malformed frame (a
 * BATCH frame included: see {@linkcode decodeFrames}), `ERR_MESSAGE_TOO_LARGE`
 * for one over {@linkcode MAX_FRAME_SIZE}.
 *
 * @example
 * ```ts
 * const frame = decodeFrame(new Uint8Array(await event.data));
 * if (frame.type === FrameType.ACK) console.log(frame.ackSeq);
 * ```
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  const tooBig = sizeProblem(bytes.byteLength);
  if (tooBig) throw tooBig;
  const view = viewOf(bytes);
  const problem = frameProblem(view, 0, bytes.byteLength);
  if (problem) throw problem;
  return readFrame(bytes, view, 0, bytes.byteLength);
}

/**
 * Decodes and checks one transport message: a DATA or ACK frame, or a BATCH
 * frame and every frame in it. A BATCH is refused whole when any part of it
 * is malformed.
 *
 * @param bytes One message, as received from either path.
 * @returns Its frames, in order.
 * @throws {SocketPeerError} `ERR_INVALID_PAYLOAD` for a malformed frame, an
 * empty or nested BATCH, or a length that does not match the bytes;
 * `ERR_MESSAGE_TOO_LARGE` for a message over {@linkcode MAX_FRAME_SIZE}.
 *
 * @example
 * ```ts
 * for (const frame of decodeFrames(new Uint8Array(await event.data))) {
 *   if (frame.type === FrameType.DATA) inbox.push(frame);
 * }
 * ```
 */
export function decodeFrames(bytes: Uint8Array): Frame[] {
  if (bytes.byteLength === 0 || bytes[0] !== FrameType.BATCH) return [decodeFrame(bytes)];
  const tooBig = sizeProblem(bytes.byteLength);
  if (tooBig) throw tooBig;
  const view = viewOf(bytes);
  const frames: Frame[] = [];
  const problem = walkBatch(view, (start, length) => {
    frames.push(readFrame(bytes, view, start, length));
    return undefined;
  });
  if (problem) throw problem;
  return frames;
}

/** The fewest bytes of the message of the DATA frame at `start`; ACK frames give 0. */
function leastMessageSize(view: DataView, start: number, length: number): number {
  if (view.getUint8(start) !== FrameType.DATA) return 0;
  return leastSize(
    view.getUint32(start + 12),
    view.getUint32(start + 16),
    length - DATA_HEADER_SIZE,
  );
}

/**
 * The full chunks before chunk `chunkIndex` of `chunkCount`, plus this one
 * when it is the last. Chunks are counted at {@linkcode CHUNK_SIZE}, the
 * fewest bytes any sender puts in a chunk that is not the last.
 */
function leastSize(chunkIndex: number, chunkCount: number, payloadBytes: number): number {
  const last = chunkIndex === chunkCount - 1 ? payloadBytes : 0;
  return (chunkCount - 1) * CHUNK_SIZE + last;
}

/**
 * Checks one transport message as a relay does, reading the headers in
 * place (no decoded frame objects): every frame must be well-formed, and no
 * DATA frame may give away a message over `maxMessageSize` (see
 * {@linkcode minMessageSize}).
 *
 * @param bytes One message as received (a frame or a BATCH frame).
 * @param maxMessageSize The largest message allowed, in bytes.
 * @returns How many DATA and ACK frames it holds, or the refusal
 * (`ERR_INVALID_PAYLOAD` or `ERR_MESSAGE_TOO_LARGE`).
 *
 * @example
 * ```ts
 * const checked = checkFrames(bytes, 16 * 1024 * 1024);
 * if (typeof checked !== "number") refuse(checked.code, checked.message);
 * ```
 */
export function checkFrames(bytes: Uint8Array, maxMessageSize: number): number | SocketPeerError {
  const tooBig = sizeProblem(bytes.byteLength);
  if (tooBig) return tooBig;
  const view = viewOf(bytes);
  if (bytes[0] !== FrameType.BATCH) {
    const problem = frameProblem(view, 0, bytes.byteLength);
    if (problem) return problem;
    return leastMessageSize(view, 0, bytes.byteLength) > maxMessageSize
      ? tooLarge(maxMessageSize)
      : 1;
  }
  let count = 0;
  const problem = walkBatch(view, (start, length) => {
    count++;
    return leastMessageSize(view, start, length) > maxMessageSize
      ? tooLarge(maxMessageSize)
      : undefined;
  });
  return problem ?? count;
}

function tooLarge(maxMessageSize: number): SocketPeerError {
  return new SocketPeerError(
    ErrorCode.MESSAGE_TOO_LARGE,
    `message exceeds maxMessageSize ${maxMessageSize}`,
  );
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
  return leastSize(frame.chunkIndex, frame.chunkCount, frame.payload.byteLength);
}
