/**
 * The pair registry of a cluster: pairing state in Redis, shared by every
 * server process (node). Each decision is one Lua script, so Redis runs it
 * atomically: two peers joining one code on two nodes at the same moment
 * pair exactly once, and a third is busy.
 *
 * Node death: every member records the node that holds its socket, and each
 * node refreshes a heartbeat key with a TTL (`nodeTimeout`). Members of a
 * node whose heartbeat lapsed are ignored by every script and evicted by the
 * scripts that write, so a node killed with SIGKILL leaves no ghost pairs.
 * The partners such a node leaves alone are reported once, as `orphaned`.
 *
 * Keys (`prefix` is `socketpeer:` by default; pair codes are opaque bytes in
 * key names and set members, never object keys, so `__proto__` is ordinary):
 *
 * ```text
 * <prefix>pair:<code>    JSON array of 1–2 members
 *                        {socketId, peerId, webrtc, batch, maxFrameSize, node}
 * <prefix>waiting        set of codes with one member      (for stats)
 * <prefix>paired         set of codes with two members     (for stats)
 * <prefix>node:<id>      heartbeat of a node, expires after nodeTimeout
 * <prefix>nodes          set of node ids that may hold members
 * <prefix>codes:<id>     set of codes where node <id> may hold a member
 * ```
 *
 * The scripts touch keys they compute, so this needs a single Redis primary
 * (optionally with replicas or Sentinel), not Redis Cluster. Redis 7 or later.
 *
 * Loaded only in cluster mode: `server.ts` imports it dynamically.
 *
 * @example
 * ```ts
 * import { RedisPairRegistry } from "./redis_registry.ts";
 * const registry = new RedisPairRegistry({ url: "redis://127.0.0.1:6379" });
 * await registry.join("room-1", { socketId: "a", peerId: "pa", webrtc: true }); // { status: "waiting" }
 * await registry.close();
 * ```
 *
 * @module
 */
import { Redis } from "npm:ioredis@5.9.3";
import type {
  JoinResult,
  PairMember,
  PairRegistry,
  RegistryEvent,
  RegistryStats,
} from "./registry.ts";

/** Options of a {@linkcode RedisPairRegistry}. */
export interface RedisPairRegistryOptions {
  /** The Redis URL, e.g. `redis://:password@host:6379/0`; or give `client`. */
  url?: string;
  /** An ioredis client to use (and not close); or give `url`. */
  client?: Redis;
  /**
   * Prefix of every key.
   * @default {"socketpeer:"}
   */
  prefix?: string;
  /**
   * Milliseconds after which a node that stopped its heartbeat counts as dead.
   * The heartbeat beats four times in this period.
   * @default {10000}
   */
  nodeTimeout?: number;
  /**
   * This node's id.
   * @default {a random UUID}
   */
  nodeId?: string;
}

// Shared by every script. ARGV[1] is the key prefix.
const PRELUDE = `
local prefix = ARGV[1]
local alive = {}
local function isAlive(node)
  local known = alive[node]
  if known == nil then
    known = redis.call("EXISTS", prefix .. "node:" .. node) == 1
    alive[node] = known
  end
  return known
end
local function load(code)
  local raw = redis.call("GET", prefix .. "pair:" .. code)
  if not raw then return {} end
  return cjson.decode(raw)
end
local function live(members)
  local kept = {}
  for _, m in ipairs(members) do
    if isAlive(m.node) then kept[#kept + 1] = m end
  end
  return kept
end
local function store(code, members)
  local key = prefix .. "pair:" .. code
  if #members == 0 then
    redis.call("DEL", key)
    redis.call("SREM", prefix .. "waiting", code)
    redis.call("SREM", prefix .. "paired", code)
    return
  end
  redis.call("SET", key, cjson.encode(members))
  local add, remove = "waiting", "paired"
  if #members == 2 then add, remove = "paired", "waiting" end
  redis.call("SADD", prefix .. add, code)
  redis.call("SREM", prefix .. remove, code)
end
local function track(node, code)
  redis.call("SADD", prefix .. "codes:" .. node, code)
end
local function untrack(node, code, rest)
  for _, m in ipairs(rest) do
    if m.node == node then return end
  end
  redis.call("SREM", prefix .. "codes:" .. node, code)
end
local function list(items)
  if #items == 0 then return "[]" end
  return cjson.encode(items)
end
-- Evicts the members of every node whose heartbeat lapsed; returns the live
-- members those evictions left alone.
local function reap()
  local orphans = {}
  for _, node in ipairs(redis.call("SMEMBERS", prefix .. "nodes")) do
    if not isAlive(node) then
      local codes = prefix .. "codes:" .. node
      for _, code in ipairs(redis.call("SMEMBERS", codes)) do
        local all = load(code)
        local members = live(all)
        if #members ~= #all then
          store(code, members)
          for _, m in ipairs(members) do
            orphans[#orphans + 1] = { pairCode = code, member = m }
          end
        end
      end
      redis.call("DEL", codes)
      redis.call("SREM", prefix .. "nodes", node)
    end
  end
  return orphans
end
`;

const SCRIPTS = {
  // ARGV: prefix, code, member JSON (with its node)
  spJoin: `
local code, me = ARGV[2], cjson.decode(ARGV[3])
local members = live(load(code))
for i, m in ipairs(members) do
  if m.peerId == me.peerId then
    members[i] = me
    store(code, members)
    track(me.node, code)
    if m.node ~= me.node then untrack(m.node, code, members) end
    return cjson.encode({ status = "replaced", replaced = m, partner = members[3 - i] or false })
  end
end
if #members >= 2 then return '{"status":"busy"}' end
members[#members + 1] = me
store(code, members)
track(me.node, code)
if #members == 2 then return cjson.encode({ status = "paired", partner = members[1] }) end
return '{"status":"waiting"}'
`,
  // ARGV: prefix, code, socketId. The caller holds the socket, so the member
  // is found among all members, live or not; the partner returned is live.
  spLeave: `
local code, socketId = ARGV[2], ARGV[3]
local all = load(code)
local gone = nil
for _, m in ipairs(all) do
  if m.socketId == socketId then gone = m end
end
local rest = {}
for _, m in ipairs(live(all)) do
  if m.socketId ~= socketId then rest[#rest + 1] = m end
end
if gone == nil and #rest == #all then return "" end
store(code, rest)
if gone then untrack(gone.node, code, rest) end
if gone and rest[1] then return cjson.encode(rest[1]) end
return ""
`,
  // ARGV: prefix, code
  spClear: `
local code = ARGV[2]
local all = load(code)
store(code, {})
for _, m in ipairs(all) do untrack(m.node, code, {}) end
return list(live(all))
`,
  // ARGV: prefix, code
  spMembers: `
return list(live(load(ARGV[2])))
`,
  // ARGV: prefix
  spStats: `
local orphans = reap()
return '{"waiting":' .. redis.call("SCARD", prefix .. "waiting") ..
  ',"paired":' .. redis.call("SCARD", prefix .. "paired") .. ',"orphans":' .. list(orphans) .. '}'
`,
  // ARGV: prefix, node, ttl (ms)
  spBeat: `
local node, ttl = ARGV[2], ARGV[3]
local key = prefix .. "node:" .. node
local existed = redis.call("EXISTS", key) == 1
redis.call("SET", key, "1", "PX", ttl)
alive[node] = true
redis.call("SADD", prefix .. "nodes", node)
return '{"existed":' .. tostring(existed) .. ',"orphans":' .. list(reap()) .. '}'
`,
  // ARGV: prefix, node. A node that stops: its members go at once.
  spRetire: `
redis.call("DEL", prefix .. "node:" .. ARGV[2])
return list(reap())
`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
type Scripted = { [K in ScriptName]: (...args: string[]) => Promise<string> };

interface StoredMember extends PairMember {
  node: string;
}

interface Orphan {
  pairCode: string;
  member: StoredMember;
}

function member({ socketId, peerId, webrtc, batch, maxFrameSize }: StoredMember): PairMember {
  const m: PairMember = { socketId, peerId, webrtc };
  if (batch !== undefined) m.batch = batch;
  if (maxFrameSize !== undefined) m.maxFrameSize = maxFrameSize;
  return m;
}

/**
 * A {@linkcode PairRegistry} in Redis, for several server processes behind
 * one address. See the module documentation for the keys and node death.
 */
export class RedisPairRegistry implements PairRegistry {
  /** This node's id, recorded with each member it adds. */
  readonly nodeId: string;
  /** The ioredis client the scripts run on. */
  readonly client: Redis;
  readonly #prefix: string;
  readonly #nodeTimeout: number;
  readonly #ownsClient: boolean;
  readonly #listeners = new Set<(event: RegistryEvent) => void>();
  /** Resolves after the first heartbeat, once this node's members count. */
  readonly ready: Promise<void>;
  #timer?: ReturnType<typeof setInterval>;
  #known = false;
  #closed = false;

  /**
   * @param options `url` or `client`, and `prefix`, `nodeTimeout`, `nodeId`.
   */
  constructor(options: RedisPairRegistryOptions) {
    if (!options.client && !options.url) {
      throw new TypeError("RedisPairRegistry needs url or client");
    }
    this.#ownsClient = !options.client;
    // Requests wait for Redis (queued while it is down) rather than fail.
    this.client = options.client ?? new Redis(options.url!, { maxRetriesPerRequest: null });
    this.#prefix = options.prefix ?? "socketpeer:";
    this.#nodeTimeout = options.nodeTimeout ?? 10_000;
    this.nodeId = options.nodeId ?? crypto.randomUUID();
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      // ioredis runs EVALSHA and falls back to EVAL after a Redis restart.
      this.client.defineCommand(name, { numberOfKeys: 0, lua: PRELUDE + lua });
    }
    // A member counts only while its node's heartbeat lives: beat first.
    this.ready = this.#beat();
    this.ready.catch(() => {});
    this.#timer = setInterval(() => {
      if (this.client.status === "ready") this.#beat().catch(() => {});
    }, Math.max(1, Math.floor(this.#nodeTimeout / 4)));
    // After Redis comes back, beat at once: it may have forgotten this node.
    this.client.on("ready", this.#onReady);
  }

  #onReady = () => {
    if (!this.#closed) this.#beat().catch(() => {});
  };

  async #run(name: ScriptName, ...args: string[]): Promise<string> {
    return await (this.client as unknown as Scripted)[name](this.#prefix, ...args);
  }

  async #beat(): Promise<void> {
    // Only a node Redis knew can be forgotten.
    const known = this.#known;
    const raw = await this.#run("spBeat", this.nodeId, String(this.#nodeTimeout));
    const { existed, orphans } = JSON.parse(raw) as { existed: boolean; orphans: Orphan[] };
    this.#known = true;
    this.#report(orphans);
    if (!existed && known && !this.#closed) this.#emit({ type: "lost" });
  }

  #report(orphans: Orphan[]): void {
    for (const { pairCode, member: m } of orphans) {
      this.#emit({ type: "orphaned", pairCode, member: member(m) });
    }
  }

  #emit(event: RegistryEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  async join(pairCode: string, me: PairMember): Promise<JoinResult> {
    await this.ready;
    const stored: StoredMember = { ...me, node: this.nodeId };
    const result = JSON.parse(await this.#run("spJoin", pairCode, JSON.stringify(stored)));
    switch (result.status) {
      case "paired":
        return { status: "paired", partner: member(result.partner) };
      case "replaced":
        return {
          status: "replaced",
          replaced: member(result.replaced),
          partner: result.partner ? member(result.partner) : null,
        };
      default:
        return { status: result.status };
    }
  }

  async leave(pairCode: string, socketId: string): Promise<PairMember | null> {
    await this.ready;
    const raw = await this.#run("spLeave", pairCode, socketId);
    return raw === "" ? null : member(JSON.parse(raw));
  }

  async clear(pairCode: string): Promise<PairMember[]> {
    await this.ready;
    return (JSON.parse(await this.#run("spClear", pairCode)) as StoredMember[]).map(member);
  }

  async members(pairCode: string): Promise<PairMember[]> {
    await this.ready;
    return (JSON.parse(await this.#run("spMembers", pairCode)) as StoredMember[]).map(member);
  }

  /** Counts of the whole cluster. Rejects at once while Redis is unreachable. */
  async stats(): Promise<RegistryStats> {
    if (this.client.status !== "ready") throw new Error(`Redis is ${this.client.status}`);
    const { waiting, paired, orphans } = JSON.parse(await this.#run("spStats")) as RegistryStats & {
      orphans: Orphan[];
    };
    this.#report(orphans);
    return { waiting, paired };
  }

  watch(listener: (event: RegistryEvent) => void): void {
    this.#listeners.add(listener);
  }

  /** Rejects at once while Redis is unreachable, else when it does not answer in 2 s. */
  async ping(): Promise<void> {
    if (this.client.status !== "ready") throw new Error(`Redis is ${this.client.status}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.client.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("Redis did not answer PING in 2 s")), 2000);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops the heartbeat. With `retire` (the default) this node's members are
   * removed at once and the partners they leave on other nodes are reported
   * as `orphaned`; without it they lapse after `nodeTimeout`, as when a node
   * is killed. Closes the client when the registry made it. Idempotent.
   */
  async close(options: { retire?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.client.off("ready", this.#onReady);
    try {
      if ((options.retire ?? true) && this.client.status === "ready") {
        this.#report(JSON.parse(await this.#run("spRetire", this.nodeId)));
      }
    } finally {
      this.#listeners.clear();
      if (this.#ownsClient) {
        if (this.client.status === "ready") await this.client.quit().catch(() => {});
        this.client.disconnect();
      }
    }
  }
}
