// Browser-safe: runs in browsers and in Deno.
/**
 * Keeps this peer's relay traffic below the rate the server enforces (it
 * learns the rate on pairing), so that an honest bulk transfer slows down
 * instead of being warned and disconnected. The DataChannel is not paced.
 *
 * @example
 * ```ts
 * const pacer = new RelayPacer(() => stream.pump());
 * pacer.configure({ messagesPerSecond: 5000, bytesPerSecond: 16 << 20 });
 * if (pacer.ready()) { pacer.spend(frame.byteLength); socket.emit("data", frame); }
 * ```
 *
 * @module
 */
import { MAX_FRAME_SIZE } from "../protocol/frame.ts";
import { TokenBucket } from "../protocol/token_bucket.ts";

/** The share of the server's rate the client allows itself. */
const HEADROOM = 0.9;
/** How soon to look again once the budget is spent, in ms. */
const RETRY_MS = 20;

/** Paces frames sent through the relay. */
export class RelayPacer {
  #messages: TokenBucket | null = null;
  #bytes: TokenBucket | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param wake Called when the budget may allow more frames again. */
  constructor(private readonly wake: () => void) {}

  /** Sets the rate the server announced; null lifts pacing. */
  configure(rate: { messagesPerSecond: number; bytesPerSecond: number } | null): void {
    if (!rate) {
      this.#messages = this.#bytes = null;
      return;
    }
    const messages = rate.messagesPerSecond * HEADROOM;
    const bytes = rate.bytesPerSecond * HEADROOM;
    this.#messages = new TokenBucket(messages, Math.max(1, messages));
    this.#bytes = new TokenBucket(bytes, Math.max(MAX_FRAME_SIZE, bytes));
  }

  /** Whether a frame may go now; when not, `wake` is called a little later. */
  ready(): boolean {
    if (!this.#messages || !this.#bytes) return true;
    if (this.#messages.level >= 1 && this.#bytes.level >= MAX_FRAME_SIZE) return true;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.wake();
    }, RETRY_MS);
    return false;
  }

  /** Counts a frame that went out. */
  spend(bytes: number): void {
    this.#messages?.take(1);
    this.#bytes?.take(Math.min(bytes, this.#bytes.level));
  }

  /** Stops the wake-up timer. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
