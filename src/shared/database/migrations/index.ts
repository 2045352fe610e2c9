import type { MigrationInterface } from 'typeorm';
import { Foundation1764000000000 } from './1764000000000-foundation.js';
import { Privacy1764000300000 } from './1764000300000-privacy.js';
import { EventStore1764000410000 } from './1764000410000-event-store.js';
import { Projections1764000520000 } from './1764000520000-projections.js';
import { EventStoreJsonBatch1764000531000 } from './1764000531000-event-store-json-batch.js';
import { EventStorePlans1764000600000 } from './1764000600000-event-store-plans.js';
import { EventStoreInlineAppend1764000610000 } from './1764000610000-event-store-inline-append.js';
import { InlineTargets1764000620000 } from './1764000620000-inline-targets.js';
import { GenericPlans1764000630000 } from './1764000630000-generic-plans.js';
import { IdempotencyClaim1764000640000 } from './1764000640000-idempotency-claim.js';
import { RefusingGuards1764000650000 } from './1764000650000-refusing-guards.js';
import { CheckedCheckpoint1764000660000 } from './1764000660000-checked-checkpoint.js';
import { InlineCheck1764000670000 } from './1764000670000-inline-check.js';
import { IdempotencyAnswerRef1764000680000 } from './1764000680000-idempotency-answer-ref.js';
import { EventChunks1764000690000 } from './1764000690000-event-chunks.js';

/** Every migration, in order. Append new ones at the end; never edit one that has shipped. */
export const migrations: (new () => MigrationInterface)[] = [Foundation1764000000000, Privacy1764000300000, EventStore1764000410000, Projections1764000520000, EventStoreJsonBatch1764000531000, EventStorePlans1764000600000, EventStoreInlineAppend1764000610000, InlineTargets1764000620000, GenericPlans1764000630000, IdempotencyClaim1764000640000, RefusingGuards1764000650000, CheckedCheckpoint1764000660000, InlineCheck1764000670000, IdempotencyAnswerRef1764000680000, EventChunks1764000690000];
