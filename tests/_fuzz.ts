/**
 * A packet fuzzer for the server: it takes valid `pair`, `leave`, `data` and
 * `signal` packets and mutates them (fields retyped, huge numbers, deep
 * nesting, prototype keys, frames with flipped bits) into packets socket.io
 * still parses, and now and then into packets that break Engine.IO or
 * socket.io framing (bytes flipped, truncated, forged attachments). Every
 * batch ends with a probe the server must answer, or a close: a server that
 * does neither has hung. The packets come from a seeded random source, so a
 * run can be replayed (the interleaving of several connections cannot).
 *
 * @module
 */
import { encodeAck, encodeBatch, encodeMessage, PayloadKind } from "../protocol/frame.ts";
import { PROTOCOL_VERSION } from "../protocol/version.ts";
import { MAX_HTTP_BUFFER_SIZE, RawEio, SeededRandom } from "./_faults.ts";

/** One engine.io message to send: text, or binary. */
type Message = string | Uint8Array;

const encoder = new TextEncoder();

/** Pair codes and secrets are drawn from small pools, so fuzzed sockets pair, clash and leave. */
const CODES = ["fz-1", "fz-2", "fz-3", "__proto__", "constructor", "fz-4"];
const SECRETS = ["s1", "s2", "s3", "__proto__", "toString", "s4"];
const EVENTS = ["pair", "leave", "data", "signal"];
const ODD_EVENTS = ["error", "x", "sp.error", "peer.found", "__proto__", "constructor", ""];
const KEYS = [
  "__proto__",
  "constructor",
  "toString",
  "v",
  "pairCode",
  "peerId",
  "webrtc",
  "type",
  "attempt",
  "sdp",
  "candidate",
  "sdpMid",
  "sdpMLineIndex",
  "usernameFragment",
  "_placeholder",
  "num",
];

/** Makes valid and mutated packets from one seeded random source. */
export class PacketFuzzer {
  constructor(readonly rng: SeededRandom) {}

  /** A value chosen to break assumptions: extremes, wrong types, prototype names, nesting. */
  interesting(depth = 0): unknown {
    const r = this.rng;
    switch (r.int(depth > 2 ? 14 : 18)) {
      case 0:
        return null;
      case 1:
        return r.chance(0.5);
      case 2:
        return r.pick([0, -0, -1, 1.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308]);
      case 3:
        return r.pick([5e-324, -1e308, 4294967295, 65536, 65535, 128, 129, 64, 65]);
      case 4:
        return "";
      case 5:
        return r.pick(["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"]);
      case 6:
        return "x".repeat(r.pick([1, 64, 65, 128, 129, 4096, 4097, 65_536, 20_000]));
      case 7:
        return r.pick(["\u0000", "\ud800", "\udfff", "🦕", "a b", "é", "../..", "%00", "\r\n"]);
      case 8:
        return r.pick(["offer", "answer", "candidate", "renegotiate", "close", "pranswer"]);
      case 9:
        return r.pick(CODES);
      case 10:
        return { _placeholder: true, num: r.pick([0, 1, -1, "0", null]) };
      case 11:
        return r.chance(0.5) ? [] : {};
      case 12:
        return this.nested(r.pick([10, 100, 1000, 3000]));
      case 13:
        return JSON.parse(`{"__proto__":{"polluted":true},"v":${PROTOCOL_VERSION}}`);
      case 14:
        // Long arrays hold only small values, so that a packet stays small to make.
        return r.chance(0.5)
          ? Array.from({ length: 1000 }, () => r.pick([1, "x", null, {}, []]))
          : Array.from({ length: 2 + r.int(8) }, () => this.interesting(depth + 1));
      case 15: {
        const o: Record<string, unknown> = {};
        for (let i = r.int(4); i >= 0; i--) o[r.pick(KEYS)] = this.interesting(depth + 1);
        return o;
      }
      case 16:
        return this.validArgs(r.pick(EVENTS))[0] ?? null;
      default:
        return r.pick([1, "1", [1], { v: 1 }]);
    }
  }

  /** An array or object nested `depth` levels deep. */
  nested(depth: number): unknown {
    const asArray = this.rng.chance(0.5);
    let value: unknown = this.rng.chance(0.5) ? 1 : { _placeholder: true, num: 0 };
    for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value };
    return value;
  }

  /** The arguments of a valid packet of `event`. Binary frames stand as Uint8Array. */
  validArgs(event: string): unknown[] {
    const r = this.rng;
    switch (event) {
      case "pair":
        return [{
          v: PROTOCOL_VERSION,
          pairCode: r.pick(CODES),
          peerId: r.pick(SECRETS),
          ...(r.chance(0.5) ? { webrtc: r.chance(0.5) } : {}),
        }];
      case "leave":
        return [];
      case "data":
        return [this.frame()];
      default: {
        const type = r.pick(["offer", "answer", "candidate", "renegotiate", "close"]);
        const signal: Record<string, unknown> = { type, attempt: `a${r.int(5)}` };
        if (type === "offer" || type === "answer") {
          signal.sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n";
        }
        if (type === "candidate") {
          signal.candidate = r.chance(0.2) ? null : {
            candidate: "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host",
            sdpMid: "0",
            sdpMLineIndex: 0,
          };
        }
        return [signal];
      }
    }
  }

  /** A DATA, ACK or BATCH frame, valid or with mutated header fields, lengths or bytes. */
  frame(): Uint8Array {
    const r = this.rng;
    const single = () =>
      r.chance(0.3) ? encodeAck(r.int(100)) : encodeMessage(
        1 + r.int(100),
        r.int(4) as PayloadKind,
        encoder.encode("y".repeat(r.pick([0, 1, 100, 1000]))),
      )[0];
    const frame = r.chance(0.2)
      ? encodeBatch(Array.from({ length: 1 + r.int(5) }, single))
      : single();
    if (r.chance(0.5)) return frame;
    const out = r.chance(0.1)
      ? new Uint8Array(r.pick([0, 1, 11, 12, 19, 20, 65_536, 65_537, MAX_HTTP_BUFFER_SIZE - 64]))
      : frame.slice();
    const view = new DataView(out.buffer);
    switch (r.int(5)) {
      case 0:
        if (out.byteLength > 0) out[r.int(out.byteLength)] ^= 1 << r.int(8);
        break;
      case 1:
        if (out.byteLength >= 12) {
          view.setFloat64(4, r.pick([NaN, Infinity, -1, 0, 2 ** 53, 2 ** 60, 1.5, -0]));
        }
        break;
      case 2:
        if (out.byteLength >= 20) {
          view.setUint32(12, r.pick([0, 1, 0xffffffff, 256]));
          view.setUint32(16, r.pick([0, 1, 0xffffffff, 256, 2]));
        }
        break;
      case 3:
        if (out.byteLength > 0) out[0] = r.int(256);
        break;
      default:
        return out.subarray(0, r.int(out.byteLength + 1));
    }
    return out;
  }

  /**
   * A packet socket.io parses (an EVENT of a string name that is not
   * reserved) with fuzzed arguments: the server must answer it, never close.
   */
  gentle(): Message[] {
    const r = this.rng;
    const event = r.chance(0.9) ? r.pick(EVENTS) : r.pick(ODD_EVENTS);
    const valid = this.validArgs(EVENTS.includes(event) ? event : r.pick(EVENTS));
    for (let tries = 0; tries < 5; tries++) {
      const args = r.chance(0.8) ? this.mutate(valid) as unknown[] : valid;
      const packet = this.encode([event, ...args]);
      // Past maxHttpBufferSize engine.io closes the socket: that is not gentle.
      if (packet && (packet[0] as string).length < MAX_HTTP_BUFFER_SIZE - 64) return packet;
    }
    return this.encode([event, ...valid])!;
  }

  /** Changes one to three places in a value. */
  mutate(value: unknown): unknown {
    let out = value;
    for (let n = 1 + this.rng.int(3); n > 0; n--) out = this.mutateOnce(out);
    return out;
  }

  mutateOnce(value: unknown): unknown {
    const r = this.rng;
    if (value instanceof Uint8Array) return r.chance(0.5) ? this.frame() : this.interesting();
    if (Array.isArray(value)) {
      if (value.length === 0 || r.chance(0.2)) return [...value, this.interesting()];
      const copy = [...value];
      const i = r.int(copy.length);
      copy[i] = r.chance(0.5) ? this.mutateOnce(copy[i]) : this.interesting();
      if (r.chance(0.1)) copy.splice(i, 1);
      return copy;
    }
    if (value !== null && typeof value === "object") {
      const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      const keys = Object.keys(copy);
      const choice = r.int(4);
      if (choice === 0 || keys.length === 0) copy[r.pick(KEYS)] = this.interesting();
      else if (choice === 1) delete copy[r.pick(keys)];
      else {
        const key = r.pick(keys);
        copy[key] = choice === 2 ? this.interesting() : this.mutateOnce(copy[key]);
      }
      return copy;
    }
    switch (typeof value) {
      case "number":
        return r.chance(0.5) ? String(value) : this.interesting();
      case "string":
        return r.chance(0.3) ? Number(value) : r.chance(0.5) ? value + value : this.interesting();
      default:
        return this.interesting();
    }
  }

  /**
   * Encodes an EVENT packet the way socket.io does: binary parts (looked for
   * a few levels deep) become attachments. Null when the value cannot be
   * serialized (nested too deep for JSON.stringify).
   */
  encode(packet: unknown[]): Message[] | null {
    const buffers: Uint8Array[] = [];
    const extract = (value: unknown, depth: number): unknown => {
      if (value instanceof Uint8Array) {
        buffers.push(value);
        return { _placeholder: true, num: buffers.length - 1 };
      }
      if (depth > 8 || value === null || typeof value !== "object") return value;
      if (Array.isArray(value)) return value.map((v) => extract(v, depth + 1));
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = extract(v, depth + 1);
      return out;
    };
    let json: string;
    try {
      json = JSON.stringify(extract(packet, 0));
    } catch {
      return null;
    }
    if (buffers.length === 0) return [`42${json}`];
    // In a binary packet every placeholder must be one socket.io made: a
    // fuzzed look-alike is a framing error, not a gentle packet.
    if (json.split('"_placeholder"').length - 1 !== buffers.length) return null;
    return [`45${buffers.length}-${json}`, ...buffers];
  }

  /**
   * A packet that may break the framing: the server may close the socket for
   * it, and must not do anything worse.
   */
  hostile(): Message[] {
    const r = this.rng;
    const [text, ...binary] = this.gentle() as [string, ...Uint8Array[]];
    switch (r.int(10)) {
      case 0: { // flip bytes of the text packet
        const chars = [...text];
        for (let n = 1 + r.int(4); n > 0; n--) {
          chars[r.int(chars.length)] = String.fromCharCode(r.int(128));
        }
        return [chars.join(""), ...binary];
      }
      case 1: // truncate
        return [text.slice(0, r.int(text.length)), ...binary.slice(0, r.int(binary.length + 1))];
      case 2: // another packet type, namespace or ack id
        return [
          r.pick(["40", "41", "43", "44", "46", "4", "42/x,", "421", "42999999999999999999"]) +
          text.slice(2),
          ...binary,
        ];
      case 3: { // forged attachment counts and placeholders
        const count = r.pick([0, 1, 2, 10, 11, 1e9]);
        const num = r.pick([0, 1, -1, 2, "0", "splice", "__proto__", 0.5, 1e308]);
        const sent = r.int(3);
        return [
          `45${count}-["data",{"_placeholder":true,"num":${JSON.stringify(num)}}]`,
          ...Array.from({ length: sent }, () => this.frame()),
        ];
      }
      case 4: // binary nobody announced
        return [this.frame()];
      case 5: // Engine.IO packets out of place
        return [r.pick(["", "0", "1", "2", "3", "5", "6", "7", "9", "b", "bAAAA", "0{}"])];
      case 6: // unbalanced or garbage JSON
        return [
          r.pick(['42["pair",{', '42["pair"]]', "42[", '42["x",]', "42[1,,2]", "42[NaN]", "42{{"]),
        ];
      case 7: // reserved event names
        return [
          `42${
            JSON.stringify([r.pick(["connect", "disconnect", "disconnecting", "newListener"]), 1])
          }`,
        ];
      case 8: // just past the packet size limit
        return [`42["x","${"z".repeat(MAX_HTTP_BUFFER_SIZE - 6)}"]`];
      default: // random text
        return [
          String.fromCharCode(...Array.from({ length: 1 + r.int(40) }, () => 32 + r.int(95))),
        ];
    }
  }
}

/**
 * Replays a batch alone on a fresh socket: whether the server closes it
 * again without a `41`.
 */
async function closesAgain(port: number, batch: Message[], ms: number): Promise<boolean> {
  using raw = await RawEio.open(port);
  for (const message of batch) raw.send(message);
  raw.emit("probe-replay");
  try {
    await raw.next((m) => typeof m === "string" && m.includes("probe-replay"), ms);
    return false;
  } catch {
    return raw.isClosed && !raw.disconnectedByServer;
  }
}

/** Writes a batch to a temporary file, one message a line (text as JSON, binary as hex). */
async function saveBatch(batch: Message[]): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "socketpeer-fuzz-", suffix: ".txt" });
  const lines = batch.map((m) =>
    typeof m === "string"
      ? JSON.stringify(m)
      : `hex:${Array.from(m, (b) => b.toString(16).padStart(2, "0")).join("")}`
  );
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

/** What a fuzz run did. */
export interface FuzzReport {
  seed: number;
  /** Engine.IO packets sent (each WebSocket message is one). */
  packets: number;
  /** Batches the server answered by probe, or closed. */
  batches: number;
  /** Sockets opened in all. */
  sockets: number;
  /** Sockets the server closed. */
  closedByServer: number;
  /** Sockets the server disconnected on purpose (`41`: replaced, rate limited, slow). */
  disconnectedByServer: number;
  /**
   * Batches of only parseable packets after which the server closed the
   * socket without saying why (no `41`), and did so again when the batch was
   * replayed alone on a fresh socket: each one is a finding.
   */
  gentleCloses: number;
  /** Files holding such batches, one message per line (JSON), to replay. */
  gentleCloseSamples: string[];
  /**
   * Such closes that a replay did not repeat: the socket fell to the load
   * (a pong that came too late), not to its packets.
   */
  unrepeatedCloses: number;
  /** Batches the server neither answered nor closed within the probe timeout. */
  hung: number;
  /** `sp.error` notices received. */
  refusals: number;
  elapsedMs: number;
  /** Whether the run stopped at its time limit before sending every packet. */
  timedOut: boolean;
}

/**
 * Fuzzes the server on `port` with `packets` packets over `connections`
 * sockets at once.
 *
 * @param options `seed`, `packets`, `connections`, `timeLimitMs`, and
 * `probeTimeoutMs` (how long a batch may go unanswered before it counts as hung).
 */
export async function fuzz(port: number, options: {
  seed: number;
  packets: number;
  connections: number;
  timeLimitMs: number;
  probeTimeoutMs?: number;
}): Promise<FuzzReport> {
  const report: FuzzReport = {
    seed: options.seed,
    packets: 0,
    batches: 0,
    sockets: 0,
    closedByServer: 0,
    disconnectedByServer: 0,
    gentleCloses: 0,
    gentleCloseSamples: [],
    unrepeatedCloses: 0,
    hung: 0,
    refusals: 0,
    elapsedMs: 0,
    timedOut: false,
  };
  const started = Date.now();
  const deadline = started + options.timeLimitMs;
  const probeTimeout = options.probeTimeoutMs ?? 30_000;
  let probes = 0;

  const worker = async (index: number) => {
    const fuzzer = new PacketFuzzer(new SeededRandom((options.seed + index * 0x9e3779b9) >>> 0));
    const r = fuzzer.rng;
    let raw: RawEio | null = null;
    try {
      while (report.packets < options.packets) {
        if (Date.now() > deadline) {
          report.timedOut = true;
          return;
        }
        if (!raw || raw.isClosed) {
          raw = await RawEio.open(port);
          report.sockets++;
        }
        const hostile = r.chance(0.4);
        const batch: Message[] = [];
        for (let n = 1 + r.int(40); n > 0; n--) batch.push(...fuzzer.gentle());
        if (hostile) batch.push(...fuzzer.hostile());
        for (const message of batch) raw.send(message);
        report.packets += batch.length;
        const probe = `probe-${index}-${++probes}`;
        raw.emit(probe);
        report.packets++;
        try {
          await raw.next((m) => typeof m === "string" && m.includes(probe), probeTimeout);
        } catch {
          if (raw.isClosed) {
            report.closedByServer++;
            if (raw.disconnectedByServer) {
              report.disconnectedByServer++;
            } else if (!hostile) {
              if (await closesAgain(port, batch, probeTimeout)) {
                report.gentleCloses++;
                if (report.gentleCloseSamples.length < 3) {
                  report.gentleCloseSamples.push(await saveBatch(batch));
                }
              } else {
                report.unrepeatedCloses++;
              }
            }
          } else {
            report.hung++;
            raw.close();
          }
        }
        report.batches++;
        report.refusals += raw.received.filter((m) =>
          typeof m === "string" && m.startsWith('42["sp.error"') && !m.includes("probe-")
        ).length;
        raw.forget();
      }
    } finally {
      raw?.close();
    }
  };
  await Promise.all(Array.from({ length: options.connections }, (_, i) => worker(i)));
  report.elapsedMs = Date.now() - started;
  return report;
}
