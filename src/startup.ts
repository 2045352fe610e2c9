import type { RunningApp } from './app.factory.js';
import type { ResolvedConfig } from './config/config.js';

/** Work done once the server listens (demo seeding, printing example requests). */
export async function onStarted(_app: RunningApp, _config: ResolvedConfig, _baseUrl: string): Promise<void> {}
