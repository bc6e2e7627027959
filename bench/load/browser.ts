/**
 * The browser load generator: two headless Chromiums (the shared test fixture), one page each,
 * of the benchmark page served by the SocketPeer server under test; two browsers rather than two
 * tabs, as two users would have, and so that neither page is a background tab. It runs the
 * throughput sessions on the browser paths (SocketPeer direct, SocketPeer relay, a raw
 * RTCDataChannel) with the same workload functions as the Deno processes, then times upgrades
 * between the two pages.
 *
 * Prints `version`; on `go` (stdin), `progress` lines and one `upgrade` result, then per
 * session `path-ready`, `task-start`, `task-done` (`session-error` when a connection is given
 * up, `path-failed` when a session could not finish); then `finished`. Every launch of
 * Chromium is announced with its pids (`browsers`).
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

/** A case whose sending page shows no progress for this long counts as stalled. */
const STALL_MS = 30_000;
/** Connecting, and anything else that has no progress to show, may take this long. */
const CASE_TIMEOUT_MS = 30_000;

/** Resolves with `work`, or with null after `ms`. */
function within<T>(work: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    work.finally(() => clearTimeout(timer)),
    new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms)),
  ]);
}

/**
 * Resolves with `work`, or with null once the page's progress token has not changed for
 * `STALL_MS` (a backlog that drains slowly is progress; a stuck association is not).
 */
async function unlessStalled<T>(page: Page, work: Promise<T>): Promise<T | null> {
  let done = false;
  const finished = work.finally(() => done = true);
  let token = "";
  let since = Date.now();
  while (!done) {
    const now = await within(inPage(page, (g) => g.progressToken()), 5_000);
    if (now !== token) {
      token = now ?? token;
      since = Date.now();
    } else if (Date.now() - since > STALL_MS) {
      return null;
    }
    await within(finished, 2_000);
  }
  return await finished;
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

/** Two fresh Chromiums (announced by pid, so that nothing outlives the run). */
async function twoBrowsers(): Promise<TestBrowser[]> {
  const browsers: TestBrowser[] = [];
  try {
    for (let i = 0; i < 2; i++) browsers.push(await launchBrowser({ args: BENCH_CHROMIUM_ARGS }));
  } catch (err) {
    await closeBrowsers(browsers);
    throw err;
  }
  emit({
    event: "browsers",
    pids: browsers.map((b) => b.browser.process()?.pid).filter((pid) => pid !== undefined),
  });
  return browsers;
}

/** Closes browsers; one that does not close within 10 s is killed. */
async function closeBrowsers(browsers: TestBrowser[]): Promise<void> {
  const closed = await within(Promise.all(browsers.map((b) => b.close())), 10_000);
  if (closed === null) {
    for (const b of browsers) b.browser.process()?.kill("SIGKILL");
  }
}

/**
 * Runs each session on fresh browsers. A case that stalls is reported as such, and the
 * session goes on with the next case on new browsers (up to three connections a session), so
 * that one stuck association spoils one figure, not a path.
 */
async function throughput(config: BrowserConfig): Promise<void> {
  const stream = (g: BenchPage, x: StreamCase) => g.driver!.stream(x);
  for (const [n, { path, cases }] of config.sessions.entries()) {
    let next = 0;
    let lastError = "";
    for (let attempt = 1; next < cases.length && attempt <= 3; attempt++) {
      const browsers = await twoBrowsers();
      try {
        const sender = await browsers[0].newPage(config.pageUrl);
        const receiver = await browsers[1].newPage(config.pageUrl);
        const code = `bench-${path}-${n}-${attempt}-${Date.now().toString(36)}`;
        if (await within(connect(path, sender, receiver, code), CASE_TIMEOUT_MS) === null) {
          throw new Error(`no connection within ${CASE_TIMEOUT_MS / 1000} s`);
        }
        emit({ event: "path-ready", path, session: n });
        // One ping, then an unmeasured stream: both ends listen, and a fresh association's
        // first burst (which may lose packets and wait for a retransmission timeout) is over.
        await inPage(sender, (g) => g.driver!.pingPong(1, 0));
        const warm = { size: 16 * 1024, binary: true, warmupMs: 500, measureMs: 500 };
        if (await unlessStalled(sender, inPage(sender, stream, warm)) === null) {
          throw new Error(`the warm-up stream stalled for ${STALL_MS / 1000} s`);
        }
        for (; next < cases.length; next++) {
          emit({ event: "task-start", path, session: n, index: next });
          const result = await unlessStalled(sender, inPage(sender, stream, cases[next]));
          if (result === null) {
            const skipped = `stalled: no progress for ${STALL_MS / 1000} s`;
            emit({ event: "task-done", path, session: n, index: next++, result: { skipped } });
            throw new Error(skipped);
          }
          emit({ event: "task-done", path, session: n, index: next, result });
        }
      } catch (err) {
        lastError = String(err);
        emit({ event: "session-error", path, session: n, error: lastError });
      } finally {
        await closeBrowsers(browsers);
      }
    }
    if (next < cases.length) emit({ event: "path-failed", path, session: n, error: lastError });
  }
}

async function upgrades(config: BrowserConfig): Promise<void> {
  const browsers = await twoBrowsers();
  try {
    const a = await browsers[0].newPage(config.pageUrl);
    const b = await browsers[1].newPage(config.pageUrl);
    const samples: number[] = [];
    let failures = 0;
    const total = config.upgradeWarmup + config.upgrades;
    const prefix = `bupgrade-${Date.now().toString(36)}`;
    const once = (g: BenchPage, c: string, ms: number) => g.upgradeOnce(c, ms);
    for (let i = 0; i < total; i++) {
      const code = `${prefix}-${i}`;
      const both = await within(
        Promise.all([
          inPage(a, once, code, config.upgradeTimeoutMs),
          inPage(b, once, code, config.upgradeTimeoutMs),
        ]),
        config.upgradeTimeoutMs + 10_000,
      );
      if (i >= config.upgradeWarmup) {
        const [x, y] = both ?? [{ found: 0, open: 0 }, { found: 0, open: 0 }];
        if (x.open && y.open) {
          samples.push(
            Math.round((Math.max(x.open, y.open) - Math.min(x.found, y.found)) * 1000) / 1000,
          );
        } else {
          failures++;
        }
      }
      if (both === null) throw new Error(`pairing ${i} hung: the pages stopped answering`);
      if ((i + 1) % 10 === 0 || i + 1 === total) emit({ event: "progress", done: i + 1, total });
    }
    emit({ event: "upgrade", samples, failures, attempts: config.upgrades });
  } finally {
    await closeBrowsers(browsers);
  }
}

if (import.meta.main) {
  const config = JSON.parse(Deno.args[0]) as BrowserConfig;
  try {
    const probe = await twoBrowsers();
    emit({ event: "version", chromium: await probe[0].browser.version() });
    await closeBrowsers(probe);
  } catch (err) {
    emit({ event: "fatal", error: String(err) });
    Deno.exit(1);
  }
  const run = async () => {
    // Upgrades first, on fresh browsers, while nothing else has run in them.
    if (config.upgrades > 0) await upgrades(config);
    await throughput(config);
    emit({ event: "finished" });
  };
  await serveControl({
    go: () => {
      run().catch((err) => emit({ event: "fatal", error: String(err) }));
      return {};
    },
  });
}
