// Browser-safe: no Deno or Node APIs.
/**
 * The receiving half of the exactly-once stream: reassembles chunked
 * messages, drops duplicates, and releases messages strictly in sequence
 * order, whichever path each frame came by.
 *
 * @example
 * ```ts
 * import { Inbox } from "./inbox.ts";
 * import { decodeFrame, FrameType } from "./frame.ts";
 * const inbox = new Inbox(16 * 1024 * 1024);
 * const frame = decodeFrame(bytes);
 * if (frame.type === FrameType.DATA) {
 *   for (const message of inbox.push(frame)) deliver(message);
 *   sendAck(inbox.ackSeq);
 * }
 * ```
 *
 * @module
 */
import { ErrorCode, SocketPeerError } from "./errors.ts";
import { CHUNK_SIZE, type DataFrame, type PayloadKind } from "./frame.ts";

/** A whole application message, ready to decode. */
export interface InboundMessage {
  seq: number;
  kind: PayloadKind;
  payload: Uint8Array;
  /**
   * Set when the message was refused (larger than the limit): it holds its
   * place in the order so that later messages still flow, and carries the
   * error to report instead of data.
   */
  error?: SocketPeerError;
}

interface Partial {
  kind: PayloadKind;
  chunks: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
}

/**
 * How far past the next expected message a frame may be. Frames arrive out
 * of order only around a path switch, within the sender's window; a larger
 * gap means a broken or hostile sender.
 */
export const MAX_REORDER_DISTANCE = 65_536;

/** Receive-side state of one exactly-once stream. */
export class Inbox {
  #delivered = 0;
  #partial = new Map<number, Partial>();
  #complete = new Map<number, InboundMessage>();
  #duplicates = 0;

  /**
   * @param maxMessageSize The largest message accepted, in bytes.
   */
  constructor(public maxMessageSize: number) {}

  /** The cumulative acknowledgement to send: every message up to it was released. */
  get ackSeq(): number {
    return this.#delivered;
  }

  /** Frames dropped because their message was already received. */
  get duplicates(): number {
    return this.#duplicates;
  }

  /**
   * Takes one DATA frame.
   *
   * @param frame A decoded DATA frame from either path.
   * @returns The messages this frame makes deliverable, in order (often none or one).
   * A message over the limit comes out in its place with `error` set.
   * @throws {SocketPeerError} `ERR_INVALID_PAYLOAD` for a frame no
   * well-behaved sender makes.
   */
  push(frame: DataFrame): InboundMessage[] {
    const { seq } = frame;
    if (seq <= this.#delivered || this.#complete.has(seq)) {
      this.#duplicates++;
      return [];
    }
    if (seq - this.#delivered > MAX_REORDER_DISTANCE) {
      throw new SocketPeerError(ErrorCode.INVALID_PAYLOAD, `Message ${seq} is too far ahead`);
    }
    let message: InboundMessage | null;
    try {
      message = frame.chunkCount === 1 ? this.#single(frame) : this.#reassemble(frame);
    } catch (err) {
      if ((err as SocketPeerError).code !== ErrorCode.MESSAGE_TOO_LARGE) throw err;
      // Refuse this one message, not the stream: it keeps its place, its
      // other chunks are dropped as duplicates, and later messages flow.
      this.#partial.delete(seq);
      message = {
        seq,
        kind: frame.kind,
        payload: new Uint8Array(0),
        error: err as SocketPeerError,
      };
    }
    if (!message) return [];
    if (seq !== this.#delivered + 1) {
      this.#complete.set(seq, message);
      return [];
    }
    const ready = [message];
    this.#delivered = seq;
    for (let next = this.#complete.get(seq + 1); next; next = this.#complete.get(next.seq + 1)) {
      this.#complete.delete(next.seq);
      ready.push(next);
      this.#delivered = next.seq;
    }
    return ready;
  }

  #single(frame: DataFrame): InboundMessage {
    if (frame.payload.byteLength > this.maxMessageSize) {
      throw new SocketPeerError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `Message ${frame.seq} of ${frame.payload.byteLength} bytes exceeds ${this.maxMessageSize}`,
      );
    }
    return { seq: frame.seq, kind: frame.kind, payload: frame.payload };
  }

  #reassemble(frame: DataFrame): InboundMessage | null {
    const { seq, chunkIndex, chunkCount } = frame;
    if ((chunkCount - 1) * CHUNK_SIZE >= this.maxMessageSize) {
      throw new SocketPeerError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `Message ${seq} of ${chunkCount} chunks exceeds ${this.maxMessageSize} bytes`,
      );
    }
    let partial = this.#partial.get(seq);
    if (!partial) {
      partial = { kind: frame.kind, chunks: new Array(chunkCount), received: 0, bytes: 0 };
      this.#partial.set(seq, partial);
    } else if (partial.chunks.length !== chunkCount || partial.kind !== frame.kind) {
      throw new SocketPeerError(ErrorCode.INVALID_PAYLOAD, `Chunks of message ${seq} disagree`);
    }
    if (partial.chunks[chunkIndex]) {
      this.#duplicates++;
      return null;
    }
    partial.chunks[chunkIndex] = new Uint8Array(frame.payload); // a copy, never a view (Buffer.slice views)
    partial.received++;
    partial.bytes += frame.payload.byteLength;
    if (partial.received < chunkCount) return null;
    this.#partial.delete(seq);
    if (partial.bytes > this.maxMessageSize) {
      throw new SocketPeerError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `Message ${seq} of ${partial.bytes} bytes exceeds ${this.maxMessageSize}`,
      );
    }
    const payload = new Uint8Array(partial.bytes);
    let offset = 0;
    for (const chunk of partial.chunks as Uint8Array[]) {
      payload.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return { seq, kind: partial.kind, payload };
  }

  /** Forgets everything: the partner changed and a new stream begins at 1. */
  reset(): void {
    this.#delivered = 0;
    this.#partial.clear();
    this.#complete.clear();
  }
}
