// Browser-safe: runs in browsers and in Deno.
/**
 * The exactly-once stream that sits above both paths. It numbers every
 * message, sends frames on the best path that can take them (the
 * DataChannel, else the relay), resends what was not acknowledged when a
 * path is lost, drops duplicates, and releases messages in order. The
 * application sees one ordered stream whatever the paths do.
 *
 * Frames go out in a microtask after `send()`, so that messages sent in one
 * synchronous run (and a pending acknowledgement) can share a transport
 * message: a BATCH frame of at most 64 KiB, when the partner decodes them.
 * Nothing waits on a timer to fill a batch.
 *
 * @module
 */
import { Emitter } from "../protocol/emitter.ts";
import { ErrorCode, SocketPeerError } from "../protocol/errors.ts";
import {
  batchSize,
  DATA_HEADER_SIZE,
  type DataFrame,
  decodeFrames,
  encodeAck,
  encodeBatch,
  endsMessage,
  type Frame,
  FrameType,
  MAX_BATCH_SIZE,
} from "../protocol/frame.ts";
import { Inbox } from "../protocol/inbox.ts";
import { Outbox } from "../protocol/outbox.ts";
import {
  type BinaryType,
  decodePayload,
  encodePayload,
  type Serialization,
} from "../protocol/serialization.ts";

/** The two ways a frame can travel. */
export type PathName = "relay" | "p2p";

/** One way to the partner, as the stream sees it. */
export interface Path {
  /** Whether the path exists (the relay is paired, the DataChannel is open). */
  open(): boolean;
  /** Whether a frame can be handed over now without overfilling its buffer. */
  writable(): boolean;
  /** Hands one transport message (a frame, or a BATCH frame) over. */
  send(frame: Uint8Array): void;
}

/** Traffic of one path. */
export interface PathStats {
  /** Application messages whose last frame went out on this path. */
  messagesSent: number;
  /** Bytes of transport messages (frames and BATCH frames) sent, acknowledgements included. */
  bytesSent: number;
  /** Application messages whose last frame came in on this path. */
  messagesReceived: number;
  /** Bytes of transport messages received. */
  bytesReceived: number;
}

/** What the stream reports. */
export interface StreamEvents {
  [event: string]: unknown[];
  data: [data: unknown];
  drain: [];
  error: [error: SocketPeerError];
  warning: [warning: SocketPeerError];
}

/**
 * Bytes that may be on the way unacknowledged. It bounds what the relay
 * server buffers for one sender, and what a DataChannel queues (Chromium
 * fails a send past 16 MiB).
 */
export const SEND_WINDOW = 4 * 1024 * 1024;
/** Acknowledge at once after this many messages… */
const ACK_EVERY_MESSAGES = 64;
/** …or this many bytes; otherwise after a short delay that batches acks. */
const ACK_EVERY_BYTES = SEND_WINDOW / 4;
const ACK_DELAY_MS = 5;

/**
 * The frame in a buffer of its own: a transport gets exactly the bytes it
 * sends, never a view into the outbox's shared slabs.
 */
function whole(frame: Uint8Array): Uint8Array {
  return frame.byteLength === frame.buffer.byteLength ? frame : frame.slice();
}

/** One exactly-once stream between this peer and its partner. */
export class MessageStream extends Emitter<StreamEvents> {
  readonly outbox = new Outbox(SEND_WINDOW);
  readonly inbox: Inbox;
  readonly stats: Record<PathName, PathStats> = {
    relay: { messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0 },
    p2p: { messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0 },
  };
  /** Messages sent again after a path was lost. */
  resent = 0;
  /** The largest message this side sends. */
  maxMessageSize: number;
  /** Whether the partner decodes BATCH frames, so several frames may share a transport message. */
  batching = false;

  #paths: Record<PathName, Path>;
  #useRelay: boolean;
  #ackDue = false;
  #unackedMessages = 0;
  #unackedBytes = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #wantDrain = false;
  #pumping = false;
  #pumpQueued = false;
  #closed = false;

  /**
   * @param paths The relay and the DataChannel.
   * @param options `serialization`, `maxMessageSize`, `highWaterMark`, and
   * `useRelay` (false: data waits for the DataChannel).
   */
  constructor(
    paths: Record<PathName, Path>,
    private readonly options: {
      serialization: Serialization;
      binaryType?: BinaryType;
      maxMessageSize: number;
      highWaterMark: number;
      useRelay: boolean;
    },
  ) {
    super();
    this.#paths = paths;
    this.#useRelay = options.useRelay;
    this.maxMessageSize = options.maxMessageSize;
    this.inbox = new Inbox(options.maxMessageSize);
  }

  /**
   * Sets the size limits: what this side sends, and what it accepts (the
   * server's limit, which the partner sends under too).
   */
  limits(send: number, receive: number): void {
    this.maxMessageSize = send;
    this.inbox.maxMessageSize = receive;
  }

  /** Payload bytes sent and not yet acknowledged. */
  get bufferedAmount(): number {
    return this.outbox.bufferedAmount;
  }

  /** The path frames go on now, or null when neither can take them. */
  get path(): PathName | null {
    if (this.#paths.p2p.open()) return "p2p";
    if (this.#useRelay && this.#paths.relay.open()) return "relay";
    return null;
  }

  /**
   * Accepts one application message.
   *
   * @returns False when the buffer is past `highWaterMark` (wait for `drain`).
   * @throws {SocketPeerError} `ERR_INVALID_DATA` or `ERR_MESSAGE_TOO_LARGE`.
   */
  send(data: unknown): boolean {
    const encoded = encodePayload(data, this.options.serialization);
    if (encoded instanceof Promise) {
      const size = (data as Blob).size;
      this.#checkSize(size);
      const fill = this.outbox.reserve(size);
      encoded.then((e) => {
        fill(e.kind, e.payload);
        this.#pumpSoon();
      }, (err) => this.emit("error", err));
    } else {
      this.#checkSize(encoded.payload.byteLength);
      this.outbox.enqueue(encoded.kind, encoded.payload);
      this.#pumpSoon();
    }
    const below = this.outbox.bufferedAmount < this.options.highWaterMark;
    if (!below) this.#wantDrain = true;
    return below;
  }

  #checkSize(size: number): void {
    if (size > this.maxMessageSize) {
      throw new SocketPeerError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `message of ${size} bytes exceeds maxMessageSize ${this.maxMessageSize}`,
      );
    }
  }

  /**
   * Pumps once the current synchronous run is over: the `send()` calls of
   * one run then share transport messages. A microtask, never a timer.
   */
  #pumpSoon(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.pump();
    });
  }

  /**
   * Sends what the window and the path allow, and a pending acknowledgement.
   * Called whenever either may have room.
   */
  pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    try {
      const name = this.path;
      if (name) this.#sendFrames(name);
      if (this.#ackDue) this.flushAck();
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Fills transport messages with the frames that are ready: each one frame,
   * or, when batching, as many whole frames as fit in one BATCH frame of
   * {@linkcode MAX_BATCH_SIZE} bytes, a pending acknowledgement first.
   */
  #sendFrames(name: PathName): void {
    const path = this.#paths[name];
    const frames: Uint8Array[] = [];
    while (path.writable()) {
      let bytes = 0;
      if (this.#ackDue) {
        const ack = this.#takeAck();
        frames.push(ack);
        bytes += ack.byteLength;
      }
      for (;;) {
        // The first frame goes whatever its size; the next ones if they fit.
        const room = frames.length === 0
          ? Infinity
          : this.batching
          ? MAX_BATCH_SIZE - batchSize(bytes, frames.length + 1)
          : -1;
        const frame = this.outbox.next(room);
        if (!frame) break;
        frames.push(frame);
        bytes += frame.byteLength;
      }
      if (frames.length === 0) return;
      this.#transmit(name, frames);
      frames.length = 0;
    }
  }

  #transmit(name: PathName, frames: Uint8Array[]): void {
    const stats = this.stats[name];
    const message = frames.length > 1 ? encodeBatch(frames) : whole(frames[0]);
    stats.bytesSent += message.byteLength;
    for (const frame of frames) if (endsMessage(frame)) stats.messagesSent++;
    this.#paths[name].send(message);
  }

  /**
   * Takes one transport message from either path: a frame, or a BATCH frame
   * of several, each handled as if it had come alone.
   *
   * @param bytes The transport message.
   * @param from The path it came by.
   */
  receive(bytes: Uint8Array, from: PathName): void {
    if (this.#closed) return;
    let frames: Frame[];
    try {
      frames = decodeFrames(bytes);
    } catch (err) {
      this.emit("warning", err as SocketPeerError);
      return;
    }
    const stats = this.stats[from];
    stats.bytesReceived += bytes.byteLength;
    let acked = false;
    let data = false;
    // A listener that throws must not cost the messages after it: deliver
    // them all, then let the first error surface as an uncaught one.
    let thrown: { error: unknown } | undefined;
    const caught = (error: unknown) => thrown ??= { error };
    for (const frame of frames) {
      if (this.#closed) break;
      try {
        if (frame.type === FrameType.ACK) {
          acked = true;
          this.#takeAckFrame(frame.ackSeq);
        } else if (this.#takeDataFrame(frame, stats, caught)) {
          data = true;
        }
      } catch (error) {
        caught(error);
      }
    }
    if (data) this.#scheduleAck();
    if (acked) {
      this.pump();
      if (this.#wantDrain && this.outbox.bufferedAmount < this.options.highWaterMark / 2) {
        this.#wantDrain = false;
        this.emit("drain");
      }
    }
    if (thrown) {
      const { error } = thrown;
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  #takeAckFrame(ackSeq: number): void {
    if (!this.outbox.ack(ackSeq)) {
      this.emit(
        "warning",
        new SocketPeerError(ErrorCode.INVALID_PAYLOAD, `ack ${ackSeq} of an unsent message`),
      );
    }
  }

  /**
   * Puts one DATA frame in the inbox and delivers what it completes.
   *
   * @param caught Takes what a listener throws, so that delivery goes on.
   * @returns False when the inbox refused the frame.
   */
  #takeDataFrame(frame: DataFrame, stats: PathStats, caught: (error: unknown) => void): boolean {
    let messages;
    try {
      messages = this.inbox.push(frame);
    } catch (err) {
      this.emit("error", err as SocketPeerError);
      return false;
    }
    if (frame.chunkIndex === frame.chunkCount - 1) stats.messagesReceived++;
    this.#unackedBytes += DATA_HEADER_SIZE + frame.payload.byteLength;
    for (const message of messages) {
      this.#unackedMessages++;
      try {
        if (message.error) {
          this.emit("error", message.error);
          continue;
        }
        let value;
        try {
          value = decodePayload(message.kind, message.payload, this.options.binaryType);
        } catch (err) {
          this.emit("error", err as SocketPeerError);
          continue;
        }
        this.emit("data", value);
      } catch (error) {
        caught(error);
      }
    }
    return true;
  }

  #scheduleAck(): void {
    this.#ackDue = true;
    if (
      this.#unackedMessages >= ACK_EVERY_MESSAGES || this.#unackedBytes >= ACK_EVERY_BYTES
    ) {
      // In a microtask: what the listeners sent in reply carries it.
      this.#pumpSoon();
    } else {
      this.#ackTimer ??= setTimeout(() => this.flushAck(), ACK_DELAY_MS);
    }
  }

  /** Sends the pending acknowledgement now, alone, if a path can take it. */
  flushAck(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    const name = this.#paths.p2p.open() ? "p2p" : this.#paths.relay.open() ? "relay" : null;
    if (name && this.#ackDue) this.#transmit(name, [this.#takeAck()]);
  }

  /** The pending acknowledgement, as a frame that will be sent now. */
  #takeAck(): Uint8Array {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    this.#ackDue = false;
    this.#unackedMessages = 0;
    this.#unackedBytes = 0;
    return encodeAck(this.inbox.ackSeq);
  }

  /**
   * A path was lost: everything unacknowledged goes out again on the path
   * that remains (the receiver drops what it already has).
   */
  rewind(): void {
    this.resent += this.outbox.length;
    this.outbox.rewind();
    this.#ackDue = true;
    this.pump();
  }

  /**
   * The partner changed (or is the same after a reconnect).
   *
   * @param same True when it is the same partner instance as before: the
   * stream resumes; false: a new stream starts.
   */
  partner(same: boolean): void {
    if (same) {
      this.rewind();
      return;
    }
    const dropped = this.outbox.restart();
    this.inbox.reset();
    if (dropped > 0) {
      this.emit(
        "warning",
        new SocketPeerError(
          ErrorCode.NOT_PAIRED,
          `${dropped} message(s) the previous partner never acknowledged were dropped`,
        ),
      );
    }
    this.pump();
  }

  /** Resolves once every message sent so far is acknowledged, or the stream closes. */
  flushed(): Promise<void> {
    if (this.outbox.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.outbox.length === 0 || this.#closed) {
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(check, 10);
    });
  }

  /** Stops all work; later frames are ignored. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#ackTimer);
  }
}
