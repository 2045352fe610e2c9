import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ReplayRef } from './idempotency.store.js';

/** Gives an answer again from its reference: sets the headers it derives and returns the body. */
export type Replayer = (ref: ReplayRef, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * The replayers of answers recorded by reference (IdempotencyStore.answeredClaimStatement), by
 * name; a feature registers its own when its module starts. One instance for the app.
 */
export class IdempotencyReplays {
  private readonly replayers = new Map<string, Replayer>();

  register(name: string, replayer: Replayer): void {
    const known = this.replayers.get(name);
    if (known && known !== replayer) throw new Error(`Two idempotency replayers are named "${name}"`);
    this.replayers.set(name, replayer);
  }

  replay(ref: ReplayRef, req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const replayer = this.replayers.get(ref.replayer);
    if (!replayer) throw new Error(`No idempotency replayer "${ref.replayer}" is registered`);
    return replayer(ref, req, reply);
  }
}
