// TensorRT's log messages in JavaScript, through the real process-wide ILogger and the real
// non-blocking bridge: the test hook logs from a native thread of its own, tagged with an execution
// context's log target, exactly as TensorRT does from its threads (no TensorRT library needed).
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import { packageRoot } from '../../lib/addon/loader.js';
import {
  registerContextLogger,
  setTensorRTDebugForTest,
  setTensorRTLogger,
  unregisterContextLogger,
  type TensorRTLogMessage,
} from '../../lib/tensorrt/log.js';
import { expectErrorSync } from '../helpers/expect-error.js';
import { addon, slowdown } from '../helpers/machine.js';

const log = (severity: 'internal-error' | 'error' | 'warning' | 'info' | 'verbose', message: string, target = 0) =>
  addon!.tensorrtLogForTest!(severity, message, target);

async function eventually(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

// Messages arrive asynchronously: a marker logged last and seen proves everything before it arrived too.
async function settle(received: TensorRTLogMessage[]): Promise<void> {
  log('error', 'marker');
  await eventually(() => received.some((message) => message.message === 'marker'));
  received.splice(
    received.findIndex((message) => message.message === 'marker'),
    1,
  );
}

describe.skipIf(!addon?.tensorrtLogForTest)('TensorRT log messages', () => {
  afterEach(() => {
    setTensorRTLogger(null);
    setTensorRTDebugForTest(false);
    unregisterContextLogger(4242);
  });

  it('a message logged on a TensorRT thread reaches the process-wide logger on the event loop', async () => {
    const received: TensorRTLogMessage[] = [];
    setTensorRTLogger((message) => received.push(message));
    log('warning', 'Using an engine plan file across different models of devices is not recommended');
    expect(received).toEqual([]); // never synchronously on the logging thread
    await settle(received);
    expect(received).toEqual([
      {
        severity: 'warning',
        message: 'Using an engine plan file across different models of devices is not recommended',
        context: null,
      },
    ]);
  });

  it('the severity filter: warning and worse by default, everything with "verbose"', async () => {
    const received: TensorRTLogMessage[] = [];
    setTensorRTLogger((message) => received.push(message));
    log('info', 'chatter');
    log('verbose', 'more chatter');
    log('internal-error', 'broken');
    await settle(received);
    expect(received.map((message) => message.severity)).toEqual(['internal-error']);

    setTensorRTLogger((message) => received.push(message), { severity: 'verbose' });
    log('verbose', 'now shown');
    await settle(received);
    expect(received.at(-1)).toEqual({ severity: 'verbose', message: 'now shown', context: null });
  });

  it("messages logged while a context works go to that context's logger; others to the process-wide one", async () => {
    const global: TensorRTLogMessage[] = [];
    const own: TensorRTLogMessage[] = [];
    setTensorRTLogger((message) => global.push(message));
    registerContextLogger(4242, (message) => own.push(message), 'info');
    log('info', 'for the context', 4242);
    log('warning', 'for another context without a logger', 7);
    log('warning', 'for nobody in particular');
    await settle(global);
    expect(own).toEqual([{ severity: 'info', message: 'for the context', context: 4242 }]);
    expect(global).toEqual([
      { severity: 'warning', message: 'for another context without a logger', context: 7 },
      { severity: 'warning', message: 'for nobody in particular', context: null },
    ]);
    unregisterContextLogger(4242);
    log('warning', 'after the context went', 4242);
    await settle(global);
    expect(global.at(-1)).toEqual({ severity: 'warning', message: 'after the context went', context: 4242 });
    expect(own).toHaveLength(1);
  });

  it('NODE_DEBUG=tensorrt-node output shows info and worse, whether or not a logger is set', async () => {
    const lines: string[] = [];
    const received: TensorRTLogMessage[] = [];
    setTensorRTDebugForTest(true, (line) => lines.push(line));
    setTensorRTLogger((message) => received.push(message), { severity: 'error' });
    log('info', 'tactic chosen', 12);
    log('verbose', 'too chatty for debug output');
    await settle(received);
    expect(lines).toContain('[info] (context 12) tactic chosen');
    expect(lines.some((line) => line.includes('too chatty'))).toBe(false);
  });

  it('a logger that throws is reported as a process warning, and delivery goes on', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const received: TensorRTLogMessage[] = [];
      setTensorRTLogger((message) => {
        if (message.message === 'boom') throw new Error('logger bug');
        received.push(message);
      });
      log('error', 'boom');
      log('error', 'still delivered');
      await settle(received);
      await eventually(() => warnings.includes('A TensorRT logger threw: logger bug'));
      expect(received.map((message) => message.message)).toEqual(['still delivered']);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('an installed logger never keeps the process alive', () => {
    const script = `
      import(${JSON.stringify(`${packageRoot}/lib/tensorrt/log.ts`)}).then(({ setTensorRTLogger }) => {
        setTensorRTLogger(() => {}, { severity: 'verbose' });
        console.log('installed');
      });`;
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000 * slowdown,
      env: { ...process.env, TENSORRT_NODE_ADDON: `${packageRoot}/build/Release/tensorrt_node.node` },
    });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('installed');
    expect(child.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000 * slowdown);
  });

  it('BAD CALL - a logger that is not a function, an unknown severity, an unknown option', () => {
    expectErrorSync(
      () => setTensorRTLogger('console' as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a function for logger but received "console" of type string',
    );
    expectErrorSync(
      () => setTensorRTLogger(() => {}, { severity: 'debug' as never }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "internal-error", "error", "warning", "info", "verbose" for options.severity but received "debug" of type string',
    );
    expectErrorSync(
      () => setTensorRTLogger(() => {}, { level: 'info' } as never),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "level" in options; known options: severity',
    );
  });

  it('BAD CALL - native re-checks of the sink arguments', () => {
    expectErrorSync(
      () => addon!.setTensorRTLogSink!(42 as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a function or null for the log sink',
    );
    expectErrorSync(
      () => addon!.setTensorRTLogSeverity!('loud' as never),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "internal-error", "error", "warning", "info", "verbose" for severity but received "loud"',
    );
  });
});
