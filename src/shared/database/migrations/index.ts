import type { MigrationInterface } from 'typeorm';
import { Foundation1764000000000 } from './1764000000000-foundation.js';

/** Every migration, in order. Append new ones at the end; never edit one that has shipped. */
export const migrations: (new () => MigrationInterface)[] = [Foundation1764000000000];
