/**
 * Inputs that crashed or hung socket.io, engine.io or ws in the past, sent
 * raw to a server running as its own process. Each must get its expected
 * answer; after each one the server must still be alive, pair a fresh pair
 * and relay; at the end no socket may be left over and stderr must be clean.
 * Last, malformed WebRTC signals relayed to a peer with native WebRTC.
 */
import assert from "node:assert/strict";
import { encodeMessage, PayloadKind } from "../protocol/frame.ts";
import { CRASH_INPUT_GROUPS, type CrashInput, HOSTILE_SIGNALS } from "./_crash_inputs.ts";
import {
  assertServes,
  pairRequest,
  RawEio,
  serverProblems,
  spawnDeno,
  startServerProcess,
} from "./_faults.ts";
import { sleep } from "./_fixtures.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function survives(inputs: CrashInput[]): Promise<void> {
  await using server = await startServerProcess();
  for (const input of inputs) {
    try {
      await input.run(server.port);
    } catch (err) {
      throw new Error(`${input.name}: ${(err as Error).message}`, { cause: err });
    }
    assert.ok(server.alive(), `the server died after ${input.name}:\n${server.stderr()}`);
    await assertServes(server.url, input.name);
  }
  assert.deepEqual(await serverProblems(server, "every input"), []);
}

const cases: [string, string][] = [
  [
    "event names",
    "non-string, reserved and unknown event names close their socket or are refused, and a fresh pair relays after each",
  ],
  [
    "binary attachments",
    "forged binary placeholders, too many attachments and attachments that never arrive close their socket or are refused, and never reach the partner",
  ],
  [
    "Engine.IO packets",
    "Engine.IO packets of unknown or out-of-place types close their socket or are ignored, and a fresh pair relays after each",
  ],
  [
    "HTTP requests",
    "odd query values, huge or repeated headers, Sec-WebSocket-Protocol traps and malformed HTTP get an HTTP refusal, and a fresh pair relays after each",
  ],
  [
    "WebSocket frames",
    "WebSocket frames with RSV bits, reserved opcodes, bad close codes or oversize lengths are closed with the RFC 6455 code, and a fresh pair relays after each",
  ],
  [
    "long-polling",
    "long-polling requests that break the transport's rules are refused with 413 or 400, and a fresh pair relays after each",
  ],
  [
    "prototype-named codes",
    "pair codes and peer ids named after Object.prototype properties pair, relay, report busy and leave like any other",
  ],
];

assert.deepEqual(cases.map(([group]) => group).sort(), Object.keys(CRASH_INPUT_GROUPS).sort());

for (const [group, name] of cases) {
  Deno.test(name, opts, () => survives(CRASH_INPUT_GROUPS[group]));
}

Deno.test(
  "a peer process with native WebRTC survives malformed SDP and ICE candidates relayed from a hostile partner, and still receives",
  opts,
  async () => {
    await using server = await startServerProcess();
    const code = "hostile-partner";
    await using peer = spawnDeno("tests/_peer_process.ts", [server.url, code, "webrtc"]);
    using partner = await RawEio.open(server.port);
    partner.emit("pair", pairRequest(code, crypto.randomUUID()));
    await peer.waitFor(/^found /m);
    for (const [what, signals] of HOSTILE_SIGNALS) {
      for (const signal of signals) partner.emit("signal", signal);
      await sleep(300); // a crash in a native thread may take a moment
      assert.ok(peer.alive(), `the peer died after ${what}:\n${peer.stderr()}`);
    }
    // It still takes data from its partner (and echoes it).
    partner.send('451-["data",{"_placeholder":true,"num":0}]');
    partner.send(encodeMessage(1, PayloadKind.STRING, new TextEncoder().encode("still here"))[0]);
    await peer.waitFor(/^data "still here"$/m, 15_000);
    assert.ok(peer.alive());
  },
);
