/**
 * The control channel of a benchmark process: it announces itself with one JSON line on stdout,
 * answers commands read line by line from stdin with one JSON line each, and exits when stdin
 * closes (so a crashed orchestrator never leaves it running).
 *
 * Commands every process understands: `mem` (memory after a full GC when `--expose-gc` is on).
 *
 * @module
 */

/** Writes one JSON line to stdout. */
export function emit(line: Record<string, unknown>): void {
  Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(line) + "\n"));
}

/** Memory of this process, after a full GC when the process runs with `--expose-gc`. */
export function memory(): Record<string, number> {
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed, heapTotal, external } = Deno.memoryUsage();
  return { rss, heapUsed, heapTotal, external };
}

/**
 * Answers commands until stdin closes, then runs `shutdown` and exits.
 *
 * @param commands Handlers by command word; each gets the rest of the line and returns the
 * answer's fields.
 * @param shutdown Cleanup before exiting.
 */
export async function serveControl(
  commands: Record<
    string,
    (arg: string) => Record<string, unknown> | Promise<Record<string, unknown>>
  >,
  shutdown: () => Promise<void> | void = () => {},
): Promise<never> {
  type Handler = (arg: string) => Record<string, unknown> | Promise<Record<string, unknown>>;
  const all: Record<string, Handler> = { mem: () => memory(), ...commands };
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let buffered = "";
  for await (const chunk of lines) {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (!line) continue;
      const [word, ...rest] = line.split(" ");
      const handler = all[word];
      try {
        const answer = handler ? await handler(rest.join(" ")) : { error: `unknown ${word}` };
        emit({ event: word, ...answer });
      } catch (err) {
        emit({ event: word, error: String(err) });
      }
    }
  }
  await shutdown();
  Deno.exit(0);
}
