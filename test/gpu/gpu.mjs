// Shared by the GPU suites: whether this machine can run them, and why not. Suites pass `skip` to
// node:test so that a machine without a GPU reports every test as skipped with the reason.
import v8 from 'node:v8';
import vm from 'node:vm';
import { cuda } from '../../dist/index.js';
import { tryLoadAddon } from '../../dist/addon/loader.js';

function detect() {
  const loaded = tryLoadAddon();
  if (!('addon' in loaded)) return { addon: null, reason: `the native addon is not loaded (${loaded.message.split('\n')[0]})` };
  const { addon } = loaded;
  const build = addon.buildInfo();
  if (!build.cuda.compiled) return { addon, reason: `the addon was built without CUDA: ${build.cuda.missingReason}` };
  try {
    if (cuda.deviceCount() > 0) return { addon, reason: null };
    return { addon, reason: 'no CUDA device is visible' };
  } catch (error) {
    return { addon, reason: `no usable GPU: ${error.message}` };
  }
}

const detected = detect();
/** The addon (its CUDA test helpers), or null. */
export const addon = detected.addon;
/** False when a GPU is usable, else the reason to skip (a string, as node:test's `skip` takes it). */
export const skip = detected.reason === null ? false : detected.reason;

/** A deterministic pseudo-random source, so failures reproduce. */
export function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function randomBytes(length, seed) {
  const next = random(seed);
  return Uint8Array.from({ length }, () => Math.floor(next() * 256));
}

/** Full garbage collection, for finalizer tests (works without --expose-gc). */
export function collectGarbage() {
  v8.setFlagsFromString('--expose-gc');
  vm.runInNewContext('gc')();
}

/** Polls `condition` until true or `timeoutMs` passed (frees run on the releaser thread, asynchronously). */
export async function eventually(condition, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}

// Node 20 has no `using` in plain JavaScript: tests register what they allocate with track(), and
// an afterEach(disposeTracked) disposes it.
const tracked = [];
export function track(resource) {
  tracked.push(resource);
  return resource;
}
export function disposeTracked() {
  for (const resource of tracked.splice(0)) resource.dispose();
}
