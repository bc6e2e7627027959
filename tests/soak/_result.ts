/**
 * What each soak scenario reports: one line `SOAK_RESULT <json>` on stdout,
 * which `main.ts` collects into the table.
 *
 * @module
 */

/** One row of the soak table. */
export interface SoakResult {
  scenario: string;
  /** Whether every check of the scenario held. */
  ok: boolean;
  /** Inputs tried or packets fuzzed, with what they count. */
  inputs?: { count: number; what: string };
  /** Numbered messages, both ways summed. */
  messages?: { sent: number; lost: number; duplicated: number; reordered: number };
  /** The server process's resident memory, in bytes. */
  rss?: { before: number; after: number; peak?: number };
  /** Relay round trips, quiet and under a flood. */
  latency?: { quiet: { p50: number; p99: number }; flood: { p50: number; p99: number } };
  /** Anything else worth a glance. */
  notes: string;
  /** What failed, when `ok` is false. */
  failures: string[];
  ms: number;
}

/** Prints the result lines and exits 0 when every one is ok, else 1. */
export function report(...results: SoakResult[]): never {
  for (const result of results) console.log(`SOAK_RESULT ${JSON.stringify(result)}`);
  Deno.exit(results.every((r) => r.ok) ? 0 : 1);
}

/** Collects failed checks instead of throwing, so that a scenario reports every figure. */
export class Checks {
  readonly failures: string[] = [];

  /** Records `what` as failed unless `ok`. */
  expect(ok: boolean, what: string): void {
    if (!ok) this.failures.push(what);
  }

  get ok(): boolean {
    return this.failures.length === 0;
  }
}

/** An integer from the environment, or a default. */
export function envInt(name: string, fallback: number): number {
  const value = Deno.env.get(name);
  return value ? Number(value) : fallback;
}
