/**
 * Structured logs: one JSON object per line ({"time","level","event",...fields}), which log
 * collectors (Kubernetes, Loki, CloudWatch) index without a parser. Errors are written with their
 * name, code, message and stack: the log is where the details a client is never shown go.
 */
import { isTensorRTNodeError } from '../core/errors.js';

/** The least severe event a {@link Logger} writes. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const levels: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
export const logLevels = Object.keys(levels) as LogLevel[];

/** Where the server's events go: one call per event, with its fields (the CLI writes JSON lines). */
export interface Logger {
  /** Per-request detail (off unless the level is debug). */
  debug(event: string, fields?: Record<string, unknown>): void;
  /** Lifecycle: started, model loaded, draining, closed. */
  info(event: string, fields?: Record<string, unknown>): void;
  /** Something refused or degraded that the server survives (a hostile client, a model that failed to load). */
  warn(event: string, fields?: Record<string, unknown>): void;
  /** A failure the operator must look at. */
  error(event: string, fields?: Record<string, unknown>): void;
}

function plainError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = isTensorRTNodeError(error) ? error.code : (error as { code?: unknown }).code;
  return {
    name: error.name,
    ...(code === undefined ? {} : { code }),
    message: error.message,
    stack: error.stack,
    ...(error.cause === undefined ? {} : { cause: plainError(error.cause) }),
  };
}

/** A logger writing JSON lines to `stream` at `level` and above. */
export function createJsonLogger(stream: { write(text: string): unknown }, level: LogLevel = 'info'): Logger {
  const threshold = levels[level];
  const write =
    (severity: LogLevel) =>
    (event: string, fields: Record<string, unknown> = {}) => {
      if (levels[severity] < threshold) return;
      const record: Record<string, unknown> = { time: new Date().toISOString(), level: severity, event };
      for (const [key, value] of Object.entries(fields)) record[key] = key === 'error' ? plainError(value) : value;
      let line: string;
      try {
        line = JSON.stringify(record, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
      } catch {
        line = JSON.stringify({ time: record.time, level: severity, event, note: 'fields could not be serialized' });
      }
      stream.write(`${line}\n`);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
