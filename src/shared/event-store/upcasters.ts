import type { StoredEvent, Upcaster } from './event-store.port.js';

/**
 * Upcasters of one store: (type, fromSchemaVersion) → the next version's shape. Applied in a
 * chain on every read path (readStream, readAll, subscribe), so code only ever sees the newest
 * shape while stored events stay as they were written.
 */
export class Upcasters {
  private readonly byKey = new Map<string, Upcaster>();
  private readonly types = new Set<string>();

  register(type: string, fromSchemaVersion: number, upcast: Upcaster): void {
    const key = `${type}@${fromSchemaVersion}`;
    if (this.byKey.has(key)) throw new Error(`An upcaster for ${type} v${fromSchemaVersion} is already registered`);
    this.byKey.set(key, upcast);
    this.types.add(type);
  }

  apply<T extends StoredEvent>(event: T): T {
    if (!this.types.has(event.type)) return event;
    let current = event;
    for (;;) {
      const up = this.byKey.get(`${current.type}@${current.schemaVersion}`);
      if (!up) return current;
      const { data, ...rest } = current;
      current = { ...rest, data: up(data, rest), schemaVersion: current.schemaVersion + 1 } as T;
    }
  }

  applyAll<T extends StoredEvent>(events: T[]): T[] {
    if (this.types.size === 0) return events;
    for (let i = 0; i < events.length; i++) events[i] = this.apply(events[i]);
    return events;
  }
}
