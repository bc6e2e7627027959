/**
 * Attacks on the server's memory bounds, measured on a server process: a
 * receiver that stops reading while data or signals are pushed at it, and a
 * client that never reads while it makes the server answer it. Each returns
 * what it pushed and how the server's RSS moved; the policy tests assert on
 * the figures and the soak prints them.
 *
 * @module
 */
import {
  concat,
  mb,
  pairRequest,
  pushFrames,
  RawEio,
  rawPair,
  RssWatch,
  type ServerProcess,
  stalledReceiver,
  upgradeRequest,
  wsFrame,
} from "./_faults.ts";
import { sleep } from "./_fixtures.ts";

const MB = 1024 * 1024;
const encoder = new TextEncoder();

/** Growth past which a run stops early: the hole is shown, the machine spared. */
export const ABORT_GROWTH = 256 * MB;

/** How an attack on memory went. */
export interface MemoryAttack {
  /** Bytes pushed at the server. */
  pushed: number;
  /**
   * Server RSS before the attack; for an attack with a warm-up, the peak of
   * the warm-up, which carried the same traffic without the fault.
   */
  rssBefore: number;
  rssPeak: number;
  /** Whether the server dropped the peer it should drop (the stalled receiver, or the spammer). */
  dropped: boolean;
  /** Bytes pushed before that. */
  pushedBeforeDrop: number;
  /** Whether the run stopped at {@linkcode ABORT_GROWTH}. */
  aborted: boolean;
}

/** Completes the figures of an attack. */
function outcome(
  figures: Omit<MemoryAttack, "aborted" | "pushedBeforeDrop"> & { pushedBeforeDrop?: number },
): MemoryAttack {
  return {
    pushedBeforeDrop: figures.pushed,
    ...figures,
    aborted: figures.rssPeak - figures.rssBefore > ABORT_GROWTH,
  };
}

const starts = (prefix: string) => (m: string | Uint8Array) =>
  typeof m === "string" && m.startsWith(prefix);

/**
 * A bare sender pushes `total` bytes of DATA frames at a receiver that
 * stopped reading: at 12 MB/s (below the relay rate, so that the backlog
 * bound is what acts) until the sender hears its partner left, then the rest
 * as fast as the server takes it. Before that, a warm-up carries the same
 * two kinds of traffic without the stall; its peak RSS is the baseline, so
 * the growth measures what the stall costs, not the heap that any such
 * traffic grows.
 */
export async function stalledDataAttack(
  server: ServerProcess,
  total = 300 * MB,
): Promise<MemoryAttack> {
  const warmUp = new RssWatch(server, 50);
  {
    const [sender, receiver] = await rawPair(server.port, `warm-up-${crypto.randomUUID()}`);
    using _s = sender;
    using _r = receiver;
    const forget = setInterval(() => receiver.forget(), 50);
    await pushFrames(sender, { total: 48 * MB, bytesPerSecond: 12 * MB });
    clearInterval(forget);
    using alone = await RawEio.open(server.port);
    await pushFrames(alone, { total, onChunk: () => alone.forget() });
  }
  const code = `stalled-${crypto.randomUUID()}`;
  const rssBefore = warmUp.stop().peak;
  let rssPeak = rssBefore;
  await using _stalled = await stalledReceiver(server.port, code);
  using sender = await RawEio.open(server.port);
  sender.emit("pair", pairRequest(code, crypto.randomUUID()));
  await sender.next(starts('42["peer.found"'));
  let dropped = false;
  let aborted = false;
  const watch = () => {
    rssPeak = Math.max(rssPeak, server.rss());
    aborted ||= rssPeak - rssBefore > ABORT_GROWTH;
    dropped ||= sender.received.some(starts('42["peer.left"'));
    if (sender.received.length > 1000) sender.forget();
  };
  const first = await pushFrames(sender, {
    total,
    bytesPerSecond: 12 * MB,
    stop: () => dropped || aborted,
    onChunk: watch,
  });
  const rest = aborted ? { pushed: 0 } : await pushFrames(sender, {
    total: total - first.pushed,
    firstSeq: first.nextSeq,
    stop: () => aborted,
    onChunk: watch,
  });
  watch();
  return outcome({
    pushed: first.pushed + rest.pushed,
    rssBefore,
    rssPeak,
    dropped,
    pushedBeforeDrop: first.pushed,
  });
}

/**
 * A bare sender pushes WebRTC offers of 60 kB at a receiver that stopped
 * reading, at 30 MB/s (500 signals a second, inside the relay's message
 * rate), until `total` bytes, the receiver is dropped, or the server grew
 * by {@linkcode ABORT_GROWTH}.
 */
export async function stalledSignalAttack(
  server: ServerProcess,
  total = 300 * MB,
): Promise<MemoryAttack> {
  const code = `stalled-signals-${crypto.randomUUID()}`;
  await using _stalled = await stalledReceiver(server.port, code);
  using sender = await RawEio.open(server.port);
  sender.emit("pair", pairRequest(code, crypto.randomUUID()));
  await sender.next(starts('42["peer.found"'));
  const offer = `42${
    JSON.stringify(["signal", { type: "offer", attempt: "a1", sdp: "a".repeat(60_000) }])
  }`;
  const rssBefore = server.rss();
  let rssPeak = rssBefore;
  let pushed = 0;
  let dropped = false;
  const started = Date.now();
  while (pushed < total && !sender.isClosed && rssPeak - rssBefore <= ABORT_GROWTH) {
    if (Date.now() - started > 60_000) break;
    dropped ||= sender.received.some(starts('42["peer.left"'));
    if (dropped) break;
    sender.forget();
    if (pushed > (Date.now() - started) / 1000 * 30 * MB || sender.bufferedAmount > 4 * MB) {
      await sleep(5);
      rssPeak = Math.max(rssPeak, server.rss());
      continue;
    }
    sender.send(offer);
    pushed += offer.length;
  }
  rssPeak = Math.max(rssPeak, server.rss());
  return outcome({ pushed, rssBefore, rssPeak, dropped });
}

/**
 * A client that never reads sends unknown events (13 bytes each, each
 * answered with an `sp.error`) for up to `ms`, until the server closes the
 * connection or grew by {@linkcode ABORT_GROWTH}.
 */
export async function refusalFloodAttack(
  server: ServerProcess,
  ms = 20_000,
): Promise<MemoryAttack> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const rssBefore = server.rss();
  let rssPeak = rssBefore;
  let pushed = 0;
  let dropped = false;
  try {
    await conn.write(encoder.encode(upgradeRequest(server.port)));
    await conn.read(new Uint8Array(4096));
    await conn.write(wsFrame(1, "40"));
    const spam = concat(Array.from({ length: 10_000 }, () => wsFrame(1, '42["x"]')));
    const started = Date.now();
    while (Date.now() - started < ms && rssPeak - rssBefore <= ABORT_GROWTH) {
      try {
        for (let offset = 0; offset < spam.byteLength;) {
          offset += await conn.write(spam.subarray(offset));
        }
      } catch {
        dropped = true;
        break;
      }
      pushed += spam.byteLength;
      rssPeak = Math.max(rssPeak, server.rss());
      await sleep(0);
    }
  } finally {
    conn.close();
  }
  return outcome({ pushed, rssBefore, rssPeak, dropped });
}

/** How much the server's RSS grew during an attack, in bytes. */
export function growthOf(attack: MemoryAttack): number {
  return attack.rssPeak - attack.rssBefore;
}

/** One line on an attack's figures, for the test output. */
export function describeAttack(attack: MemoryAttack, what: string): string {
  const drop = attack.dropped ? `dropped after ${mb(attack.pushedBeforeDrop)}` : "never dropped";
  return `${what}: pushed ${mb(attack.pushed)}, ${drop}; server RSS ${mb(attack.rssBefore)} → ` +
    `peak ${mb(attack.rssPeak)} (+${mb(growthOf(attack))})${
      attack.aborted ? ", stopped early" : ""
    }`;
}
