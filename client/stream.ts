// Browser-safe: runs in browsers and in Deno.
/**
 * The exactly-once stream that sits above both paths. It numbers every
 * message, sends frames on the best path that can take them (the
 * DataChannel, else the relay), resends what was not acknowledged when a
 * path is lost, drops duplicates, and releases messages in order. The
 * application sees one ordered stream whatever the paths do.
 *
 * @module
 */
import { Emitter } from "../protocol/emitter.ts";
import { ErrorCode, SocketPeerError } from "../protocol/errors.ts";
import { decodeFrame, encodeAck, FrameType } from "../protocol/frame.ts";
import { Inbox } from "../protocol/inbox.ts";
import { Outbox } from "../protocol/outbox.ts";
import { decodePayload, encodePayload, type Serialization } from "../protocol/serialization.ts";

/** The two ways a frame can travel. */
export type PathName = "relay" | "p2p";

/** One way to the partner, as the stream sees it. */
export interface Path {
  /** Whether the path exists (the relay is paired, the DataChannel is open). */
  open(): boolean;
  /** Whether a frame can be handed over now without overfilling its buffer. */
  writable(): boolean;
  /** Hands one frame over. */
  send(frame: Uint8Array): void;
}

/** Traffic of one path. */
export interface PathStats {
  messagesSent: number;
  bytesSent: number;
  messagesReceived: number;
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

  #paths: Record<PathName, Path>;
  #useRelay: boolean;
  #ackDue = false;
  #unackedMessages = 0;
  #unackedBytes = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #wantDrain = false;
  #pumping = false;
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
        this.pump();
      }, (err) => this.emit("error", err));
    } else {
      this.#checkSize(encoded.payload.byteLength);
      this.outbox.enqueue(encoded.kind, encoded.payload);
      this.pump();
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

  /** Sends what the window and the path allow. Called whenever either may have room. */
  pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    try {
      const name = this.path;
      if (!name) return;
      const path = this.#paths[name];
      if (this.#ackDue) this.#sendAck(name);
      while (path.writable()) {
        const frame = this.outbox.next();
        if (!frame) break;
        this.#transmit(name, frame);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #transmit(name: PathName, frame: Uint8Array): void {
    const stats = this.stats[name];
    stats.bytesSent += frame.byteLength;
    // The last chunk of a message counts the message.
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    if (view.getUint32(12) === view.getUint32(16) - 1) stats.messagesSent++;
    this.#paths[name].send(frame);
  }

  /**
   * Takes one frame from either path.
   *
   * @param bytes The frame.
   * @param from The path it came by.
   */
  receive(bytes: Uint8Array, from: PathName): void {
    if (this.#closed) return;
    let frame;
    try {
      frame = decodeFrame(bytes);
    } catch (err) {
      this.emit("warning", err as SocketPeerError);
      return;
    }
    const stats = this.stats[from];
    stats.bytesReceived += bytes.byteLength;
    if (frame.type === FrameType.ACK) {
      if (!this.outbox.ack(frame.ackSeq)) {
        this.emit(
          "warning",
          new SocketPeerError(
            ErrorCode.INVALID_PAYLOAD,
            `ack ${frame.ackSeq} of an unsent message`,
          ),
        );
      }
      this.pump();
      if (this.#wantDrain && this.outbox.bufferedAmount < this.options.highWaterMark / 2) {
        this.#wantDrain = false;
        this.emit("drain");
      }
      return;
    }
    let messages;
    try {
      messages = this.inbox.push(frame);
    } catch (err) {
      this.emit("error", err as SocketPeerError);
      return;
    }
    if (frame.chunkIndex === frame.chunkCount - 1) stats.messagesReceived++;
    this.#unackedBytes += bytes.byteLength;
    // A listener that throws must not cost the messages after it: deliver
    // them all, then let the first error surface as an uncaught one.
    let thrown: { error: unknown } | undefined;
    for (const message of messages) {
      this.#unackedMessages++;
      try {
        if (message.error) {
          this.emit("error", message.error);
        } else {
          let value;
          try {
            value = decodePayload(message.kind, message.payload);
          } catch (err) {
            this.emit("error", err as SocketPeerError);
            continue;
          }
          this.emit("data", value);
        }
      } catch (error) {
        thrown ??= { error };
      }
    }
    this.#scheduleAck();
    if (thrown) {
      const { error } = thrown;
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  #scheduleAck(): void {
    this.#ackDue = true;
    if (
      this.#unackedMessages >= ACK_EVERY_MESSAGES || this.#unackedBytes >= ACK_EVERY_BYTES
    ) {
      this.flushAck();
    } else {
      this.#ackTimer ??= setTimeout(() => this.flushAck(), ACK_DELAY_MS);
    }
  }

  /** Sends the pending acknowledgement now, if a path can take it. */
  flushAck(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    const name = this.#paths.p2p.open() ? "p2p" : this.#paths.relay.open() ? "relay" : null;
    if (name && this.#ackDue) this.#sendAck(name);
  }

  #sendAck(name: PathName): void {
    this.#ackDue = false;
    this.#unackedMessages = 0;
    this.#unackedBytes = 0;
    const frame = encodeAck(this.inbox.ackSeq);
    this.stats[name].bytesSent += frame.byteLength;
    this.#paths[name].send(frame);
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
