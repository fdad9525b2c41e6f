/** Stacking requests along dim 0 into one batch, and splitting a batch's outputs back. */
import { setEntry, type TensorInfo, type TensorMap } from '../core/tensors.js';
import { allocateTypedArray, type AnyTypedArray, type HostTensor } from '../core/dtypes.js';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';

/** One tensor per input holding every request's rows in order (one copy of each feed). */
export function stackFeeds(inputs: readonly TensorInfo[], requests: readonly { feeds: TensorMap; rows: number }[]): TensorMap {
  if (requests.length === 1) return requests[0]!.feeds;
  const rows = requests.reduce((sum, request) => sum + request.rows, 0);
  const stacked: TensorMap = {};
  for (const info of inputs) {
    const first = requests[0]!.feeds[info.name]!;
    const rowShape = first.shape.slice(1);
    const rowSize = rowShape.reduce((product, dim) => product * dim, 1);
    const data = allocateTypedArray(info.dtype, rows * rowSize) as AnyTypedArray;
    let offset = 0;
    for (const request of requests) {
      const source = request.feeds[info.name]!.data as AnyTypedArray;
      (data as Float32Array).set(source as Float32Array, offset);
      offset += source.length;
    }
    setEntry(stacked, info.name, { dtype: info.dtype, shape: [rows, ...rowShape], data } as HostTensor);
  }
  return stacked;
}

/**
 * The rows of each request, per output, as fresh arrays (a copy: a caller never receives a view
 * that exposes other callers' results or keeps their memory alive). A batch of one is passed on as is.
 */
export function splitOutputs(results: TensorMap, outputs: readonly string[], requestRows: readonly number[]): TensorMap[] {
  const total = requestRows.reduce((sum, rows) => sum + rows, 0);
  for (const name of outputs) {
    const tensor = results[name]!;
    if (tensor.shape[0] !== total) {
      throw new TensorRTNodeError(
        ErrorCode.SHAPE,
        `Expected output ${JSON.stringify(name)} to have dim 0 equal to the batch's ${total} rows (the batcher splits outputs along dim 0) but the model produced [${tensor.shape.join(', ')}]`,
      );
    }
  }
  if (requestRows.length === 1) return [results];
  const split: TensorMap[] = requestRows.map(() => ({}));
  for (const name of outputs) {
    const tensor = results[name]!;
    const rowShape = tensor.shape.slice(1);
    const rowSize = total === 0 ? 0 : tensor.data.length / total;
    let offset = 0;
    requestRows.forEach((rows, index) => {
      const data = (tensor.data as Float32Array).slice(offset * rowSize, (offset + rows) * rowSize);
      setEntry(split[index]!, name, { dtype: tensor.dtype, shape: [rows, ...rowShape], data } as HostTensor);
      offset += rows;
    });
  }
  return split;
}
