/**
 * Child processes of the benchmark: servers under test and load generators. Each speaks JSON
 * lines on stdout, takes commands on stdin, and exits when stdin closes. The orchestrator reads
 * what the kernel says of each (`/proc/<pid>/stat` and `status`): CPU seconds and RSS.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);

/** Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`; 100 on Linux). */
const CLOCK_TICKS = 100;

/** Lines of a child's stderr shown on screen; the rest is only kept for errors. */
const STDERR_LINES = 40;

/** One JSON line of a child. */
export type Line = Record<string, unknown> & { event: string };

/** Options of {@linkcode Child.spawn}. */
export interface SpawnOptions {
  /** Name used in progress and in errors. */
  name: string;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Forward the child's stderr to ours (prefixed with its name). @default {true} */
  stderr?: boolean;
}

/** A running child process. */
export class Child {
  readonly name: string;
  readonly pid: number;
  #process: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #queue: Line[] = [];
  #waiters: { match: (line: Line) => boolean; resolve: (line: Line) => void }[] = [];
  #ended = false;
  #endedWaiters: (() => void)[] = [];
  /** Called for every line, before anyone waiting for it; returning true consumes it. */
  onLine: ((line: Line) => boolean | void) | null = null;
  readonly status: Promise<Deno.CommandStatus>;
  #stderrTail: string[] = [];
  #stderrLines = 0;

  private constructor(name: string, process: Deno.ChildProcess, forwardStderr: boolean) {
    this.name = name;
    this.#process = process;
    this.pid = process.pid;
    this.#stdin = process.stdin.getWriter();
    this.status = process.status;
    this.#read();
    this.#readStderr(forwardStderr);
  }

  /**
   * Starts `command args…` from the repository root.
   *
   * @param command The executable (`Deno.execPath()`, `node`).
   * @param args Its arguments.
   * @param options Name, environment, stderr.
   * @returns The child.
   */
  static spawn(command: string, args: string[], options: SpawnOptions): Child {
    const process = new Deno.Command(command, {
      args,
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...options.env },
    }).spawn();
    return new Child(options.name, process, options.stderr ?? true);
  }

  /**
   * Starts a Deno script of the repository with every permission.
   *
   * @param script Path from the repository root.
   * @param config Passed as one JSON argument.
   * @param options Name, environment, stderr; `v8Flags` for V8.
   * @returns The child.
   */
  static deno(
    script: string,
    config: unknown,
    options: SpawnOptions & { v8Flags?: string[] },
  ): Child {
    const v8 = options.v8Flags?.length ? [`--v8-flags=${options.v8Flags.join(",")}`] : [];
    // BENCH_CPU_PROF=<folder>: every Deno process writes a V8 CPU profile there on exit.
    const profileDir = Deno.env.get("BENCH_CPU_PROF");
    const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
    return Child.spawn(
      Deno.execPath(),
      ["run", "-A", "--quiet", ...v8, ...profile, script, JSON.stringify(config ?? {})],
      options,
    );
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      for await (const chunk of this.#process.stdout) {
        buffered += decoder.decode(chunk, { stream: true });
        let newline;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const text = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!text) continue;
          let line: Line;
          try {
            line = JSON.parse(text);
          } catch {
            console.error(`[${this.name}] ${text}`);
            continue;
          }
          this.#deliver(line);
        }
      }
    } finally {
      this.#ended = true;
      for (const waiter of this.#endedWaiters.splice(0)) waiter();
    }
  }

  async #readStderr(forward: boolean): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of this.#process.stderr) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const text = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        this.#stderrTail.push(text);
        if (this.#stderrTail.length > 20) this.#stderrTail.shift();
        if (forward && text.trim()) {
          // A child that repeats an error every message must not flood the screen.
          if (++this.#stderrLines <= STDERR_LINES) console.error(`[${this.name}] ${text}`);
          else if (this.#stderrLines === STDERR_LINES + 1) {
            console.error(`[${this.name}] … (further stderr not shown)`);
          }
        }
      }
    }
  }

  #deliver(line: Line): void {
    if (this.onLine?.(line) === true) return;
    const index = this.#waiters.findIndex((w) => w.match(line));
    if (index >= 0) {
      const [waiter] = this.#waiters.splice(index, 1);
      waiter.resolve(line);
    } else {
      this.#queue.push(line);
    }
  }

  /**
   * The next line with this event (or any of these events), waiting up to `ms`.
   *
   * @throws {Error} When the child exits first or the time runs out, with its last stderr.
   */
  next(event: string | string[], ms = 60_000): Promise<Line> {
    const events = Array.isArray(event) ? event : [event];
    const match = (line: Line) => events.includes(line.event) || line.event === "fatal";
    const queued = this.#queue.findIndex(match);
    const check = (line: Line) => {
      if (line.event === "fatal") {
        throw new Error(`${this.name} failed: ${line.error}`);
      }
      return line;
    };
    if (queued >= 0) return Promise.resolve(check(this.#queue.splice(queued, 1)[0]));
    return new Promise<Line>((resolve, reject) => {
      const fail = (why: string) => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        const tail = this.#stderrTail.slice(-8).join("\n  ");
        reject(
          new Error(
            `${this.name}: ${why} waiting for "${events.join('" or "')}"` +
              (tail ? `; last stderr:\n  ${tail}` : ""),
          ),
        );
      };
      const timer = setTimeout(() => fail(`no answer within ${ms} ms`), ms);
      const waiter = {
        match,
        resolve: (line: Line) => {
          clearTimeout(timer);
          try {
            resolve(check(line));
          } catch (err) {
            reject(err);
          }
        },
      };
      this.#waiters.push(waiter);
      if (this.#ended) {
        clearTimeout(timer);
        fail("exited");
      } else {
        this.#endedWaiters.push(() => {
          clearTimeout(timer);
          fail("exited");
        });
      }
    });
  }

  /** Sends one command line and returns the answer (the line whose event is the command). */
  async ask(command: string, ms = 30_000): Promise<Line> {
    await this.send(command);
    return this.next(command.split(" ")[0], ms);
  }

  /** Writes one line to the child's stdin. */
  async send(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(line + "\n"));
  }

  /** CPU seconds (user + system, all threads) the process has used so far. */
  cpuSeconds(): number {
    return cpuSecondsOf(this.pid);
  }

  /** Resident set size in bytes, from `/proc/<pid>/status`. */
  rss(): number {
    const status = Deno.readTextFileSync(`/proc/${this.pid}/status`);
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return kb * 1024;
  }

  /**
   * Closes stdin (the child cleans up and exits), and kills it by its pid if it has not exited
   * within `ms`.
   */
  async close(ms = 5_000): Promise<void> {
    await this.#stdin.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      this.status.then(() => true),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms)),
    ]);
    clearTimeout(timer);
    if (!exited) {
      try {
        this.#process.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
      await this.status;
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** CPU seconds (user + system, all threads) process `pid` has used so far. */
export function cpuSecondsOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * Follows the CPU time of processes over an interval.
 *
 * @example
 * ```ts
 * const meter = new CpuMeter([server, sender]);
 * // … run the case …
 * const { seconds, cpu } = meter.read(); // cpu[server.name] = CPU seconds used meanwhile
 * ```
 */
export class CpuMeter {
  #children: Child[];
  #start: number;
  #cpu0: number[];

  constructor(children: Child[]) {
    this.#children = children;
    this.#start = performance.now();
    this.#cpu0 = children.map((c) => c.cpuSeconds());
  }

  /** Wall seconds since the meter started, and CPU seconds of each child by name. */
  read(): { seconds: number; cpu: Record<string, number> } {
    const cpu: Record<string, number> = {};
    this.#children.forEach((c, i) => {
      cpu[c.name] = round(c.cpuSeconds() - this.#cpu0[i], 3);
    });
    return { seconds: (performance.now() - this.#start) / 1000, cpu };
  }
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
