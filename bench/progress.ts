/**
 * Progress on screen: which case runs and how far along the run is. On a terminal the
 * current step rewrites its line; elsewhere (CI logs) each step is one line.
 *
 * @module
 */

const encoder = new TextEncoder();
const tty = Deno.stdout.isTerminal();
let open = false;
const started = performance.now();

function clock(): string {
  const s = Math.round((performance.now() - started) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/** Starts a section (a suite of cases). */
export function section(title: string): void {
  done();
  console.log(`\n== ${title}`);
}

/** Shows the step that runs now; on a terminal the next step or result replaces it. */
export function step(text: string): void {
  const line = `[${clock()}] ${text}`;
  if (tty) {
    Deno.stdout.writeSync(encoder.encode(`\r\x1b[2K${line}`));
    open = true;
  } else {
    console.log(line);
  }
}

/** Prints a result line that stays. */
export function result(text: string): void {
  done();
  console.log(`[${clock()}]   ${text}`);
}

/** Prints a warning line that stays. */
export function warn(text: string): void {
  done();
  console.log(`[${clock()}] ! ${text}`);
}

function done(): void {
  if (open) Deno.stdout.writeSync(encoder.encode("\r\x1b[2K"));
  open = false;
}
