/**
 * The catalogue of hostile inputs: raw Engine.IO / socket.io packets, HTTP
 * requests and WebSocket frames of the kinds that crashed or hung socket.io,
 * engine.io and ws in the past. Each input sends itself to a server and
 * checks the server's immediate answer (closed, refused with a code, or
 * served); it throws when the answer is not the expected one. The crash
 * inputs test and the soak both run this list.
 *
 * @module
 */
import assert from "node:assert/strict";
import { encodeMessage, PayloadKind } from "../protocol/frame.ts";
import { publicPeerId } from "../server/pairing.ts";
import {
  closePayload,
  concat,
  IO_PATH,
  MAX_HTTP_BUFFER_SIZE,
  pairRequest,
  RawEio,
  rawExchange,
  serverCloseCode,
  upgradeRequest,
  wsFrame,
} from "./_faults.ts";

/** One hostile input and the answer it must get. */
export interface CrashInput {
  /** What is sent, readable in a failure message. */
  name: string;
  /** Sends the input to the server on `port` and checks the answer. */
  run(port: number): Promise<void>;
}

const encoder = new TextEncoder();

/** How long the server may take to answer or close (generous: CI machines are shared). */
const ANSWER_MS = 15_000;

/** Expects the server to close the socket, whatever the close code. */
async function expectClosed(raw: RawEio, what: string): Promise<void> {
  const closed = await raw.closedWithin(ANSWER_MS);
  assert.ok(closed, `${what}: the server kept the socket open`);
}

/** Expects the socket to be served still: a probe event is refused as unknown, in order. */
async function expectServed(raw: RawEio, what: string): Promise<void> {
  const probe = `probe-${crypto.randomUUID().slice(0, 8)}`;
  raw.emit(probe);
  const answer = await raw.next(
    (m) => typeof m === "string" && m.includes(probe),
    ANSWER_MS,
  ).catch((err) => {
    throw new Error(`${what}: the socket is no longer served (${err.message})`);
  });
  assert.match(answer as string, /ERR_INVALID_PAYLOAD/, what);
}

/** Expects an `sp.error` with `code`, then a socket still served. */
async function expectRefused(raw: RawEio, code: string, what: string) {
  const notice = await raw.next(
    (m) => typeof m === "string" && m.startsWith('42["sp.error"'),
    ANSWER_MS,
  ).catch((err) => {
    throw new Error(`${what}: expected an sp.error ${code} (${err.message})`);
  });
  assert.equal(JSON.parse((notice as string).slice(2))[1].code, code, what);
  await expectServed(raw, what);
}

type Answer = "closed" | "served" | { refused: string };

/** Sends socket.io/Engine.IO messages on a fresh socket and checks the answer. */
function packets(
  name: string,
  messages: (string | Uint8Array)[],
  answer: Answer,
  options: { join?: boolean } = {},
): CrashInput {
  return {
    name,
    async run(port) {
      using raw = await RawEio.open(port, { join: options.join });
      for (const message of messages) raw.send(message);
      if (answer === "closed") await expectClosed(raw, name);
      else if (answer === "served") await expectServed(raw, name);
      else await expectRefused(raw, answer.refused, name);
    },
  };
}

/** A socket.io EVENT text packet. */
const event = (json: string) => `42${json}`;

/** Non-string, reserved and odd event names. */
export const EVENT_NAME_INPUTS: CrashInput[] = [
  packets('42[{"toString":"x"}]: an object as the event name', [
    event('[{"toString":"x"}]'),
  ], "closed"),
  packets('42[{"__proto__":{"x":1}}]', [event('[{"__proto__":{"x":1}}]')], "closed"),
  packets('42[["pair"]]: an array as the event name', [event('[["pair"]]')], "closed"),
  packets("42[null]", [event("[null]")], "closed"),
  packets("42[true]", [event("[true]")], "closed"),
  packets("42[]: no event name", [event("[]")], "closed"),
  packets('42{"0":"pair"}: not an array', [event('{"0":"pair"}')], "closed"),
  packets('42"pair"', [event('"pair"')], "closed"),
  packets("42[1]: a number as the event name", [event("[1]")], {
    refused: "ERR_INVALID_PAYLOAD",
  }),
  packets("42[1e999]: Infinity as the event name", [event("[1e999]")], {
    refused: "ERR_INVALID_PAYLOAD",
  }),
  packets("42: an event without a body", [event("")], { refused: "ERR_INVALID_PAYLOAD" }),
  ...["disconnecting", "disconnect", "connect", "connect_error", "newListener", "removeListener"]
    .map((name) => packets(`42["${name}"]: a reserved name`, [event(`["${name}"]`)], "closed")),
  packets('42["error"]: the error event', [event('["error"]')], {
    refused: "ERR_INVALID_PAYLOAD",
  }),
  packets('42["error",{"message":"x"}]', [event('["error",{"message":"x"}]')], {
    refused: "ERR_INVALID_PAYLOAD",
  }),
  ...["__proto__", "constructor", "hasOwnProperty", "toString", "sp.error", "peer.found", "busy"]
    .map((name) =>
      packets(`42["${name}"]: an event the server does not take`, [event(`["${name}"]`)], {
        refused: "ERR_INVALID_PAYLOAD",
      })
    ),
  packets('421["pair"]: an event asking for an ack', [event('1["pair"]')], {
    refused: "ERR_INVALID_PAYLOAD",
  }),
  packets('4299999999999999999999["x"]: a huge ack id', [event('99999999999999999999["x"]')], {
    refused: "ERR_INVALID_PAYLOAD",
  }),
  packets('42-1["x"]: a negative ack id', [event('-1["x"]')], "closed"),
  packets('42/__proto__,["x"]: a namespace never joined', [
    event('/__proto__,["x"]'),
  ], "closed"),
  packets('42["pair",' + "[".repeat(10_000) + "…]: deeply nested arguments", [
    event(`["pair",${"[".repeat(10_000)}${"]".repeat(10_000)}]`),
  ], { refused: "ERR_INVALID_PAYLOAD" }),
  packets('42["signal",{…10,000 levels deep}]', [
    event(`["signal",${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}]`),
  ], { refused: "ERR_NOT_PAIRED" }),
];

/** A binary data frame, valid as far as the relay is concerned. */
function dataFrame(seq = 1): Uint8Array {
  return encodeMessage(seq, PayloadKind.STRING, encoder.encode("x"))[0];
}

/**
 * Pairs two bare sockets under a fresh code, sends `messages` from the first
 * and checks its answer; the partner must receive nothing that was refused.
 */
function pairedPackets(name: string, messages: (string | Uint8Array)[], answer: Answer) {
  return {
    name,
    async run(port: number) {
      using raw = await RawEio.open(port);
      using partner = await RawEio.open(port);
      const code = `crash-${crypto.randomUUID().slice(0, 8)}`;
      const starts = (prefix: string) => (m: string | Uint8Array) =>
        typeof m === "string" && m.startsWith(prefix);
      raw.emit("pair", pairRequest(code, crypto.randomUUID()));
      await raw.next(starts('42["peer.waiting"'), ANSWER_MS);
      partner.emit("pair", pairRequest(code, crypto.randomUUID()));
      await raw.next(starts('42["peer.found"'), ANSWER_MS);
      await partner.next(starts('42["peer.found"'), ANSWER_MS);
      const partnerSince = partner.received.length;
      for (const message of messages) raw.send(message);
      if (answer === "closed") {
        await expectClosed(raw, name);
        // Its partner hears that it left, and nothing else.
        await partner.next(starts('42["peer.left"'), ANSWER_MS);
      } else if (answer === "served") {
        await expectServed(raw, name);
      } else {
        await expectRefused(raw, answer.refused, name);
      }
      if (answer === "served") return; // relaying what was accepted is the point
      const leaked = partner.received.slice(partnerSince).filter((m) =>
        typeof m !== "string" || m.startsWith("45") || m.startsWith('42["data"') ||
        m.startsWith('42["signal"')
      );
      assert.deepEqual(leaked, [], `${name}: the partner received what was refused`);
    },
  };
}

const placeholder = (num: string) => `{"_placeholder":true,"num":${num}}`;

/** Forged binary placeholders and attachment counts. */
export const ATTACHMENT_INPUTS: CrashInput[] = [
  ...[
    ['"splice"', "a method name"],
    ['"__proto__"', "__proto__"],
    ['"0"', "a string"],
    ["1", "out of range"],
    ["-1", "negative"],
    ["1e308", "huge"],
    ["null", "null"],
    ['{"toString":0}', "an object"],
  ].map(([num, what]) =>
    pairedPackets(`451-["data",${placeholder(num)}]: a placeholder num that is ${what}`, [
      `451-["data",${placeholder(num)}]`,
      dataFrame(),
    ], "closed")
  ),
  // socket.io-parser accepts any number in range as an index: buffers[0.5] is
  // undefined, which the relay refuses like any payload that is not a frame.
  pairedPackets(`451-["data",${placeholder("0.5")}]: a placeholder num that is a fraction`, [
    `451-["data",${placeholder("0.5")}]`,
    dataFrame(),
  ], { refused: "ERR_INVALID_PAYLOAD" }),
  pairedPackets('4511-["data"]: 11 attachments, past maxAttachments', [
    '4511-["data"]',
  ], "closed"),
  pairedPackets('4599999999999999999999-["data"]: an absurd attachment count', [
    '4599999999999999999999-["data"]',
  ], "closed"),
  pairedPackets('45-["data"]: an empty attachment count', ['45-["data"]'], "closed"),
  pairedPackets('45x-["data"]: a non-numeric attachment count', ['45x-["data"]'], "closed"),
  pairedPackets("a binary message nobody announced", [dataFrame()], "closed"),
  pairedPackets("an announced attachment followed by text instead", [
    `451-["data",${placeholder("0")}]`,
    '42["pair"]',
  ], "closed"),
  pairedPackets("4510-[…]: ten attachments, the limit, all arriving", [
    `4510-["data",${placeholder("9")}]`,
    ...Array.from({ length: 10 }, (_, i) => dataFrame(i + 1)),
  ], "served"),
  pairedPackets('451-["pair",<binary>]: a pair request that is a buffer', [
    `451-["pair",${placeholder("0")}]`,
    dataFrame(),
  ], { refused: "ERR_INVALID_PAYLOAD" }),
  pairedPackets('451-["signal",{sdp:<binary>}]: an offer whose SDP is a buffer', [
    `451-["signal",{"type":"offer","attempt":"a","sdp":${placeholder("0")}}]`,
    dataFrame(),
  ], { refused: "ERR_INVALID_PAYLOAD" }),
  pairedPackets('451-["data",[<binary>]]: a frame wrapped in an array', [
    `451-["data",[${placeholder("0")}]]`,
    dataFrame(),
  ], { refused: "ERR_INVALID_PAYLOAD" }),
  pairedPackets('42["data",{"_placeholder":true,"num":0}]: a placeholder in a text packet', [
    event(`["data",${placeholder("0")}]`),
  ], { refused: "ERR_INVALID_PAYLOAD" }),
  {
    name: "an announced attachment that never arrives",
    async run(port) {
      using raw = await RawEio.open(port);
      raw.send(`451-["data",${placeholder("0")}]`);
      // The socket waits for its attachment without holding anyone else up
      // (the caller checks that a fresh pair still relays); text sent in the
      // meantime is a protocol violation that ends it.
      assert.equal(await raw.closedWithin(300), null, "closed before anything else was sent");
      raw.send('42["pair"]');
      await expectClosed(raw, "text while an attachment was due");
    },
  },
];

/** Engine.IO packets of unknown or out-of-place types. */
export const ENGINE_INPUTS: CrashInput[] = [
  packets('"": an empty message', [""], "closed"),
  packets('"4": an empty socket.io packet', ["4"], "closed"),
  packets('"9": an unknown Engine.IO type', ["9"], "closed"),
  packets('"7"', ["7"], "closed"),
  packets('"2": a ping from the client (v4 pings go the other way)', ["2"], "closed"),
  packets('"3": an unsolicited pong', ["3"], "served"),
  packets('"6": a noop', ["6"], "served"),
  packets('"5": an upgrade on a WebSocket', ["5"], "served"),
  packets('"0{}": an open packet from the client', ["0{}"], "served"),
  packets('"bAAAA": a v3 base64 packet', ["bAAAA"], "closed"),
  packets('"40" twice: a second namespace connect', ["40"], "closed"),
  packets('"40/admin,": a namespace that does not exist', ["40/admin,"], "served"),
  packets('"40/__proto__,"', ["40/__proto__,"], "served"),
  packets('"40/constructor,"', ["40/constructor,"], "served"),
  packets(
    '"40{"__proto__":{"admin":true}}": a hostile auth payload',
    [
      '40{"__proto__":{"admin":true}}',
    ],
    "served",
    { join: false },
  ),
  packets('"40[1,2]": an auth payload that is not an object', ["40[1,2]"], "closed", {
    join: false,
  }),
  packets('"41": leaving the namespace, then an event', ["41", '42["pair"]'], "closed"),
  packets('"43[]": an ack nobody asked for', ["43[]"], "served"),
  packets('"44": a connect error from the client', ["44"], "closed"),
  packets('"46[]": a binary ack nobody asked for', ["46[]"], "closed"),
  packets('"4\\u0000": a NUL socket.io type', ["4\u0000"], "closed"),
];

/** An HTTP request line and headers, ready to write. */
function httpRequest(port: number, target: string, headers: string[] = [], method = "GET") {
  return [`${method} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, ...headers, "", ""].join(
    "\r\n",
  );
}

/** Sends raw HTTP and expects the first response line to carry one of `statuses`. */
function http(
  name: string,
  request: (port: number) => string | Uint8Array,
  statuses: number[],
): CrashInput {
  return {
    name,
    async run(port) {
      const reply = await rawExchange(
        port,
        request(port),
        ANSWER_MS,
        (bytes) => bytes.byteLength > 12,
      );
      assert.ok(
        reply.status !== null && statuses.includes(reply.status),
        `${name}: expected HTTP ${statuses.join(" or ")}, got ${
          JSON.stringify(reply.text.slice(0, 120))
        }`,
      );
    },
  };
}

const handshake = (query: string) => `${IO_PATH}?${query}`;

/** Odd query values, huge and repeated headers, malformed HTTP. */
export const HTTP_INPUTS: CrashInput[] = [
  ...[
    "EIO=4&transport=__proto__",
    "EIO=4&transport=constructor",
    "EIO=4&transport=hasOwnProperty",
    "EIO=4&transport=toString",
    "EIO=4&transport=webtransport",
    "EIO=4&transport[]=polling",
    "EIO=4&transport=polling&transport=websocket",
    "EIO=4&transport=",
    "EIO=4",
    "EIO=__proto__&transport=polling",
    "EIO=3&transport=polling",
    "EIO=5&transport=polling",
    "EIO=4&transport=polling&sid=__proto__",
    "EIO=4&transport=polling&sid=constructor",
    "EIO=4&transport=polling&sid=hasOwnProperty",
    "EIO=4&transport=polling&sid=unknown",
    "EIO=4&transport=websocket&sid=__proto__",
  ].map((query) =>
    http(`GET ?${query}`, (port) => httpRequest(port, handshake(query), ["Connection: close"]), [
      400,
    ])
  ),
  ...[
    "EIO=4&transport=polling&__proto__[admin]=1",
    "EIO=4&transport=polling&constructor[prototype][admin]=1",
    "EIO=4&transport=polling&%E0%A4%A=1",
    "EIO=4&transport=polling&t=" + "x".repeat(8_000),
  ].map((query) =>
    http(
      `GET ?${query.slice(0, 60)}: harmless oddities`,
      (port) => httpRequest(port, handshake(query), ["Connection: close"]),
      [200],
    )
  ),
  http("a 100 kB header", (port) =>
    httpRequest(port, handshake("EIO=4&transport=polling"), [
      `X-Big: ${"a".repeat(100_000)}`,
    ]), [431, 400, 413]),
  http("a 2 MB header", (port) =>
    httpRequest(port, handshake("EIO=4&transport=polling"), [
      `X-Big: ${"a".repeat(2_000_000)}`,
    ]), [431, 400, 413]),
  http("10,000 repeated headers", (port) =>
    httpRequest(
      port,
      handshake("EIO=4&transport=polling"),
      Array.from({ length: 10_000 }, (_, i) => `X-Repeat: ${i}`),
    ), [431, 400]),
  http(
    "a 200 kB URL",
    (port) => httpRequest(port, handshake(`EIO=4&transport=polling&x=${"y".repeat(200_000)}`)),
    [
      431,
      414,
      400,
    ],
  ),
  http("100 Cookie headers", (port) =>
    httpRequest(
      port,
      handshake("EIO=4&transport=polling"),
      [...Array.from({ length: 100 }, (_, i) => `Cookie: c${i}=${i}`), "Connection: close"],
    ), [200, 431, 400]),
  ...[
    ["spaces", `a${" ".repeat(14_000)}b`],
    ["commas", ",".repeat(14_000)],
    ["comma-space runs", `a,${" ,".repeat(7_000)}`],
    ["tabs", `${"\t".repeat(14_000)}x`],
    ["one long token", "x".repeat(14_000)],
    ["a token then a comma", `${"a".repeat(14_000)},`],
  ].map(([what, value]) =>
    http(
      `Sec-WebSocket-Protocol of ${what} (a backtracking trap)`,
      (port) => upgradeRequest(port, { headers: [`Sec-WebSocket-Protocol: ${value}`] }),
      [101, 400, 431],
    )
  ),
  http(
    "Sec-WebSocket-Protocol repeated 90 times",
    (port) =>
      upgradeRequest(port, {
        headers: Array.from({ length: 90 }, () => "Sec-WebSocket-Protocol: a, b"),
      }),
    [101, 400, 431],
  ),
  http(
    "Sec-WebSocket-Extensions with 2,000 parameters",
    (port) =>
      upgradeRequest(port, {
        headers: [`Sec-WebSocket-Extensions: permessage-deflate; ${"x=1; ".repeat(2_000)}`],
      }),
    [101, 400, 431],
  ),
  http(
    "Sec-WebSocket-Key that is not base64 of 16 bytes",
    (port) => upgradeRequest(port).replace("dGhlIHNhbXBsZSBub25jZQ==", "x"),
    [400],
  ),
  http(
    "Sec-WebSocket-Version 99",
    (port) => upgradeRequest(port).replace("Version: 13", "Version: 99"),
    [400, 426],
  ),
  http("an Origin with control characters", (port) =>
    concat([
      encoder.encode(
        upgradeRequest(port).replace("Upgrade: websocket", "Upgrade: websocket\r\nOrigin: \x01"),
      ),
    ]), [400, 403]),
  http(
    "Transfer-Encoding and Content-Length together (request smuggling)",
    (port) =>
      [
        `POST ${handshake("EIO=4&transport=polling")} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        "Transfer-Encoding: chunked",
        "Content-Length: 5",
        "",
        "0\r\n\r\n",
      ].join("\r\n"),
    [400],
  ),
  http(
    "a malformed chunk size",
    (port) =>
      [
        `POST ${handshake("EIO=4&transport=polling")} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        "Transfer-Encoding: chunked",
        "",
        "zzzz\r\nabc\r\n",
      ].join("\r\n"),
    [400],
  ),
  http("a NUL in the method", () => "FOO\x00 / HTTP/1.1\r\n\r\n", [400]),
  http(
    "5,000 bytes of binary garbage",
    () => new Uint8Array(5000).map((_, i) => (i * 37) & 255),
    [400],
  ),
  http(
    "an absolute-form request target",
    (port) => httpRequest(port, `http://evil.example${handshake("EIO=4&transport=polling")}`),
    [200, 400, 404],
  ),
  {
    name: "a WebSocket upgrade to a path that is not socket.io's",
    async run(port: number) {
      const reply = await rawExchange(
        port,
        upgradeRequest(port).replace(`GET ${IO_PATH}`, "GET /socketpeer/health"),
        ANSWER_MS,
      );
      assert.ok(reply.status !== 101, "the upgrade was accepted");
      assert.ok(reply.closedByServer, "the connection was left hanging");
    },
  },
];

/** Sends an upgrade and then `frames`; expects a close frame with `code` from the server. */
function frames(name: string, code: number, ...sent: Uint8Array[]): CrashInput {
  return {
    name,
    async run(port) {
      const reply = await rawExchange(
        port,
        concat([encoder.encode(upgradeRequest(port)), ...sent]),
        ANSWER_MS,
        (bytes) => serverCloseCode(bytes) !== null,
      );
      assert.equal(reply.status, 101, `${name}: the upgrade was refused`);
      assert.equal(serverCloseCode(reply.bytes), code, `${name}: close code`);
    },
  };
}

/** WebSocket frames that break RFC 6455: each must end the connection with the right code. */
export const FRAME_INPUTS: CrashInput[] = [
  ...[1, 2, 3, 4, 5, 6, 7].map((rsv) =>
    frames(
      `a frame with RSV bits ${rsv.toString(2).padStart(3, "0")}`,
      1002,
      wsFrame(1, "40", { rsv }),
    )
  ),
  ...[3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf].map((opcode) =>
    frames(`a frame with reserved opcode 0x${opcode.toString(16)}`, 1002, wsFrame(opcode, "40"))
  ),
  ...[0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535].map((code) =>
    frames(`a close frame with status ${code}`, 1002, wsFrame(8, closePayload(code)))
  ),
  frames("a close frame with a 1-byte body", 1002, wsFrame(8, new Uint8Array([3]))),
  frames(
    "a close frame whose reason is not UTF-8",
    1007,
    wsFrame(8, concat([closePayload(1000), new Uint8Array([0xff, 0xfe])])),
  ),
  frames("a fragmented ping", 1002, wsFrame(9, "x", { fin: false })),
  frames("a ping of 126 bytes", 1002, wsFrame(9, "x".repeat(126))),
  frames("a continuation frame with nothing to continue", 1002, wsFrame(0, "40")),
  frames(
    "a new text frame in the middle of a fragmented one",
    1002,
    wsFrame(1, "4", { fin: false }),
    wsFrame(1, "0"),
  ),
  frames("an unmasked client frame", 1002, wsFrame(1, "40", { mask: false })),
  frames("a text frame that is not UTF-8", 1007, wsFrame(1, new Uint8Array([0x34, 0x32, 0xc3]))),
  frames("a frame announcing 2^63 bytes", 1009, wsFrame(2, "", { length: 1n << 63n })),
  frames("a frame announcing 2^53 bytes", 1009, wsFrame(2, "", { length: 1n << 53n })),
  frames("a frame announcing 1 TB that never comes", 1009, wsFrame(2, "", { length: 1n << 40n })),
  frames(
    "a text frame one byte above maxHttpBufferSize",
    1009,
    wsFrame(1, `4${"x".repeat(MAX_HTTP_BUFFER_SIZE)}`),
  ),
  frames(
    "fragments that add up to more than maxHttpBufferSize",
    1009,
    wsFrame(1, `4${"x".repeat(MAX_HTTP_BUFFER_SIZE / 2)}`, { fin: false }),
    wsFrame(0, "x".repeat(MAX_HTTP_BUFFER_SIZE / 2)),
  ),
  frames(
    "a binary attachment one byte above maxHttpBufferSize",
    1009,
    wsFrame(1, `451-["data",${placeholder("0")}]`),
    wsFrame(2, new Uint8Array(MAX_HTTP_BUFFER_SIZE + 1)),
  ),
  frames("a clean close with 1000", 1000, wsFrame(8, closePayload(1000))),
  frames("a close with an application code 4000", 4000, wsFrame(8, closePayload(4000))),
  {
    name: "a socket.io packet of exactly maxHttpBufferSize bytes is served",
    async run(port) {
      using raw = await RawEio.open(port);
      const head = '42["x","';
      const packet = `${head}${"y".repeat(MAX_HTTP_BUFFER_SIZE - head.length - 2)}"]`;
      assert.equal(packet.length, MAX_HTTP_BUFFER_SIZE);
      raw.send(packet);
      await expectRefused(raw, "ERR_INVALID_PAYLOAD", "a packet at the limit");
    },
  },
  {
    name: "a socket.io packet one byte above maxHttpBufferSize closes with 1009",
    async run(port) {
      using raw = await RawEio.open(port);
      raw.send(`42["x","${"y".repeat(MAX_HTTP_BUFFER_SIZE - 7)}"]`);
      const closed = await raw.closedWithin(ANSWER_MS);
      assert.equal(closed?.code, 1009);
    },
  },
];

/** Opens a long-polling session joined to the main namespace; returns its sid. */
async function pollingSession(port: number): Promise<string> {
  const base = `http://127.0.0.1:${port}${IO_PATH}?EIO=4&transport=polling`;
  const open = await (await fetch(base)).text();
  const sid = JSON.parse(open.slice(1)).sid as string;
  const joined = await fetch(`${base}&sid=${sid}`, { method: "POST", body: "40" });
  assert.equal(await joined.text(), "ok");
  const connected = await (await fetch(`${base}&sid=${sid}`)).text();
  assert.match(connected, /^40/);
  return sid;
}

/**
 * Whether a long-polling session was closed: its polls get the close packet
 * (`1`), then 400 for an unknown session.
 */
async function sessionEnded(url: string): Promise<boolean> {
  for (let i = 0; i < 3; i++) {
    const response = await fetch(url);
    const body = await response.text();
    if (response.status === 400) return true;
    if (body.split("\x1e").includes("1")) return true;
  }
  return false;
}

function polling(name: string, run: (port: number, url: string) => Promise<void>): CrashInput {
  return {
    name,
    async run(port) {
      const sid = await pollingSession(port);
      const url = `http://127.0.0.1:${port}${IO_PATH}?EIO=4&transport=polling&sid=${sid}`;
      try {
        await run(port, url);
      } finally {
        // Close the session if it is still open (a close packet), so that it
        // does not linger until the ping timeout.
        await fetch(url, { method: "POST", body: "1" }).then((r) => r.body?.cancel(), () => {});
      }
    },
  };
}

/** Long-polling requests that break the transport's rules. */
export const POLLING_INPUTS: CrashInput[] = [
  polling("a POST body one byte above maxHttpBufferSize", async (_port, url) => {
    const response = await fetch(url, {
      method: "POST",
      body: `4${"x".repeat(MAX_HTTP_BUFFER_SIZE)}`,
    });
    await response.body?.cancel();
    assert.equal(response.status, 413);
  }),
  polling("a POST announcing 10 MB that sends past maxHttpBufferSize", async (port, url) => {
    const target = url.slice(url.indexOf(IO_PATH));
    const reply = await rawExchange(
      port,
      httpRequest(port, target, ["Content-Length: 10000000"], "POST") +
        "4".repeat(MAX_HTTP_BUFFER_SIZE + 1000),
      ANSWER_MS,
      (bytes) => bytes.byteLength > 12,
    );
    assert.equal(reply.status, 413);
  }),
  polling("a POST announcing 10 MB that stalls, then hangs up", async (port, url) => {
    const target = url.slice(url.indexOf(IO_PATH));
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(
      encoder.encode(httpRequest(port, target, ["Content-Length: 10000000"], "POST") + "4"),
    );
    // While it stalls, its session's other half is still served…
    const poll = fetch(url);
    conn.close();
    // …and once it hangs up, the session is closed, not left half-open.
    await (await poll).body?.cancel();
    const after = await fetch(url);
    await after.body?.cancel();
    assert.equal(after.status, 400, "the session outlived its broken request");
  }),
  polling("1,000 packets in one POST", async (_port, url) => {
    const body = Array.from({ length: 1000 }, () => '42["x"]').join("\x1e");
    const response = await fetch(url, { method: "POST", body });
    assert.equal(await response.text(), "ok");
    const answers = await (await fetch(url)).text();
    assert.match(answers, /ERR_INVALID_PAYLOAD/);
  }),
  polling("a POST of empty packets between separators", async (_port, url) => {
    const response = await fetch(url, { method: "POST", body: "\x1e\x1e\x1e" });
    await response.body?.cancel();
    assert.ok(await sessionEnded(url), "the session survived a parse error");
  }),
  polling("a POST of a base64 packet that is not base64", async (_port, url) => {
    const response = await fetch(url, { method: "POST", body: "b$$$$" });
    await response.body?.cancel();
    assert.ok(await sessionEnded(url), "the session survived a bad base64 packet");
  }),
  polling("two GETs at once on one session", async (_port, url) => {
    // Whichever the server takes second overlaps the first: one gets 400.
    const [first, second] = await Promise.all([fetch(url), fetch(url)]);
    await Promise.all([first.body?.cancel(), second.body?.cancel()]);
    assert.deepEqual(
      [first.status, second.status].filter((s) => s === 400),
      [400],
      `overlapping polls answered ${first.status} and ${second.status}`,
    );
  }),
  polling("two POSTs at once on one session", async (port, url) => {
    const target = url.slice(url.indexOf(IO_PATH));
    // The first POST announces a body and sends only part of it, so it stays open.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await conn.write(
        encoder.encode(httpRequest(port, target, ["Content-Length: 100"], "POST") + "42"),
      );
      // Until the server has read the first, a second POST is simply served.
      let status = 200;
      for (let tries = 0; status === 200 && tries < 100; tries++) {
        const second = await fetch(url, { method: "POST", body: '42["x"]' });
        await second.body?.cancel();
        status = second.status;
        if (status === 200) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(status, 400, "overlapping data requests were both served");
    } finally {
      conn.close();
    }
  }),
];

/** Codes and ids that name properties of Object.prototype, paired by bare sockets. */
export const PROTOTYPE_INPUTS: CrashInput[] = [
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "toString",
  "valueOf",
  "__defineGetter__",
  "isPrototypeOf",
].map((code) => ({
  name: `pair under the code "${code}"`,
  async run(port: number) {
    using a = await RawEio.open(port);
    using b = await RawEio.open(port);
    using c = await RawEio.open(port);
    const starts = (prefix: string) => (m: string | Uint8Array) =>
      typeof m === "string" && m.startsWith(prefix);
    a.emit("pair", pairRequest(code, "__proto__"));
    assert.equal(
      await a.next(starts('42["peer.waiting"'), ANSWER_MS),
      `42["peer.waiting",${JSON.stringify({ pairCode: code })}]`,
    );
    b.emit("pair", pairRequest(code, "constructor"));
    const foundText = await b.next(starts('42["peer.found"'), ANSWER_MS) as string;
    const found = JSON.parse(foundText.slice(2))[1];
    assert.equal(found.pairCode, code);
    // The partner sees the public id: a hash of the secret "__proto__".
    assert.equal(found.peerId, publicPeerId("__proto__"));
    await a.next(starts('42["peer.found"'), ANSWER_MS);
    c.emit("pair", pairRequest(code, "hasOwnProperty"));
    assert.equal(
      await c.next(starts('42["busy"'), ANSWER_MS),
      `42["busy",${JSON.stringify({ pairCode: code })}]`,
    );
    a.send(`451-["data",${placeholder("0")}]`);
    a.send(dataFrame());
    await b.next((m) => typeof m === "string" && m.startsWith('451-["data"'));
    await b.next((m) => m instanceof Uint8Array);
    a.emit("leave");
    const left = await b.next(starts('42["peer.left"'));
    assert.equal(left, `42["peer.left",${JSON.stringify({ pairCode: code, reason: "left" })}]`);
  },
}));

/** Every group, by the test that runs it. */
export const CRASH_INPUT_GROUPS: Record<string, CrashInput[]> = {
  "event names": EVENT_NAME_INPUTS,
  "binary attachments": ATTACHMENT_INPUTS,
  "Engine.IO packets": ENGINE_INPUTS,
  "HTTP requests": HTTP_INPUTS,
  "WebSocket frames": FRAME_INPUTS,
  "long-polling": POLLING_INPUTS,
  "prototype-named codes": PROTOTYPE_INPUTS,
};

/** A well-formed data-channel offer, for the signals that follow one. */
const OFFER_SDP = [
  "v=0",
  "o=- 1 1 IN IP4 0.0.0.0",
  "s=-",
  "t=0 0",
  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
  "c=IN IP4 0.0.0.0",
  "a=ice-ufrag:abcd",
  "a=ice-pwd:abcdefghijklmnopqrstuvwx",
  `a=fingerprint:sha-256 ${Array(32).fill("AA").join(":")}`,
  "a=setup:actpass",
  "a=mid:0",
  "a=sctp-port:5000",
  "",
].join("\r\n");

/**
 * Signals a hostile partner can relay to a peer (the server checks their
 * shape, not their content): malformed SDP and ICE candidates that reach
 * the native WebRTC stack (node-datachannel) of a Deno peer.
 */
export const HOSTILE_SIGNALS: [string, Record<string, unknown>[]][] = [
  ["an empty offer", [{ type: "offer", attempt: "h1", sdp: "" }]],
  ["an offer that is not SDP", [{ type: "offer", attempt: "h2", sdp: "hello world" }]],
  ["an offer of v=0 only", [{ type: "offer", attempt: "h3", sdp: "v=0\r\n" }]],
  ["an offer whose m-line has no connection", [{
    type: "offer",
    attempt: "h4",
    sdp: OFFER_SDP.split("\r\n").slice(0, 5).join("\r\n") + "\r\n",
  }]],
  ["an offer with a 30 kB fingerprint", [{
    type: "offer",
    attempt: "h5",
    sdp: OFFER_SDP.replace(/a=fingerprint:[^\r]*/, `a=fingerprint:sha-256 ${"AA:".repeat(10_000)}`),
  }]],
  ["an offer with 600 m-lines", [{
    type: "offer",
    attempt: "h6",
    sdp: OFFER_SDP.split("\r\n").slice(0, 4).join("\r\n") + "\r\n" +
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n".repeat(600),
  }]],
  ["an offer, then candidates that are garbage or out of range", [
    { type: "offer", attempt: "h7", sdp: OFFER_SDP },
    ...[
      { candidate: "candidate:garbage", sdpMid: "0", sdpMLineIndex: 0 },
      {
        candidate: "candidate:1 1 udp 2122260223 127.0.0.1 99999999 typ host",
        sdpMid: "0",
        sdpMLineIndex: 99_999,
      },
      { candidate: "candidate:1 1 udp 1 ::1 1 typ host", sdpMid: "", sdpMLineIndex: -1 },
      { candidate: "a".repeat(4096), sdpMid: "x".repeat(256), sdpMLineIndex: 2_147_483_647 },
      { candidate: "candidate:1 1 tcp 1 999.999.999.999 1 typ relay raddr x rport y" },
    ].map((candidate) => ({ type: "candidate", attempt: "h7", candidate })),
  ]],
  ["two offers, then close and renegotiate", [
    { type: "offer", attempt: "h8", sdp: OFFER_SDP },
    { type: "offer", attempt: "h9", sdp: OFFER_SDP },
    { type: "close", attempt: "h9" },
    { type: "renegotiate", attempt: "h9" },
  ]],
  ["an answer to no offer", [{ type: "answer", attempt: "h10", sdp: "v=0\r\n" }]],
];
