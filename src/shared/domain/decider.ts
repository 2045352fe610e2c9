/**
 * A decider is three plain values (after Emmett's `Decider`): the rules of one stream, free of
 * clock, ids and I/O. A handler loads the stream, folds it with `evolve` from `initialState`,
 * calls `decide` with a command that already carries `today`, the actor and any ids, and
 * appends what comes back. `decide` throws a `DomainError` to reject a command; an empty array
 * means "nothing to record" (an idempotent repeat).
 *
 * `evolve` must not mutate its input: the same state value may be reused by the caller.
 */
export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState: State;
}

/**
 * Who and when, as stored in the event store's `metadata` (see event-store.port.ts): a domain
 * event has the shape of a `NewEvent` and is a subset of a `StoredEvent`, so a handler appends
 * `decide(...)` output as it is and folds read events without copying them. (A type alias, not
 * an interface: only aliases are assignable to the store's index-signature `EventMetadata`.)
 */
export type DomainEventMetadata = {
  /** User id (`sub` of the token) or `system:<job>`. */
  actor: string;
  /** When it happened in the world (YYYY-MM-DD, Europe/Stockholm); may lie before recordedAt. */
  effectiveDate: string;
};

export interface DomainEvent<Type extends string = string, Data = Record<string, unknown>> {
  type: Type;
  schemaVersion: number;
  data: Data;
  metadata: DomainEventMetadata;
}

/** Every command names who sends it and what day it is; the handler reads the clock, not the decider. */
export interface CommandContext {
  actor: string;
  /** The Stockholm calendar date when the command is handled (YYYY-MM-DD). */
  today: string;
}

export function fold<Command, Event, State>(decider: Decider<Command, Event, State>, events: readonly Event[], from: State = decider.initialState): State {
  let state = from;
  for (const event of events) state = decider.evolve(state, event);
  return state;
}
