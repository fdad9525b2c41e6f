/**
 * Synthetic document pages for the PP-OCR detector: light paper with soft noise, lines of dark
 * glyph-like strokes, a 3x3 blur as a scanner gives, normalized the way PP-OCR preprocesses images
 * ((x / 255 - mean) / std). Seeded, so every run sees the same pages, and realistic enough that the
 * detector answers with text regions near 1; on random noise it answers ~1e-6 everywhere, where any
 * comparison only measures the rounding of nothing.
 */
import type { HostTensor } from '../../lib/core/dtypes.js';
import { createRandom, type Random } from '../../lib/onnx/random.js';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

function drawGlyph(
  page: Float32Array,
  size: number,
  random: Random,
  left: number,
  top: number,
  width: number,
  height: number,
  ink: number,
): void {
  const strokes = 2 + Math.floor(random.next() * 3);
  const thickness = Math.max(1, Math.floor(height / 8));
  for (let stroke = 0; stroke < strokes; stroke++) {
    const kind = Math.floor(random.next() * 3); // 0 vertical, 1 horizontal, 2 diagonal
    const length = Math.max(width, height);
    for (let step = 0; step < length; step++) {
      let x: number;
      let y: number;
      if (kind === 0) {
        x = left + Math.floor((width * (stroke + 1)) / (strokes + 1));
        y = top + Math.min(height - 1, step);
      } else if (kind === 1) {
        x = left + Math.min(width - 1, step);
        y = top + Math.floor((height * (stroke + 1)) / (strokes + 1));
      } else {
        x = left + Math.floor((step * width) / length);
        y = top + Math.floor((step * height) / length);
      }
      for (let dy = 0; dy < thickness; dy++) {
        for (let dx = 0; dx < thickness; dx++) if (y + dy < size && x + dx < size) page[(y + dy) * size + x + dx] = ink;
      }
    }
  }
}

/** A [1, 3, size, size] float32 page, seeded by `seed`. */
export function documentImage(size: number, seed: number): HostTensor<'float32'> {
  const random = createRandom(seed);
  const page = new Float32Array(size * size).map(() => 225 + random.uniform(-6, 6));
  const lines = 5 + Math.floor(random.next() * 6);
  let top = Math.floor(random.uniform(4, 20));
  for (let line = 0; line < lines && top < size - 24; line++) {
    const height = 10 + Math.floor(random.next() * 12);
    let left = Math.floor(random.uniform(4, size / 4));
    const end = Math.floor(random.uniform(size / 2, size - 4));
    const ink = 30 + random.uniform(0, 50);
    while (left < end) {
      const width = Math.max(3, Math.floor(height * random.uniform(0.4, 0.9)));
      drawGlyph(page, size, random, left, top, width, height, ink);
      left += width + 1 + Math.floor(random.next() * 3);
      if (random.next() < 0.15) left += 6 + Math.floor(random.next() * 8); // a space between words
    }
    top += height + 6 + Math.floor(random.next() * 14);
  }
  const blurred = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sum = 0;
      let count = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          if (y + dy < 0 || y + dy >= size || x + dx < 0 || x + dx >= size) continue;
          sum += page[(y + dy) * size + x + dx]!;
          count++;
        }
      }
      blurred[y * size + x] = sum / count;
    }
  }
  const data = new Float32Array(3 * size * size);
  for (let channel = 0; channel < 3; channel++) {
    for (let index = 0; index < size * size; index++)
      data[channel * size * size + index] = (blurred[index]! / 255 - MEAN[channel]!) / STD[channel]!;
  }
  return { dtype: 'float32', shape: [1, 3, size, size], data };
}
