/**
 * TensorRT's log messages in JavaScript. TensorRT logs from its own threads through one
 * process-wide ILogger (native/trt/logger.h); the addon forwards what passes a severity filter
 * through a non-blocking thread-safe function (native/napi/trt_logger.cc), so TensorRT never waits
 * for the event loop, and here each message goes to:
 *   - the `logger` of the execution context it was logged for (createContext({ logger })), when
 *     TensorRT logged it while working for that context;
 *   - otherwise the process-wide logger (setTensorRTLogger());
 *   - and, with NODE_DEBUG=tensorrt-node, to debug output (messages at 'info' and worse).
 * Nothing is installed until something wants messages, and logging never keeps the process alive.
 */
import { debuglog } from 'node:util';
import { tryLoadAddon } from '../addon/loader.js';
import { type NativeAddon, type NativeLogSeverity } from '../addon/types.js';
import { expectFunction, expectOneOf, expectOptions, rejectUnknownOptions } from '../core/validate.js';

/** Most severe first, as TensorRT orders them. */
export const logSeverities = ['internal-error', 'error', 'warning', 'info', 'verbose'] as const;
/** One of TensorRT's log severities ({@link logSeverities}). */
export type LogSeverity = (typeof logSeverities)[number];

/** One message TensorRT logged. */
export interface TensorRTLogMessage {
  severity: LogSeverity;
  message: string;
  /** The `logTarget` of the execution context TensorRT was working for, or null. */
  context: number | null;
}

/**
 * Receives TensorRT's messages. It runs on the event loop; TensorRT's threads never wait for it (when
 * it falls behind, messages are dropped and the next one says how many).
 */
export type TensorRTLogger = (message: TensorRTLogMessage) => void;

/** Options of {@link setTensorRTLogger}. */
export interface TensorRTLoggerOptions {
  /** The most verbose severity delivered (default 'warning'). */
  severity?: LogSeverity;
}

interface Subscription {
  log: TensorRTLogger;
  severity: LogSeverity;
}

const rank = (severity: LogSeverity): number => logSeverities.indexOf(severity);
const debugSeverity: LogSeverity = 'info';

const nodeDebug = debuglog('tensorrt-node');
let debugEnabled = nodeDebug.enabled;
let writeDebug: (line: string) => void = (line) => nodeDebug(line);

let processLogger: Subscription | null = null;
const contextLoggers = new Map<number, Subscription>();
let installedThreshold: LogSeverity | null = null;

function logAddon(): NativeAddon | null {
  const loaded = tryLoadAddon();
  if (!('addon' in loaded) || !loaded.addon.setTensorRTLogSink) return null;
  return loaded.addon;
}

function deliver(subscription: Subscription, message: TensorRTLogMessage): void {
  try {
    subscription.log(message);
  } catch (error) {
    // A throwing logger must not take TensorRT's message delivery (or the process) down with it.
    process.emitWarning(`A TensorRT logger threw: ${error instanceof Error ? error.message : String(error)}`, {
      code: 'TENSORRT_NODE_LOGGER',
    });
  }
}

/** Routes one message (exported for tests of the routing rules). */
export function dispatchTensorRTLog(severity: NativeLogSeverity, text: string, target: number, droppedBefore = 0): void {
  if (droppedBefore > 0)
    dispatchTensorRTLog(
      'warning',
      `tensorrt-node: ${droppedBefore} TensorRT log message${droppedBefore === 1 ? ' was' : 's were'} dropped because JavaScript did not keep up`,
      0,
    );
  const message: TensorRTLogMessage = { severity, message: text, context: target > 0 ? target : null };
  const owner = target > 0 ? contextLoggers.get(target) : undefined;
  const subscription = owner ?? processLogger;
  if (subscription && rank(severity) <= rank(subscription.severity)) deliver(subscription, message);
  if (debugEnabled && rank(severity) <= rank(debugSeverity))
    writeDebug(`[${severity}]${message.context === null ? '' : ` (context ${message.context})`} ${text}`);
}

/** The most verbose severity anyone wants right now, or null when nobody listens. */
function wantedThreshold(): LogSeverity | null {
  let threshold: LogSeverity | null = debugEnabled ? debugSeverity : null;
  const wants = (severity: LogSeverity) => {
    if (threshold === null || rank(severity) > rank(threshold)) threshold = severity;
  };
  if (processLogger) wants(processLogger.severity);
  for (const subscription of contextLoggers.values()) wants(subscription.severity);
  return threshold;
}

/** Installs, retunes or removes the native sink to match the subscriptions. Never throws. */
export function syncTensorRTLogSink(): void {
  const addon = logAddon();
  if (!addon) return;
  const threshold = wantedThreshold();
  if (threshold === installedThreshold) return;
  if (threshold === null) addon.setTensorRTLogSink!(null);
  else if (installedThreshold === null) addon.setTensorRTLogSink!(dispatchTensorRTLog, threshold);
  else addon.setTensorRTLogSeverity!(threshold);
  installedThreshold = threshold;
}

/**
 * Sets the process-wide TensorRT logger (null removes it). It receives every message at
 * `options.severity` or worse that no execution context's own logger claimed. Messages arrive
 * asynchronously, on the event loop; TensorRT never waits for them.
 */
export function setTensorRTLogger(logger: TensorRTLogger | null, options?: TensorRTLoggerOptions): void {
  const checked = expectOptions<TensorRTLoggerOptions>(options);
  rejectUnknownOptions(checked, ['severity']);
  const severity = checked.severity === undefined ? 'warning' : expectOneOf(checked.severity, 'options.severity', logSeverities);
  processLogger = logger === null ? null : { log: expectFunction<TensorRTLogger>(logger, 'logger'), severity };
  syncTensorRTLogSink();
}

/** @internal An execution context's own logger, keyed by its native log target. */
export function registerContextLogger(target: number, log: TensorRTLogger, severity: LogSeverity): void {
  contextLoggers.set(target, { log, severity });
  syncTensorRTLogSink();
}

/** @internal */
export function unregisterContextLogger(target: number): void {
  if (contextLoggers.delete(target)) syncTensorRTLogSink();
}

/** @internal For tests: debug output on or off as NODE_DEBUG would set it. */
export function setTensorRTDebugForTest(enabled: boolean, write?: (line: string) => void): void {
  debugEnabled = enabled;
  writeDebug = write ?? ((line) => nodeDebug(line));
  syncTensorRTLogSink();
}
