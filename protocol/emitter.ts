// Browser-safe: no Deno or Node APIs.
/**
 * A small typed event emitter with the Node-style `on`/`once`/`off`/`emit`
 * surface SocketPeer 1.x exposed, shared by the client and the server.
 *
 * @example
 * ```ts
 * import { Emitter } from "./emitter.ts";
 * class Clock extends Emitter<{ tick: [n: number] }> {}
 * const clock = new Clock();
 * clock.on("tick", (n) => console.log(n));
 * clock.emit("tick", 1);
 * ```
 *
 * @module
 */

/** A map from event name to the tuple of its listener's arguments. */
// deno-lint-ignore no-explicit-any
export type EventMap = { [event: string]: any[] };

type Listener<A extends unknown[]> = (...args: A) => void;
// deno-lint-ignore no-explicit-any
type AnyListener = (...args: any[]) => void;

/** The typed emitter. Listener errors propagate to the caller of `emit`. */
export class Emitter<Events extends EventMap> {
  #listeners = new Map<keyof Events, AnyListener[]>();

  /**
   * Adds a listener.
   *
   * @param event The event name.
   * @param listener Called with the event's arguments.
   * @returns This emitter, for chaining.
   */
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener as AnyListener);
    this.#listeners.set(event, list);
    return this;
  }

  /** Alias of {@linkcode Emitter.on}, as in Node. */
  addListener<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this {
    return this.on(event, listener);
  }

  /**
   * Adds a listener called at most once.
   *
   * @param event The event name.
   * @param listener Called with the event's arguments, then removed.
   * @returns This emitter, for chaining.
   */
  once<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this {
    const wrapper = ((...args: Events[E]) => {
      this.off(event, wrapper);
      listener(...args);
    }) as Listener<Events[E]> & { original?: unknown };
    wrapper.original = listener;
    return this.on(event, wrapper);
  }

  /**
   * Removes one listener, or every listener of the event when none is given
   * (as 1.x's `off(event)` did).
   *
   * @param event The event name.
   * @param listener The listener to remove.
   * @returns This emitter, for chaining.
   */
  off<E extends keyof Events>(event: E, listener?: Listener<Events[E]>): this {
    if (!listener) {
      this.#listeners.delete(event);
      return this;
    }
    const list = this.#listeners.get(event);
    if (!list) return this;
    const index = list.findIndex((l) =>
      l === listener || (l as { original?: unknown }).original === listener
    );
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.#listeners.delete(event);
    return this;
  }

  /** Alias of {@linkcode Emitter.off}, as in Node. */
  removeListener<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this {
    return this.off(event, listener);
  }

  /**
   * Removes every listener, or every listener of one event.
   *
   * @param event The event name; all events when omitted.
   * @returns This emitter, for chaining.
   */
  removeAllListeners(event?: keyof Events): this {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  /**
   * How many listeners an event has.
   *
   * @param event The event name.
   * @returns The count.
   */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /**
   * Calls every listener of an event, in the order they were added.
   *
   * @param event The event name.
   * @param args The arguments.
   * @returns True when the event had listeners.
   */
  emit<E extends keyof Events>(event: E, ...args: Events[E]): boolean {
    const list = this.#listeners.get(event);
    if (!list) return false;
    for (const listener of [...list]) (listener as Listener<Events[E]>)(...args);
    return true;
  }
}
