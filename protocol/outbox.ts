// Browser-safe: no Deno or Node APIs.
/**
 * The sending half of the exactly-once stream: numbers messages, keeps every
 * one until the partner acknowledges it, hands out frames within a window of
 * unacknowledged bytes, and rewinds to resend after a path is lost.
 *
 * It knows nothing of paths: the caller asks {@linkcode Outbox.next} for a
 * frame whenever the path in use can take one.
 *
 * @example
 * ```ts
 * import { Outbox } from "./outbox.ts";
 * import { PayloadKind } from "./frame.ts";
 * const outbox = new Outbox(4 * 1024 * 1024);
 * outbox.enqueue(PayloadKind.STRING, new TextEncoder().encode("hello"));
 * for (let f = outbox.next(); f; f = outbox.next()) channel.send(f);
 * // later, when the partner's ACK frame arrives:
 * outbox.ack(1);
 * ```
 *
 * @module
 */
import { BASE_FRAME_SIZE, DATA_HEADER_SIZE, encodeMessage, type PayloadKind } from "./frame.ts";

interface Outgoing {
  seq: number;
  /** Null while the payload is still being read (a Blob). */
  frames: Uint8Array[] | null;
  /** Payload bytes, counted in `bufferedAmount`. */
  size: number;
  /** Bytes of frames handed out since the last rewind. */
  sent: number;
}

/** Bytes of each slab that small frames are carved from. */
const SLAB_SIZE = 64 * 1024;
/**
 * Frames up to this size share slabs: one allocation for many small messages
 * instead of one each, which costs more than copying a small payload.
 */
const SLAB_FRAME_MAX = 4 * 1024;

/** Send-side state of one exactly-once stream. */
export class Outbox {
  #nextSeq = 1;
  #queue: Outgoing[] = [];
  /** Index in #queue and frame index of the next frame to hand out. */
  #cursor = 0;
  #frameCursor = 0;
  #inFlight = 0;
  #buffered = 0;
  /**
   * The highest sequence number of which a frame was handed out since the
   * stream began: a rewind sends again, but cannot unsend.
   */
  #sentThrough = 0;
  #slab = new Uint8Array(0);
  #slabUsed = 0;
  /**
   * The largest frame of messages accepted from now on: what the partner and
   * the server agreed to (`peer.found`'s `maxFrameSize`). Messages already
   * accepted keep their frames, unless {@linkcode Outbox.restart} makes them
   * smaller for a new partner.
   */
  frameSize = BASE_FRAME_SIZE;
  /** Where frames are written: small ones side by side in a shared slab. */
  #alloc = (size: number): Uint8Array => {
    if (size > SLAB_FRAME_MAX) return new Uint8Array(size);
    if (this.#slabUsed + size > this.#slab.byteLength) {
      this.#slab = new Uint8Array(SLAB_SIZE);
      this.#slabUsed = 0;
    }
    return this.#slab.subarray(this.#slabUsed, this.#slabUsed += size);
  };

  /**
   * @param window The most bytes handed out but not yet acknowledged. It
   * bounds what a path (and the relay server) must buffer for this sender.
   */
  constructor(readonly window: number) {}

  /** Payload bytes accepted and not yet acknowledged. */
  get bufferedAmount(): number {
    return this.#buffered;
  }

  /** Messages accepted and not yet acknowledged. */
  get length(): number {
    return this.#queue.length;
  }

  /** Bytes handed out and not yet acknowledged. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The highest sequence number assigned so far. */
  get lastSeq(): number {
    return this.#nextSeq - 1;
  }

  /**
   * Accepts a message.
   *
   * @param kind What the payload holds.
   * @param payload The encoded message.
   * @returns The sequence number given to it.
   */
  enqueue(kind: PayloadKind, payload: Uint8Array): number {
    const seq = this.#nextSeq++;
    this.#queue.push({
      seq,
      frames: this.#encode(seq, kind, payload),
      size: payload.byteLength,
      sent: 0,
    });
    this.#buffered += payload.byteLength;
    return seq;
  }

  #encode(seq: number, kind: PayloadKind, payload: Uint8Array): Uint8Array[] {
    return encodeMessage(seq, kind, payload, { frameSize: this.frameSize, alloc: this.#alloc });
  }

  /**
   * Holds a place in the sequence for a payload that is not ready yet (a Blob
   * being read), so that messages sent after it still go after it.
   *
   * @param size The payload's size, counted in `bufferedAmount` at once.
   * @returns A function that fills the place when the payload is ready.
   */
  reserve(size: number): (kind: PayloadKind, payload: Uint8Array) => void {
    const entry: Outgoing = { seq: this.#nextSeq++, frames: null, size, sent: 0 };
    this.#queue.push(entry);
    this.#buffered += size;
    return (kind, payload) => {
      entry.frames = this.#encode(entry.seq, kind, payload);
      this.#buffered += payload.byteLength - entry.size;
      entry.size = payload.byteLength;
    };
  }

  /**
   * The next frame to transmit, or null when there is none ready, the window
   * is full, or the next frame is larger than `limit` (it stays next). A
   * small frame may be a view into a buffer it shares with others.
   *
   * @param limit The most bytes the frame may have: what room is left in a
   * batch being filled.
   */
  next(limit = Infinity): Uint8Array | null {
    if (this.#inFlight >= this.window) return null;
    const entry = this.#queue[this.#cursor];
    if (!entry?.frames) return null;
    const frame = entry.frames[this.#frameCursor];
    if (frame.byteLength > limit) return null;
    if (++this.#frameCursor === entry.frames.length) {
      this.#cursor++;
      this.#frameCursor = 0;
    }
    entry.sent += frame.byteLength;
    this.#inFlight += frame.byteLength;
    if (entry.seq > this.#sentThrough) this.#sentThrough = entry.seq;
    return frame;
  }

  /**
   * Applies a cumulative acknowledgement.
   *
   * @param ackSeq Every message up to this number was delivered.
   * @returns False when `ackSeq` names a message never sent (the partner is
   * confused or hostile), true otherwise.
   */
  ack(ackSeq: number): boolean {
    if (ackSeq >= this.#nextSeq) return false;
    let removed = 0;
    while (removed < this.#queue.length && this.#queue[removed].seq <= ackSeq) {
      const entry = this.#queue[removed++];
      this.#inFlight -= entry.sent;
      this.#buffered -= entry.size;
    }
    if (removed === 0) return true;
    this.#queue.splice(0, removed);
    if (this.#cursor >= removed) {
      this.#cursor -= removed;
    } else {
      this.#cursor = 0;
      this.#frameCursor = 0;
    }
    return true;
  }

  /**
   * Makes every unacknowledged message transmit again from its first frame:
   * called when the path they went out on was lost. The receiver drops the
   * copies it already has.
   */
  rewind(): void {
    for (const entry of this.#queue) entry.sent = 0;
    this.#cursor = 0;
    this.#frameCursor = 0;
    this.#inFlight = 0;
  }

  /**
   * Starts a new stream for a new partner. Messages never transmitted are
   * kept and renumbered from 1 (and cut again when their frames are larger
   * than `frameSize` allows now); messages the old partner may have received
   * but never acknowledged are dropped.
   *
   * @returns How many messages were dropped.
   */
  restart(): number {
    const kept = this.#queue.filter((entry) => entry.seq > this.#sentThrough);
    const dropped = this.#queue.length - kept.length;
    this.#queue = [];
    this.#buffered = 0;
    this.#inFlight = 0;
    this.#cursor = 0;
    this.#frameCursor = 0;
    this.#nextSeq = 1;
    this.#sentThrough = 0;
    for (const entry of kept) {
      entry.seq = this.#nextSeq++;
      entry.sent = 0;
      const frames = entry.frames ?? [];
      if (frames.some((frame) => frame.byteLength > this.frameSize)) {
        entry.frames = this.#encode(entry.seq, frames[0][1] as PayloadKind, payloadOf(frames));
      } else {
        for (const frame of frames) {
          new DataView(frame.buffer, frame.byteOffset).setFloat64(4, entry.seq);
        }
      }
      this.#queue.push(entry);
      this.#buffered += entry.size;
    }
    return dropped;
  }
}

/** The payload of a message, joined from its frames. */
function payloadOf(frames: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const frame of frames) size += frame.byteLength - DATA_HEADER_SIZE;
  const payload = new Uint8Array(size);
  let at = 0;
  for (const frame of frames) {
    payload.set(frame.subarray(DATA_HEADER_SIZE), at);
    at += frame.byteLength - DATA_HEADER_SIZE;
  }
  return payload;
}
