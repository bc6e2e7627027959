/**
 * Shared fixture for browser tests: headless Chromium through `puppeteer-core`.
 *
 * Chromium is the one at `CHROME_PATH` (default `/usr/bin/chromium`; `scripts/test.sh`
 * provisions it). A missing browser is an error, never a skipped test, and no browser is
 * ever downloaded.
 *
 * Only the front tab renders: call `page.bringToFront()` before `page.click()` or typing,
 * or puppeteer waits for a frame that never comes. A cached page answers 304; that is fine.
 *
 * Pages must come from a server on 127.0.0.1 (e.g. `Deno.serve` on port 0), not from request
 * interception: Chromium does not let pages from elsewhere open loopback sockets.
 *
 * ```ts
 * await using browser = await launchBrowser();
 * const page = await browser.newPage(`http://127.0.0.1:${port}/`);
 * await waitFor(page, () => document.title === "ready");
 * ```
 *
 * @module
 */

import puppeteer, { type Browser, type Page } from "npm:puppeteer-core@24.10.0";

/** Used when neither {@linkcode LaunchOptions.executablePath} nor `CHROME_PATH` is set. */
export const DEFAULT_CHROME_PATH = "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Only one tab is in front; tests drive several peers at once, each in its own tab.
  "--disable-background-timer-throttling",
  "--disable-backgrounding-occluded-windows",
  "--disable-renderer-backgrounding",
  // WebRTC between tabs of one machine: offer plain host candidates, loopback included,
  // since mDNS names do not resolve in containers and CI machines may have only `lo`.
  "--allow-loopback-in-peer-connection",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
];

/** Options of {@linkcode launchBrowser}. */
export interface LaunchOptions {
  /**
   * The Chromium (or Chrome) binary.
   * @default {Deno.env.get("CHROME_PATH") ?? "/usr/bin/chromium"}
   */
  executablePath?: string;
  /**
   * Extra command-line flags, after the fixture's own.
   * @default {[]}
   */
  args?: string[];
}

/** A running Chromium with its own temporary profile; see {@linkcode launchBrowser}. */
export interface TestBrowser extends AsyncDisposable {
  /** The puppeteer browser, for what the fixture does not cover (e.g. browser contexts). */
  readonly browser: Browser;
  /** The temporary profile folder; removed by {@linkcode TestBrowser.close}. */
  readonly userDataDir: string;
  /** Console errors and uncaught exceptions of all pages so far, as forwarded to stderr. */
  readonly errors: readonly string[];
  /**
   * Opens a tab, loads `url` and waits for its `load` event.
   * @param url Page to open; serve it from 127.0.0.1.
   * @returns The puppeteer page.
   * @throws {Error} When the page answers with an HTTP error status.
   */
  newPage(url: string): Promise<Page>;
  /** Closes Chromium and removes its profile. Idempotent; `await using` calls it. */
  close(): Promise<void>;
}

/**
 * Launches headless Chromium with a fresh temporary profile.
 *
 * Each page's console errors and uncaught exceptions are written to stderr, prefixed with
 * `[browser]` and the page's URL, and collected in {@linkcode TestBrowser.errors}.
 *
 * @example Open a page and read a value computed in it
 * ```ts
 * import assert from "node:assert/strict";
 *
 * await using server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen() {} },
 *   () => new Response("<title>hi</title>", { headers: { "content-type": "text/html" } }),
 * );
 * await using browser = await launchBrowser();
 * const page = await browser.newPage(`http://127.0.0.1:${server.addr.port}/`);
 * assert.equal(await page.title(), "hi");
 * ```
 *
 * @param options Browser binary and extra flags.
 * @returns The running browser; close it (or declare it with `await using`).
 * @throws {Error} When the Chromium binary does not exist.
 */
export async function launchBrowser(options: LaunchOptions = {}): Promise<TestBrowser> {
  const executablePath = options.executablePath ?? Deno.env.get("CHROME_PATH") ??
    DEFAULT_CHROME_PATH;
  const stat = await Deno.stat(executablePath).catch(() => undefined);
  if (!stat?.isFile) {
    throw new Error(
      `Chromium not found at "${executablePath}". Run the tests with \`bash scripts/test.sh\`, ` +
        "which installs it, or set CHROME_PATH to a Chromium binary.",
    );
  }

  const userDataDir = await Deno.makeTempDir({ prefix: "socketpeer-chromium-" });
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      userDataDir,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    });
  } catch (error) {
    await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    throw new Error(`Chromium at "${executablePath}" did not start`, { cause: error });
  }

  const errors: string[] = [];
  const report = (url: string, text: string) => {
    const line = `[browser] ${url}: ${text}`;
    errors.push(line);
    console.error(line);
  };
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      await browser.close().catch(() => {});
      await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    })();

  return {
    browser,
    userDataDir,
    errors,
    async newPage(url) {
      const page = await browser.newPage();
      page.on("console", (message) => {
        if (message.type() !== "error") return;
        const source = message.location().url;
        // Chromium asks every server for a favicon; a 404 there says nothing about the test.
        if (source && new URL(source).pathname === "/favicon.ico") return;
        const where = source && source !== page.url() ? ` (${source})` : "";
        report(page.url(), `console.error: ${message.text()}${where}`);
      });
      page.on("pageerror", (error) => {
        report(page.url(), `uncaught: ${error instanceof Error ? error.stack : String(error)}`);
      });
      const response = await page.goto(url, { waitUntil: "load" });
      if (response && !response.ok() && response.status() !== 304) {
        throw new Error(`${url} answered ${response.status()} ${response.statusText()}`);
      }
      return page;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Options of {@linkcode waitFor}. */
export interface WaitForOptions<A extends unknown[]> {
  /**
   * Milliseconds before giving up.
   * @default {10_000}
   */
  timeout?: number;
  /**
   * Milliseconds between two evaluations.
   * @default {25}
   */
  interval?: number;
  /** Arguments passed to the function in the page (it cannot see the test's variables). */
  args?: A;
  /** Says what is awaited, for the timeout error. @default {the function's source} */
  message?: string;
}

/**
 * Evaluates `fn` in the page until it returns a truthy value, and returns that value.
 *
 * The polling runs in the test, not in the page: background tabs pause
 * `requestAnimationFrame` and may throttle timers, so in-page waiting can stall.
 * Evaluations that throw (e.g. during a navigation) count as "not yet".
 *
 * @example Wait for a data channel to open
 * ```ts
 * const state = await waitFor(page, () => globalThis.channel?.readyState === "open", {
 *   timeout: 5_000,
 *   message: "data channel open",
 * });
 * ```
 *
 * @param page Page to evaluate in.
 * @param fn Serialised and run in the page; gets {@linkcode WaitForOptions.args}.
 * @param options Timeout, polling interval, arguments, description.
 * @returns The first truthy value `fn` returned.
 * @throws {Error} After the timeout, naming what was awaited and the last value or error.
 */
export async function waitFor<T, A extends unknown[] = []>(
  page: Page,
  fn: (...args: A) => T | Promise<T>,
  options: WaitForOptions<A> = {},
): Promise<T> {
  const { timeout = 10_000, interval = 25, message = fn.toString() } = options;
  const args = options.args ?? ([] as unknown[] as A);
  const deadline = Date.now() + timeout;
  let last = "no evaluation finished";
  while (true) {
    try {
      // The cast keeps puppeteer's serialisable-argument types out of the fixture's signature.
      const value = await page.evaluate(fn as (...args: unknown[]) => T, ...args) as T;
      if (value) return value;
      last = `last value: ${JSON.stringify(value)}`;
    } catch (error) {
      if (page.isClosed()) throw new Error(`waitFor(${message}): the page closed`);
      last = `last error: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() + interval > deadline) {
      throw new Error(`waitFor(${message}) timed out after ${timeout} ms; ${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
