/**
 * The machine and the software a run measured, and the preparation of the Node baseline.
 *
 * @module
 */
import { cpus, loadavg, totalmem } from "node:os";

const ROOT = new URL("../", import.meta.url);

/** Versions of everything measured. */
export interface Versions {
  deno: string;
  v8: string;
  typescript: string;
  node: string;
  socketIo: string;
  socketIoClient: string;
  nodeDatachannel: string;
  chromium?: string;
}

/** The machine. */
export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  /** Open files a process may hold (soft limit, after the task raised it). */
  openFilesLimit: number;
  os: string;
}

async function output(command: string, args: string[], env: Record<string, string> = {}) {
  const result = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    ok: result.success,
    stdout: new TextDecoder().decode(result.stdout).trim(),
    stderr: new TextDecoder().decode(result.stderr).trim(),
  };
}

/** The version field of an npm package installed under the repository's node_modules. */
async function packageVersion(name: string): Promise<string> {
  try {
    const text = await Deno.readTextFile(new URL(`node_modules/${name}/package.json`, ROOT));
    return JSON.parse(text).version;
  } catch {
    return "unknown";
  }
}

/** Versions of Deno, Node and the npm packages (Chromium is added by the browser suite). */
export async function versions(): Promise<Versions> {
  const node = await output("node", ["--version"]).catch(() => ({ stdout: "missing" }));
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    node: node.stdout.replace(/^v/, ""),
    socketIo: await packageVersion("socket.io"),
    socketIoClient: await packageVersion("socket.io-client"),
    nodeDatachannel: await packageVersion("node-datachannel"),
  };
}

/** The soft limit of open files of this process (children inherit it). */
export function openFilesLimit(): number {
  const limits = Deno.readTextFileSync("/proc/self/limits");
  const soft = /Max open files\s+(\d+)/.exec(limits)?.[1];
  return Number(soft ?? 1024);
}

/** Cores, CPU model, memory, open-files limit. */
export function machine(): Machine {
  const list = cpus();
  return {
    cores: navigator.hardwareConcurrency ?? list.length,
    cpuModel: list[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    openFilesLimit: openFilesLimit(),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
  };
}

/** The 1-minute load average. */
export function load1(): number {
  return Math.round(loadavg()[0] * 100) / 100;
}

/** The scripts every benchmark process runs; installing them fills node_modules. */
const ENTRYPOINTS = [
  "bench/load/peer.ts",
  "bench/load/upgrade.ts",
  "bench/load/pairing.ts",
  "bench/load/held.ts",
  "bench/load/browser.ts",
  "bench/servers/socketpeer.ts",
  "bench/servers/ws_relay.ts",
];

/**
 * Downloads and installs (into node_modules) every npm package the benchmark processes use,
 * so that no case times a download.
 *
 * @throws {Error} When `deno install` fails.
 */
export async function installDependencies(): Promise<void> {
  const result = await output(Deno.execPath(), [
    "install",
    "--quiet",
    "--entrypoint",
    ...ENTRYPOINTS,
  ]);
  if (!result.ok) throw new Error(`deno install failed:\n${result.stderr}`);
}

/**
 * Makes socket.io 4.8.1 resolvable by Node for the socket.io baseline, with bufferutil where its
 * WebSocket server (ws) finds it, as SocketPeer's server has it: from the repository's
 * node_modules (which Deno fills) when it holds that version, else installed with npm into
 * `bench/.node` (gitignored).
 *
 * @param version The socket.io version SocketPeer uses.
 * @returns Environment for the Node process (`SOCKETIO_FROM` when installed apart).
 * @throws {Error} When Node is missing or npm cannot install it.
 */
export async function prepareNodeBaseline(version: string): Promise<Record<string, string>> {
  const probe = (from?: string) =>
    output("node", [
      "-e",
      // socket.io's exports hide its package.json: find it above the resolved entry point. Then
      // follow socket.io → engine.io → ws, and see whether ws can load bufferutil.
      "const { createRequire } = require('node:module'); const path = require('node:path');" +
      "const fs = require('node:fs');" +
      "const entry = createRequire(path.join(process.argv[1], 'index.js')).resolve('socket.io');" +
      "let dir = path.dirname(entry);" +
      "while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);" +
      "const ws = createRequire(createRequire(entry).resolve('engine.io')).resolve('ws');" +
      "createRequire(ws)('bufferutil');" +
      "process.stdout.write(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'))).version)",
      from ?? new URL("servers/", import.meta.url).pathname,
    ]);
  const local = await probe();
  if (local.ok && local.stdout === version) return {};
  const prefix = new URL("bench/.node/", ROOT).pathname;
  const installed = await probe(prefix);
  if (!(installed.ok && installed.stdout === version)) {
    const npm = await output("npm", [
      "install",
      "--silent",
      "--no-audit",
      "--no-fund",
      "--prefix",
      prefix,
      `socket.io@${version}`,
      `socket.io-client@${version}`,
      "bufferutil@4.0.9",
    ]);
    if (!npm.ok) throw new Error(`npm install socket.io@${version} failed:\n${npm.stderr}`);
  }
  return { SOCKETIO_FROM: prefix };
}
