/**
 * A small seeded random generator (mulberry32) so that generated calibration data, test inputs and
 * fixtures are reproducible run after run.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** A Float32Array of `count` values uniform in [low, high). */
  float32(count: number, low?: number, high?: number): Float32Array;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (low, high) => low + (high - low) * next(),
    normal: () => {
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    float32: (count, low = 0, high = 1) => {
      const values = new Float32Array(count);
      for (let index = 0; index < count; index++) values[index] = low + (high - low) * next();
      return values;
    },
  };
}
