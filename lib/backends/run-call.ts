/**
 * The checks every backend's run() makes before any work, in one order, so that a bad call reads the
 * same whichever backend runs the model: options, requested outputs, feeds, an already aborted signal.
 */
import { abortError } from '../core/abort.js';
import { ArgumentTypeError } from '../core/errors.js';
import { validateFeeds, validateOutputNames } from '../core/feeds.js';
import type { TensorInfo, TensorMap } from '../core/tensors.js';
import { describeValue, expectOptions, rejectUnknownOptions } from '../core/validate.js';
import type { BackendRunOptions } from './backend.js';

export interface CheckedRunCall {
  signal: AbortSignal | undefined;
  /** The outputs to compute (all of them when none were asked for). */
  outputs: readonly string[];
  /** The feeds, checked: the caller's map, or one whose Float16Array data is viewed as bits. */
  feeds: Readonly<TensorMap>;
}

export function checkRunCall(
  model: { inputs: readonly TensorInfo[]; outputs: readonly TensorInfo[] },
  feeds: Readonly<TensorMap>,
  options: BackendRunOptions | undefined,
): CheckedRunCall {
  const opts = expectOptions<BackendRunOptions>(options);
  rejectUnknownOptions(opts, ['signal', 'outputs']);
  const signal = opts.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new ArgumentTypeError(`Expected an AbortSignal for options.signal but received ${describeValue(signal)}`);
  const outputs = validateOutputNames(model.outputs, opts.outputs);
  const checked = validateFeeds(model.inputs, feeds);
  if (signal?.aborted) throw abortError('The run', signal);
  return { signal, outputs, feeds: checked };
}
