import { AssertionError, deepStrictEqual } from 'node:assert';
import { type Decider, fold } from '../domain/decider.js';
import { DomainError, type DomainErrorKind } from '../domain/domain-error.js';

/**
 * given/when/then for deciders (after Emmett's DeciderSpecification):
 *
 *   const spec = deciderSpec(caseDecider);
 *   spec.given([registered]).when(closeCase).then([closed]);
 *   spec.given([registered, closed]).when(closeCase).thenThrows('conflict', 'case-already-closed');
 *
 * `then` also folds the produced events, so an event that `decide` emits but `evolve` cannot
 * apply fails the spec. Uses node:assert rather than Jest's `expect` so that this file carries
 * no test-runner dependency into the build; Jest shows the assertion's diff all the same.
 */
export function deciderSpec<Command, Event, State>(decider: Decider<Command, Event, State>) {
  return {
    given(events: readonly Event[]) {
      return {
        when(command: Command) {
          const run = (): { produced: Event[]; state: State } => {
            const state = fold(decider, events);
            return { produced: decider.decide(command, state), state };
          };
          return {
            /** The command produces exactly these events (an empty array: nothing to record). */
            then(expected: Event[]): Event[] {
              const { produced, state } = run();
              deepStrictEqual(produced, expected);
              fold(decider, produced, state);
              return produced;
            },
            /** The command is rejected with this kind (and slug); returns the error for further checks. */
            thenThrows(kind: DomainErrorKind, slug?: string): DomainError {
              let produced: Event[];
              try {
                produced = run().produced;
              } catch (error) {
                if (!(error instanceof DomainError)) throw error;
                if (error.kind !== kind || (slug !== undefined && error.slug !== slug)) {
                  throw new AssertionError({
                    message: `expected ${kind}${slug ? ` ${slug}` : ''}, got ${error.kind} ${error.slug}: ${error.message} ${JSON.stringify(error.errors)}`,
                    actual: { kind: error.kind, slug: error.slug },
                    expected: { kind, slug },
                  });
                }
                return error;
              }
              throw new AssertionError({ message: `expected ${kind}${slug ? ` ${slug}` : ''}, but the command produced ${JSON.stringify(produced)}` });
            },
          };
        },
      };
    },
  };
}

/** The field paths of a validation error, sorted, for compact assertions. */
export function fieldPaths(error: DomainError): string[] {
  return error.errors.map((e) => e.path).sort();
}
