/**
 * SocketPeer used the way a user who never cloned it uses it: `mod.ts`
 * imported by URL, without this repository's deno.json, import map or lock
 * file, and with no build step.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { extname, join, normalize } from "node:path";

const ROOT = new URL("../", import.meta.url);

const CONTENT_TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".html": "text/html; charset=utf-8",
};

/** Serves the repository's files, as a static host or a CDN would; records each path asked for. */
function serveRepository(requested: string[]): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    const path = normalize(decodeURIComponent(new URL(request.url).pathname));
    requested.push(path);
    if (path.split("/").includes("..")) return new Response("forbidden", { status: 403 });
    try {
      const body = await Deno.readFile(join(ROOT.pathname, path));
      const type = CONTENT_TYPES[extname(path)] ?? "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.IsADirectory) {
        return new Response("not found", { status: 404 });
      }
      throw err;
    }
  });
}

/** The user's program: a server, its library, and two peers, all from the URL. */
function script(moduleUrl: string): string {
  return `import { SocketPeer, SocketPeerServer } from ${JSON.stringify(moduleUrl)};

const server = new SocketPeerServer({ port: 0, host: "127.0.0.1" });
await server.ready;
const library = await fetch(server.url + "socketpeer.js");
const body = new Uint8Array(await library.arrayBuffer());
const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", body)))
  .map((b) => b.toString(16).padStart(2, "0")).join("");

const a = new SocketPeer({ url: server.url, pairCode: "url-import" });
const b = new SocketPeer({ url: server.url, pairCode: "url-import" });
const received = new Promise((resolve) => b.once("data", resolve));
a.send("hello from a URL import");
const data = await received;

console.log("RESULT " + JSON.stringify({
  status: library.status,
  type: library.headers.get("content-type"),
  digest,
  data,
}));
a.close();
b.close();
await server.close();
`;
}

Deno.test("mod.ts imported by URL, without this repository's config, serves its library and relays", async () => {
  const requested: string[] = [];
  await using host = serveRepository(requested);
  const origin = `http://127.0.0.1:${host.addr.port}`;
  const dir = await Deno.makeTempDir({ prefix: "socketpeer-url-import-" });
  try {
    const program = join(dir, "script.ts");
    await Deno.writeTextFile(program, script(`${origin}/mod.ts`));
    const child = new Deno.Command(Deno.execPath(), {
      // --no-config: neither deno.json nor its import map; --reload: never a stale remote module.
      args: ["run", "-A", "--no-config", "--no-lock", `--reload=${origin}`, program],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    const { code, stdout, stderr } = await child.output();
    clearTimeout(timer);
    const out = new TextDecoder().decode(stdout);
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `the script exits 0 by itself; stdout: ${out}\nstderr: ${err}`);

    const line = out.split("\n").find((l) => l.startsWith("RESULT "));
    assert.ok(line, `a result line; stdout: ${out}\nstderr: ${err}`);
    const result = JSON.parse(line.slice("RESULT ".length));
    const expected = createHash("sha256")
      .update(await Deno.readFile(new URL("static/socketpeer.js", ROOT)))
      .digest("hex");
    assert.deepEqual(result, {
      status: 200,
      type: "text/javascript; charset=utf-8",
      digest: expected,
      data: "hello from a URL import",
    });
    // The server found the bundle next to its remote module, not on the local disk.
    assert.ok(requested.includes("/static/socketpeer.js"), requested.join(" "));
    assert.ok(requested.includes("/mod.ts"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
