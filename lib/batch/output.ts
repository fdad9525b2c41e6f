/**
 * The output of a batch job: JSON Lines, one line per record in input order,
 *
 *   {"record":12,"id":"tx-881","outputs":{"y":{"shape":[8],"data":[0.25,-1.5,...]}}}
 *
 * with each output's shape without the batch dim. Numbers are written so they read back exactly:
 * float32 with 9 significant digits (enough for every float32), float16/bfloat16 as their values,
 * int64 as numbers when safe and strings beyond 2^53, bool as true/false. The same record always
 * gives the same bytes, which is what lets a resumed or sharded job be compared byte for byte.
 */
import type { HostTensor } from '../core/dtypes.js';
import { bfloat16BitsToFloat32, float16BitsToFloat32 } from '../core/dtypes.js';
import { setEntry, type TensorMap } from '../core/tensors.js';

function values(tensor: HostTensor): unknown[] {
  const data = tensor.data;
  switch (tensor.dtype) {
    case 'float32':
      return Array.from(data as Float32Array, (value) => (Number.isFinite(value) ? Number(value.toPrecision(9)) : String(value)));
    case 'float64':
      return Array.from(data as Float64Array, (value) => (Number.isFinite(value) ? value : String(value)));
    case 'float16':
      return Array.from(data as Uint16Array, (bits) => {
        const value = float16BitsToFloat32(bits);
        return Number.isFinite(value) ? Number(value.toPrecision(5)) : String(value);
      });
    case 'bfloat16':
      return Array.from(data as Uint16Array, (bits) => {
        const value = bfloat16BitsToFloat32(bits);
        return Number.isFinite(value) ? Number(value.toPrecision(4)) : String(value);
      });
    case 'int64':
      return Array.from(data as BigInt64Array, (value) =>
        value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString(),
      );
    case 'bool':
      return Array.from(data as Uint8Array, (value) => value !== 0);
    default:
      return Array.from(data as ArrayLike<number>);
  }
}

/** One output line (with its newline) for a record's outputs (batch dim 1). */
export function formatRecord(index: number, id: unknown, outputs: TensorMap): string {
  const formatted: Record<string, { shape: number[]; data: unknown[] }> = {};
  for (const [name, tensor] of Object.entries(outputs))
    setEntry(formatted, name, { shape: tensor.shape.slice(1), data: values(tensor) });
  return `${JSON.stringify(id === undefined ? { record: index, outputs: formatted } : { record: index, id, outputs: formatted })}\n`;
}
