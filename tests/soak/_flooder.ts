/**
 * A flooder in a process of its own, so that its work does not slow the
 * clients whose latency is measured: `deno run -A tests/soak/_flooder.ts
 * <port> <frames a second> <ms>` floods for `ms`, then prints
 * `FLOOD <json report>`.
 *
 * @module
 */
import { startFlood } from "../_faults.ts";
import { sleep } from "../_fixtures.ts";

if (import.meta.main) {
  const [port, perSecond, ms] = Deno.args.map(Number);
  const flood = startFlood(port, perSecond);
  await sleep(ms);
  console.log(`FLOOD ${JSON.stringify(await flood.stop())}`);
}
