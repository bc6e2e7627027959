/**
 * The server's counters in the Prometheus text exposition format (0.0.4),
 * served at `<path>metrics`.
 *
 * Counts of sockets, relayed frames, busy answers and refusals are this
 * process's; pair counts come from the registry, so in cluster mode they are
 * the whole cluster's (scrape one node for them, or take `max`).
 *
 * Upgrades: the server relays the WebRTC signals but does not see whether a
 * DataChannel opened, so it counts signals by type (`offer` is one upgrade
 * attempt); success and failure are known only to the clients.
 *
 * @example
 * ```ts
 * const text = formatMetrics({ sockets: 2, pairs: { waiting: 0, paired: 1 }, counters });
 * ```
 *
 * @module
 */
import type { RegistryStats } from "./registry.ts";
import type { RelayCounters } from "./stats.ts";

/** What the metrics are made of. */
export interface MetricsSource {
  /** Sockets connected to this process. */
  sockets: number;
  /** Pair codes by state; undefined when the registry cannot be reached. */
  pairs?: RegistryStats;
  counters: RelayCounters;
  /** In cluster mode, whether Redis is reachable; undefined otherwise. */
  redisUp?: boolean;
}

/** Escapes a label value (backslash, double quote, newline). */
function label(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/**
 * Renders the metrics.
 *
 * @param source The counts.
 * @returns The exposition text, ending with a newline.
 */
export function formatMetrics(source: MetricsSource): string {
  const lines: string[] = [];
  const metric = (
    name: string,
    type: "gauge" | "counter",
    help: string,
    samples: [labels: string, value: number][],
  ) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const { counters: c } = source;
  metric("socketpeer_sockets", "gauge", "Sockets connected to this process.", [
    ["", source.sockets],
  ]);
  if (source.pairs) {
    metric(
      "socketpeer_pairs",
      "gauge",
      "Pair codes by state (the whole cluster in cluster mode).",
      [['{state="waiting"}', source.pairs.waiting], ['{state="paired"}', source.pairs.paired]],
    );
  }
  metric(
    "socketpeer_relay_frames_total",
    "counter",
    "Frames relayed (data chunks and acknowledgements).",
    [["", c.framesRelayed]],
  );
  metric("socketpeer_relay_bytes_total", "counter", "Bytes of frames relayed.", [
    ["", c.bytesRelayed],
  ]);
  metric(
    "socketpeer_signals_total",
    "counter",
    "WebRTC signals relayed, by type; each offer is an upgrade attempt.",
    [...c.signalsByType].map(([type, n]) => [`{type="${label(type)}"}`, n]),
  );
  metric(
    "socketpeer_upgrades_total",
    "counter",
    "Upgrades to a direct DataChannel by outcome, as the initiating peers report them.",
    [[`{outcome="succeeded"}`, c.upgrades.succeeded], [`{outcome="failed"}`, c.upgrades.failed]],
  );
  metric("socketpeer_busy_total", "counter", "Peers told that their pair code is taken.", [
    ["", c.busy],
  ]);
  metric(
    "socketpeer_refusals_total",
    "counter",
    "Requests refused with an error code, by code.",
    [...c.refusedByCode].map(([code, n]) => [`{code="${label(code)}"}`, n]),
  );
  if (source.redisUp !== undefined) {
    metric("socketpeer_redis_up", "gauge", "Whether Redis is reachable (cluster mode).", [
      ["", source.redisUp ? 1 : 0],
    ]);
  }
  return lines.join("\n") + "\n";
}
