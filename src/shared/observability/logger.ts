import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import type { AppConfig } from '../../config/config.js';

/**
 * One pino logger per app: Fastify logs each request through a child of it (bound to `reqId`),
 * and Nest's own messages go through `NestPinoLogger`, so every line on stdout is one JSON object.
 * `destination` lets a test read the lines; by default they go to stdout.
 */
export function createLogger(level: AppConfig['logLevel'], destination?: DestinationStream): Logger {
  // Synchronous like console.log: lines keep their order with the start-up banner, and none is
  // lost when the process exits right after logging (a failed start, a signal).
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination ?? pino.destination({ dest: 1, sync: true }));
}

/**
 * Nest's LoggerService on top of pino. Nest passes the context (the class name given to
 * `new Logger(...)`) as the last string argument, and for `error` a stack before it.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    // One line per module and per route at every start buries what matters; kept for LOG_LEVEL=debug.
    this.write(CHATTY.has(params[params.length - 1] as string) ? 'debug' : 'info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const rest = params.filter((p) => p !== undefined);
    const fields: Record<string, unknown> = {};
    if (rest.length > 0 && typeof rest[rest.length - 1] === 'string' && !isStack(rest[rest.length - 1])) fields.context = rest.pop();
    if (level === 'error' && isStack(rest[0])) fields.stack = rest.shift();
    let msg: string | undefined;
    if (message instanceof Error) {
      fields.err = message;
      msg = message.message;
    } else if (message !== null && typeof message === 'object') {
      // Structured call in pino's order: logger.error({ err, caseId }, 'projection failed').
      const { msg: inner, ...obj } = message as Record<string, unknown>;
      Object.assign(fields, obj);
      msg = typeof inner === 'string' ? inner : typeof rest[0] === 'string' ? (rest.shift() as string) : undefined;
    } else {
      msg = String(message);
    }
    if (rest.length > 0) fields.params = rest;
    this.logger[level](fields, msg);
  }
}

const CHATTY = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

function isStack(v: unknown): v is string {
  return typeof v === 'string' && /\n\s+at /.test(v);
}
