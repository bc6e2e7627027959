import assert from "node:assert/strict";
import type { Page } from "npm:puppeteer-core@24.10.0";
import type { SocketPeerOptions } from "../client.ts";
import { launchBrowser, type TestBrowser, waitFor } from "./_browser.ts";
import {
  demoState,
  describeReceived,
  type PeerPage,
  type PeerRecord,
  type Received,
  startPageServer,
  typeMessage,
  waitForDemo,
} from "./_browser_pages.ts";
import { nodeWrtc, peer, record, sequenceProblems, startServer, until } from "./_fixtures.ts";

/**
 * Opens `url` in a new tab; `withoutWebRtc` removes WebRTC before any script of the page runs.
 * The tab starts blank so it can be prepared first; a 304 is fine (the server sends ETags,
 * so a second tab gets the cached page).
 */
async function openPage(
  browser: TestBrowser,
  url: string,
  { withoutWebRtc = false } = {},
): Promise<Page> {
  const page = await browser.newPage("about:blank");
  if (withoutWebRtc) {
    await page.evaluateOnNewDocument(() => {
      const names = [
        "RTCPeerConnection",
        "webkitRTCPeerConnection",
        "RTCSessionDescription",
        "RTCIceCandidate",
        "RTCDataChannel",
      ];
      for (const name of names) delete (globalThis as Record<string, unknown>)[name];
    });
  }
  const response = await page.goto(url, { waitUntil: "load" });
  const status = response?.status();
  assert.ok(status === 200 || status === 304, `${url} answered ${status}`);
  return page;
}

/** Opens the test page and makes its peer. */
async function openPeer(
  browser: TestBrowser,
  url: string,
  options: SocketPeerOptions,
  { withoutWebRtc = false } = {},
): Promise<Page> {
  const page = await openPage(browser, url, { withoutWebRtc });
  await page.evaluate(
    (options) => (globalThis as unknown as PeerPage).startPeer(options),
    options as Record<string, unknown>,
  );
  return page;
}

/** The page's peer: its path, whether it is paired, and what it recorded. */
type PageState = PeerRecord & { path: string | null; connected: boolean };

function state(page: Page): Promise<PageState> {
  return page.evaluate(() => {
    const { peer, record } = globalThis as unknown as PeerPage;
    return { ...record, path: peer.path, connected: peer.connected };
  });
}

function waitForPath(page: Page, path: "p2p" | "relay"): Promise<unknown> {
  return waitFor(page, (path) => (globalThis as unknown as PeerPage).peer.path === path, {
    args: [path],
    timeout: 20_000,
    message: `path "${path}"`,
  });
}

function waitForReceived(page: Page, count: number): Promise<unknown> {
  return waitFor(
    page,
    (count) => (globalThis as unknown as PeerPage).record.received.length >= count,
    { args: [count], timeout: 15_000, message: `${count} messages received` },
  );
}

/** Opens two test pages whose peers share `pairCode`, and waits until both are on P2P. */
async function openUpgradedPair(
  browser: TestBrowser,
  url: string,
  pairCode: string,
): Promise<[Page, Page]> {
  const a = await openPeer(browser, url, { pairCode });
  const b = await openPeer(browser, url, { pairCode });
  await waitForPath(a, "p2p");
  await waitForPath(b, "p2p");
  return [a, b];
}

/** A string, an ArrayBuffer, a Uint8Array viewing part of a larger buffer, and an object. */
function sendSample(send: (data: unknown) => unknown, from: string): void {
  send(`hello from ${from}`);
  send(new Uint8Array([0, 1, 127, 128, 255]).buffer);
  send(new Uint8Array([9, 8, 7, 6, 5]).subarray(1, 4));
  send({ from, list: [1, "two", null], nested: { ok: true } });
}

/** What {@linkcode sendSample} delivers: binary always as an ArrayBuffer of exactly its bytes. */
function expectedSample(from: string): Received[] {
  return [
    { type: "string", value: `hello from ${from}` },
    { type: "ArrayBuffer", bytes: [0, 1, 127, 128, 255] },
    { type: "ArrayBuffer", bytes: [8, 7, 6] },
    { type: "object", value: { from, list: [1, "two", null], nested: { ok: true } } },
  ];
}

/** Sends the sample from the page's peer: {@linkcode sendSample}'s source runs in the page. */
function sendSampleFrom(page: Page, from: string): Promise<unknown> {
  return page.evaluate(
    `(${sendSample})((data) => globalThis.peer.send(data), ${JSON.stringify(from)})`,
  );
}

Deno.test("two browser pages upgrade to P2P and exchange strings, binary and JSON both ways", async () => {
  await using server = await startPageServer();
  await using browser = await launchBrowser();
  const [a, b] = await openUpgradedPair(browser, server.pageUrl, "two-pages");
  const [atA, atB] = await exchangeSamples(a, b);
  for (const side of [atA, atB]) {
    assert.equal(side.path, "p2p");
    assert.equal(side.connected, true);
    assert.ok(side.events.includes("upgrade"), `no upgrade in ${side.events}`);
    assert.ok(!side.events.includes("downgrade"), `downgraded: ${side.events}`);
    assert.deepEqual(side.errors, []);
  }
  // Sent after both were upgraded, the messages took the DataChannel, not the relay.
  const p2pReceived = await b.evaluate(() => {
    const { peer } = globalThis as unknown as PeerPage;
    return peer.stats().p2p.messagesReceived;
  });
  assert.equal(p2pReceived, 4);
  await closePeers(a, b);
});

/**
 * The two pages' peers send each other the sample, which each must receive exactly.
 *
 * @returns What each peer recorded, once both have the sample.
 */
async function exchangeSamples(a: Page, b: Page): Promise<PageState[]> {
  await sendSampleFrom(a, "a");
  await sendSampleFrom(b, "b");
  await waitForReceived(a, 4);
  await waitForReceived(b, 4);
  const [atA, atB] = [await state(a), await state(b)];
  assert.deepEqual(atB.received, expectedSample("a"));
  assert.deepEqual(atA.received, expectedSample("b"));
  return [atA, atB];
}

/** Closes the pages' peers (the browser then closes the pages). */
async function closePeers(...pages: Page[]): Promise<void> {
  for (const page of pages) {
    await page.evaluate(() => (globalThis as unknown as PeerPage).peer.close());
  }
}

/** Makes the page's peer send the numbers 0..count-1, a few at a time, in the background. */
function streamNumbers(page: Page, count: number): Promise<void> {
  return page.evaluate((count) => {
    const { peer } = globalThis as unknown as PeerPage;
    let next = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < 5 && next < count; i++) peer.send(next++);
      if (next === count) clearInterval(timer);
    }, 5);
  }, count);
}

Deno.test("a page whose DataChannel dies mid-stream goes back to the relay and loses nothing", async () => {
  await using server = await startPageServer();
  await using browser = await launchBrowser();
  const [a, b] = await openUpgradedPair(browser, server.pageUrl, "channel-dies");

  const count = 400;
  await streamNumbers(a, count);
  await streamNumbers(b, count);
  await waitForReceived(b, 50);
  await a.evaluate(() => (globalThis as unknown as PeerPage).peer.channel!.close());
  await waitForReceived(a, count);
  await waitForReceived(b, count);

  for (const page of [a, b]) {
    const side = await state(page);
    const numbers = side.received.map((r) => (r as { value: unknown }).value);
    assert.equal(sequenceProblems(numbers, count), null);
    assert.ok(side.events.includes("downgrade"), `no downgrade in ${side.events}`);
    assert.deepEqual(side.errors, []);
  }
  await closePeers(a, b);
});

Deno.test("a page without RTCPeerConnection pairs with a normal page and both stay on the relay", async () => {
  await using server = await startPageServer();
  await using browser = await launchBrowser();
  const pairCode = "relay-only";
  const plain = await openPeer(browser, server.pageUrl, { pairCode }, { withoutWebRtc: true });
  const normal = await openPeer(browser, server.pageUrl, { pairCode });
  assert.equal(await plain.evaluate(() => typeof globalThis.RTCPeerConnection), "undefined");

  await waitForPath(plain, "relay");
  await waitForPath(normal, "relay");
  const [atPlain, atNormal] = await exchangeSamples(plain, normal);
  for (const side of [atPlain, atNormal]) {
    assert.equal(side.path, "relay");
    // Whichever side was the initiator would have tried at once on pairing.
    assert.ok(!side.events.includes("upgrade_attempt"), `tried WebRTC: ${side.events}`);
    assert.deepEqual(side.errors, []);
  }
  await closePeers(plain, normal);
});

Deno.test("a page whose ICE cannot succeed stays on the relay, reports upgrade_error and still talks", async () => {
  await using server = await startPageServer();
  await using browser = await launchBrowser();
  const pairCode = "ice-fails";
  // Relay-only ICE with no TURN server gathers no candidate at all.
  const stuck = await openPeer(browser, server.pageUrl, {
    pairCode,
    rtcConfig: { iceTransportPolicy: "relay" },
    upgradeTimeout: 2000,
  });
  const normal = await openPeer(browser, server.pageUrl, { pairCode, upgradeTimeout: 2000 });

  await waitFor(
    stuck,
    () => (globalThis as unknown as PeerPage).record.events.includes("upgrade_error"),
    { timeout: 15_000, message: "upgrade_error" },
  );
  const [atStuck, atNormal] = await exchangeSamples(stuck, normal);
  assert.ok(atStuck.errors.includes("ERR_UPGRADE"), `errors: ${atStuck.errors}`);
  for (const side of [atStuck, atNormal]) {
    assert.equal(side.path, "relay");
    assert.ok(!side.events.includes("upgrade"), `upgraded: ${side.events}`);
    assert.deepEqual(side.errors.filter((code) => code !== "ERR_UPGRADE"), []);
  }
  await closePeers(stuck, normal);
});

/**
 * Pairs a browser page with a Deno peer (node-datachannel); the one that joins second makes the
 * offer. Both upgrade and exchange the sample both ways over the DataChannel.
 */
async function browserAndDenoUpgrade(offerer: "page" | "deno"): Promise<void> {
  await using server = await startPageServer();
  await using browser = await launchBrowser();
  const pairCode = `page-and-deno-${offerer}-offers`;
  let page: Page | undefined;
  if (offerer === "deno") {
    page = await openPeer(browser, server.pageUrl, { pairCode });
    await waitFor(
      page,
      () => (globalThis as unknown as PeerPage).record.events.includes("peer.waiting"),
      { timeout: 10_000, message: "the page waits for its partner" },
    );
  }
  await using deno = peer(server.peers.url, { pairCode, wrtc: nodeWrtc });
  const upgrades: string[] = [];
  deno.on("upgrade", () => upgrades.push("upgrade"));
  const atDeno = record(deno);
  page ??= await openPeer(browser, server.pageUrl, { pairCode });

  await waitForPath(page, "p2p");
  await until(() => deno.path === "p2p", "the Deno peer is upgraded", 20_000);
  assert.equal(deno.initiator, offerer === "deno");
  sendSample((data) => deno.send(data), "deno");
  await sendSampleFrom(page, "page");
  await waitForReceived(page, 4);
  await until(() => atDeno.length >= 4, "the Deno peer received 4 messages");

  assert.deepEqual(atDeno.map(describeReceived), expectedSample("page"));
  const atPage = await state(page);
  assert.deepEqual(atPage.received, expectedSample("deno"));
  assert.equal(atPage.path, "p2p");
  assert.ok(atPage.events.includes("upgrade"), `no upgrade in ${atPage.events}`);
  assert.deepEqual(atPage.errors, []);
  assert.equal(deno.path, "p2p");
  assert.deepEqual(upgrades, ["upgrade"]);
  assert.equal(deno.stats().p2p.messagesReceived, 4);
  await closePeers(page);
}

Deno.test("a browser page that offers and a Deno peer upgrade to P2P and exchange data both ways", () =>
  browserAndDenoUpgrade("page"));

Deno.test("a Deno peer that offers and a browser page upgrade to P2P and exchange data both ways", () =>
  browserAndDenoUpgrade("deno"));

Deno.test("two demo tabs joined by link and by form pair, go P2P and chat", async () => {
  await using server = await startServer();
  await using browser = await launchBrowser();
  const origin = new URL(server.url).origin;
  const pairCode = "demo-chat";
  const byLink = await openPage(browser, `${origin}/#${pairCode}`);
  const byForm = await openPage(browser, `${origin}/`);
  const before = await demoState(byForm);
  assert.notEqual(before.code, "", "no random code offered");
  assert.equal(before.status, "idle");
  await byForm.bringToFront();
  await byForm.click("#code", { count: 3 });
  await byForm.type("#code", pairCode);
  await byForm.click("#join");

  await waitForDemo(byLink, "paired", "P2P");
  await waitForDemo(byForm, "paired", "P2P");
  await typeMessage(byLink, "hi from the link tab");
  await typeMessage(byForm, "hi from the form tab");
  await waitFor(byForm, () => document.querySelectorAll("#log .incoming").length >= 1);
  await waitFor(byLink, () => document.querySelectorAll("#log .incoming").length >= 1);

  const [link, form] = [await demoState(byLink), await demoState(byForm)];
  assert.deepEqual(form.incoming, ["hi from the link tab"]);
  assert.deepEqual(link.incoming, ["hi from the form tab"]);
  assert.deepEqual(link.outgoing, ["hi from the link tab"]);
  for (const tab of [link, form]) {
    assert.equal(tab.statusText, "Paired");
    assert.equal(tab.code, pairCode);
    assert.equal(tab.share, `${origin}/#${pairCode}`);
    assert.deepEqual(tab.errors, []);
  }
  assert.equal(await byForm.evaluate(() => location.hash), `#${pairCode}`);
});

Deno.test("a third demo tab on a paired code says the code is in use", async () => {
  await using server = await startServer();
  await using browser = await launchBrowser();
  const origin = new URL(server.url).origin;
  const pairCode = "demo-busy";
  const first = await openPage(browser, `${origin}/#${pairCode}`);
  const second = await openPage(browser, `${origin}/#${pairCode}`);
  await waitForDemo(first, "paired", "P2P");
  await waitForDemo(second, "paired", "P2P");

  const third = await openPage(browser, `${origin}/#${pairCode}`);
  await waitFor(third, () => document.getElementById("status")!.dataset.state === "busy", {
    message: "busy status",
  });
  const tab = await demoState(third);
  assert.equal(tab.statusText, "Code in use");
  assert.equal(tab.path, "none");
  assert.match(tab.errors.join("\n"), /in use/);
  assert.equal(await third.$eval("#send", (e) => (e as HTMLButtonElement).disabled), true);
  // The pair itself is untouched.
  assert.equal((await demoState(first)).status, "paired");
});

Deno.test("the demo page loads the client from the server's configured path", async () => {
  await using server = await startServer({ path: "/p2p/" });
  await using browser = await launchBrowser();
  const origin = new URL(server.url).origin;
  const pairCode = "demo-path";
  const a = await openPage(browser, `${origin}/#${pairCode}`);
  const b = await openPage(browser, `${origin}/#${pairCode}`);
  const script = await a.$eval("script[src]", (e) => (e as HTMLScriptElement).src);
  assert.equal(script, `${origin}/p2p/socketpeer.js`);
  await waitForDemo(a, "paired", "P2P");
  await waitForDemo(b, "paired", "P2P");
});
