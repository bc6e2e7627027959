/**
 * The browser load generator: two headless Chromiums (the shared test fixture), one page each,
 * of the benchmark page served by the SocketPeer server under test; two browsers rather than two
 * tabs, as two users would have, and so that neither page is a background tab. It runs the
 * throughput sessions on the browser paths (SocketPeer direct, SocketPeer relay, a raw
 * RTCDataChannel) with the same workload functions as the Deno processes, then times upgrades
 * between the two pages.
 *
 * Prints `version`, then per session `path-ready`, `task-start`, `task-done` (or `path-failed`);
 * then `progress` and one `upgrade` result; then `finished`. Starts on `go` (stdin).
 *
 * @module
 */
import type { Page } from "npm:puppeteer-core@24.10.0";
import { launchBrowser, type TestBrowser } from "../../tests/_browser.ts";
import type { BenchPage } from "../harness/page.ts";
import type { StreamCase } from "../harness/workload.ts";
import { emit, serveControl } from "../servers/control.ts";

/**
 * Chromium flags of the benchmark, after the test fixture's own. IPv4 candidates only: on this
 * kind of container, Chromium's DataChannel over the IPv6 interface stalls for seconds at a
 * time, a raw channel as much as SocketPeer's (measured: no message through in 10 s), and
 * whether a pairing nominates the IPv6 pair is chance. Both browser paths get the same flags.
 */
export const BENCH_CHROMIUM_ARGS = ["--force-fieldtrials=WebRTC-IPv6Default/Disabled/"];

/** A case with no result by then counts as stalled, and the path is abandoned. */
const CASE_TIMEOUT_MS = 60_000;

/** Resolves with `work`, or with null after `ms`. */
function within<T>(work: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    work.finally(() => clearTimeout(timer)),
    new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms)),
  ]);
}

/** The browser paths. */
export type BrowserPath = "browser-direct" | "browser-relay" | "browser-datachannel";

/** One connection of a browser path and the cases run over it. */
export interface BrowserSession {
  path: BrowserPath;
  cases: StreamCase[];
}

/** The argument of this script. */
export interface BrowserConfig {
  /** The benchmark page on the SocketPeer server. */
  pageUrl: string;
  sessions: BrowserSession[];
  /** Timed pairings for time to upgrade, after `upgradeWarmup` untimed ones. */
  upgrades: number;
  upgradeWarmup: number;
  upgradeTimeoutMs: number;
}

type PageFn<A extends unknown[], R> = (page: BenchPage, ...args: A) => R;

/** Runs `fn` in the page with the page's globals as its first argument. */
function inPage<A extends unknown[], R>(page: Page, fn: PageFn<A, R>, ...args: A): Promise<R> {
  return page.evaluate(
    `(${fn})(globalThis, ...${JSON.stringify(args)})`,
  ) as Promise<R>;
}

async function connect(
  path: BrowserPath,
  sender: Page,
  receiver: Page,
  code: string,
): Promise<void> {
  if (path === "browser-datachannel") {
    const offer = await inPage(sender, (g) => g.rawOffer());
    const answer = await inPage(receiver, (g, sdp: string) => g.rawAnswer(sdp), offer);
    await inPage(sender, (g, sdp: string) => g.rawAccept(sdp), answer);
    await Promise.all([
      inPage(sender, (g) => g.rawStart("sender")),
      inPage(receiver, (g) => g.rawStart("receiver")),
    ]);
    return;
  }
  const relayOnly = path === "browser-relay";
  await Promise.all([
    inPage(
      sender,
      (g, c: string, r: boolean) => g.startPeer(c, r, "sender"),
      code,
      relayOnly,
    ),
    inPage(
      receiver,
      (g, c: string, r: boolean) => g.startPeer(c, r, "receiver"),
      code,
      relayOnly,
    ),
  ]);
}

async function throughput(browsers: TestBrowser[], config: BrowserConfig): Promise<void> {
  for (const [n, { path, cases }] of config.sessions.entries()) {
    const sender = await browsers[0].newPage(config.pageUrl);
    const receiver = await browsers[1].newPage(config.pageUrl);
    try {
      await connect(path, sender, receiver, `bench-${path}-${n}-${Date.now().toString(36)}`);
      emit({ event: "path-ready", path, session: n });
      // One ping, then an unmeasured stream: both ends listen, and a fresh association's first
      // burst (which may lose packets and wait for a retransmission timeout) is behind us.
      await inPage(sender, (g) => g.driver!.pingPong(1, 0));
      const warm = { size: 16 * 1024, binary: true, warmupMs: 500, measureMs: 500 };
      const stream = (g: BenchPage, x: StreamCase) => g.driver!.stream(x);
      if (await within(inPage(sender, stream, warm), CASE_TIMEOUT_MS) === null) {
        throw new Error(`the warm-up stream stalled for ${CASE_TIMEOUT_MS / 1000} s`);
      }
      for (const [index, c] of cases.entries()) {
        emit({ event: "task-start", path, session: n, index });
        const result = await within(inPage(sender, stream, c), CASE_TIMEOUT_MS);
        if (result === null) {
          throw new Error(`case ${index} (${c.size} B) stalled for ${CASE_TIMEOUT_MS / 1000} s`);
        }
        emit({ event: "task-done", path, session: n, index, result });
      }
    } catch (err) {
      emit({ event: "path-failed", path, session: n, error: String(err) });
    } finally {
      await sender.close();
      await receiver.close();
    }
  }
}

async function upgrades(browsers: TestBrowser[], config: BrowserConfig): Promise<void> {
  const a = await browsers[0].newPage(config.pageUrl);
  const b = await browsers[1].newPage(config.pageUrl);
  const samples: number[] = [];
  let failures = 0;
  const total = config.upgradeWarmup + config.upgrades;
  const prefix = `bupgrade-${Date.now().toString(36)}`;
  for (let i = 0; i < total; i++) {
    const code = `${prefix}-${i}`;
    const once = (g: BenchPage, c: string, ms: number) => g.upgradeOnce(c, ms);
    const [x, y] = await Promise.all([
      inPage(a, once, code, config.upgradeTimeoutMs),
      inPage(b, once, code, config.upgradeTimeoutMs),
    ]);
    if (i >= config.upgradeWarmup) {
      if (x.open && y.open) {
        samples.push(
          Math.round((Math.max(x.open, y.open) - Math.min(x.found, y.found)) * 1000) /
            1000,
        );
      } else {
        failures++;
      }
    }
    if ((i + 1) % 10 === 0 || i + 1 === total) emit({ event: "progress", done: i + 1, total });
  }
  emit({ event: "upgrade", samples, failures, attempts: config.upgrades });
  await a.close();
  await b.close();
}

if (import.meta.main) {
  const config = JSON.parse(Deno.args[0]) as BrowserConfig;
  const browsers: TestBrowser[] = [];
  try {
    for (let i = 0; i < 2; i++) browsers.push(await launchBrowser({ args: BENCH_CHROMIUM_ARGS }));
  } catch (err) {
    emit({ event: "fatal", error: String(err) });
    await Promise.all(browsers.map((b) => b.close()));
    Deno.exit(1);
  }
  emit({
    event: "version",
    chromium: await browsers[0].browser.version(),
    // So that the orchestrator can end them should this process be killed.
    pids: browsers.map((b) => b.browser.process()?.pid).filter((pid) => pid !== undefined),
  });
  const run = async () => {
    await throughput(browsers, config);
    if (config.upgrades > 0) await upgrades(browsers, config);
    emit({ event: "finished" });
  };
  await serveControl({
    go: () => {
      run().catch((err) => emit({ event: "fatal", error: String(err) }));
      return {};
    },
  }, async () => {
    await Promise.all(browsers.map((b) => b.close()));
  });
}
