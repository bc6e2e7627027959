import assert from "node:assert/strict";
import { launchBrowser, waitFor } from "./_browser.ts";

/** Serves `html` at `/` on 127.0.0.1, on a free port. */
function servePage(html: string): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      new URL(request.url).pathname === "/"
        ? new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } })
        : new Response("not found", { status: 404 }),
  );
}

function pageUrl(server: Deno.HttpServer<Deno.NetAddr>): string {
  return `http://127.0.0.1:${server.addr.port}/`;
}

// Two connections in one page, signalled directly; the channel echoes what it receives.
const DATA_CHANNEL_PAGE = `<!doctype html>
<script type="module">
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.onicecandidate = (event) => event.candidate && b.addIceCandidate(event.candidate);
  b.onicecandidate = (event) => event.candidate && a.addIceCandidate(event.candidate);
  b.ondatachannel = ({ channel }) => {
    channel.onmessage = (event) => channel.send("echo:" + event.data);
  };
  const channel = a.createDataChannel("test");
  channel.onopen = () => channel.send("ping");
  channel.onmessage = (event) => { globalThis.received = event.data; };
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
</script>`;

Deno.test("launchBrowser() opens a loopback page in which WebRTC exists", async () => {
  await using server = servePage("<!doctype html><title>fixture</title>");
  await using browser = await launchBrowser();
  const page = await browser.newPage(pageUrl(server));
  assert.equal(await page.title(), "fixture");
  assert.equal(await page.evaluate(() => typeof RTCPeerConnection === "function"), true);
});

Deno.test("launchBrowser() gives each browser a profile that close() removes", async () => {
  const browser = await launchBrowser();
  assert.equal((await Deno.stat(browser.userDataDir)).isDirectory, true);
  await browser.close();
  await browser.close();
  await assert.rejects(Deno.stat(browser.userDataDir), Deno.errors.NotFound);
});

Deno.test("launchBrowser() throws when the Chromium binary is missing", async () => {
  await assert.rejects(
    launchBrowser({ executablePath: "/nonexistent/chromium" }),
    /Chromium not found at "\/nonexistent\/chromium"/,
  );
});

Deno.test("newPage() throws when the page answers with an HTTP error", async () => {
  await using server = servePage("");
  await using browser = await launchBrowser();
  await assert.rejects(browser.newPage(`${pageUrl(server)}missing`), /answered 404/);
});

Deno.test("newPage() forwards uncaught page errors and console errors", async () => {
  await using server = servePage(
    `<script>console.error("from console"); setTimeout(() => { throw new Error("boom"); });</script>`,
  );
  await using browser = await launchBrowser();
  await browser.newPage(pageUrl(server));
  const deadline = Date.now() + 5_000;
  while (browser.errors.length < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.match(browser.errors.join("\n"), /console\.error: from console/);
  assert.match(browser.errors.join("\n"), /uncaught: Error: boom/);
});

Deno.test("waitFor() returns the first truthy value the page computes", async () => {
  await using server = servePage(
    `<script>setTimeout(() => { globalThis.answer = 42; }, 200);</script>`,
  );
  await using browser = await launchBrowser();
  const page = await browser.newPage(pageUrl(server));
  const answer = await waitFor(
    page,
    (offset: number) => (globalThis as { answer?: number }).answer! + offset,
    { args: [1], timeout: 5_000 },
  );
  assert.equal(answer, 43);
});

Deno.test("waitFor() names what it awaited when it times out", async () => {
  await using server = servePage("<!doctype html>");
  await using browser = await launchBrowser();
  const page = await browser.newPage(pageUrl(server));
  await assert.rejects(
    waitFor(page, () => false, { timeout: 100, message: "never" }),
    /waitFor\(never\) timed out after 100 ms; last value: false/,
  );
});

Deno.test("a background tab opens a WebRTC data channel over loopback", async () => {
  await using server = servePage(DATA_CHANNEL_PAGE);
  await using browser = await launchBrowser();
  const background = await browser.newPage(pageUrl(server));
  await browser.newPage(pageUrl(server)); // now in front of the first
  const received = await waitFor(
    background,
    () => (globalThis as { received?: string }).received,
    { timeout: 10_000, message: "echo over the data channel" },
  );
  assert.equal(received, "echo:ping");
  assert.deepEqual(browser.errors, []);
});
