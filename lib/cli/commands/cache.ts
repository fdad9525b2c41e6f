/** `tensorrt-node cache ls | prune | clear`: look at and trim the engine cache. */
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../../core/errors.js';
import { EngineCache, type CacheEntryInfo, type ClearResult, type PruneResult, type RemovedEntry } from '../../cache/index.js';
import { expectOneOf } from '../../core/validate.js';
import { formatBytes, formatDuration, parseByteSize, parseDuration } from '../../core/units.js';
import type { Command } from '../command.js';

const subcommands = ['ls', 'prune', 'clear'] as const;
type Subcommand = (typeof subcommands)[number];

const usage = 'cache ls|prune|clear [--dir <folder>] [--json] [--max-size <size>] [--older-than <duration>] [--yes]';

/** Options that only make sense with one subcommand. */
const optionOwners: Record<string, Subcommand> = { 'max-size': 'prune', 'older-than': 'prune', yes: 'clear' };

interface CacheValues {
  json?: boolean;
  dir?: string;
  'max-size'?: string;
  'older-than'?: string;
  yes?: boolean;
}

function minute(iso: string | null): string {
  return iso === null ? '-' : `${iso.slice(0, 16).replace('T', ' ')}Z`;
}

function describeBuild(entry: CacheEntryInfo): string {
  const precision = entry.parts?.build.precision;
  return typeof precision === 'string' ? precision : entry.parts ? 'default' : '-';
}

/** The `ls` table: one line per entry, most recently used first, then the total. */
export function formatCacheListing(dir: string, maxBytes: number, entries: CacheEntryInfo[]): string {
  const total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
  const limit = maxBytes === Infinity ? 'no size limit' : `limit ${formatBytes(maxBytes)}`;
  if (entries.length === 0) return `Engine cache ${dir} (${limit}): empty\n`;
  const header = ['KEY', 'SIZE', 'LAST USED', 'CREATED', 'TENSORRT', 'GPU', 'PRECISION', 'LABEL'];
  const rows = entries.map((entry) => [
    entry.key.slice(0, 12),
    formatBytes(entry.bytes),
    minute(entry.lastUsedAt),
    minute(entry.createdAt),
    entry.parts?.tensorrtVersion ?? '-',
    entry.parts ? `sm ${entry.parts.gpu.computeCapability}` : '-',
    describeBuild(entry),
    `${entry.label ?? '-'}${entry.problem ? `  (broken: ${entry.problem})` : ''}`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  const count = `${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}`;
  return [`Engine cache ${dir} (${limit})`, line(header), ...rows.map(line), `${count}, ${formatBytes(total)}`, ''].join('\n');
}

function countByReason(removed: RemovedEntry[]): string {
  const labels: Record<RemovedEntry['reason'], string> = {
    broken: 'broken',
    'older-than': 'unused for too long',
    'size-limit': 'beyond the size limit',
    cleared: 'cleared',
  };
  const counts = new Map<string, number>();
  for (const entry of removed) counts.set(labels[entry.reason], (counts.get(labels[entry.reason]) ?? 0) + 1);
  return [...counts].map(([label, count]) => `${count} ${label}`).join(', ');
}

function entries(count: number): string {
  return `${count} ${count === 1 ? 'entry' : 'entries'}`;
}

export function formatPruneReport(dir: string, result: PruneResult): string {
  const lines = [
    result.removed.length === 0
      ? `Nothing to prune in ${dir}.`
      : `Removed ${entries(result.removed.length)} (${formatBytes(result.freedBytes)}) from ${dir}: ${countByReason(result.removed)}.`,
    `${entries(result.remainingEntries)} (${formatBytes(result.remainingBytes)}) remain.`,
  ];
  if (result.skippedBusy.length > 0) lines.push(`Skipped ${entries(result.skippedBusy.length)} in use by another process.`);
  if (result.leftoversRemoved > 0) lines.push(`Cleaned ${result.leftoversRemoved} leftover file(s) of interrupted writers.`);
  lines.push(...strayLines(result.strays, 'Left'));
  return `${lines.join('\n')}\n`;
}

/** One line per stray path: what was found there, and whether it was removed. */
function strayLines(strays: PruneResult['strays'], verb: 'Left' | 'Removed'): string[] {
  if (strays.length === 0) return [];
  const hint = verb === 'Left' ? ' (`tensorrt-node cache clear --yes` removes them)' : '';
  return [
    `${verb} ${strays.length} path(s) that do not hold what the cache keeps there${hint}:`,
    ...strays.map((stray) => `  ${stray.path}: ${stray.problem}`),
  ];
}

export function formatClearReport(dir: string, result: ClearResult): string {
  const busy = result.skippedBusy.length > 0 ? ` Skipped ${entries(result.skippedBusy.length)} in use by another process.` : '';
  const lines = [
    `Removed ${entries(result.removed.length)} (${formatBytes(result.freedBytes)}) and ${result.timingCachesRemoved} timing cache(s) from ${dir}.${busy}`,
  ];
  lines.push(
    ...strayLines(
      result.strays.filter((stray) => stray.removed),
      'Removed',
    ),
  );
  lines.push(
    ...strayLines(
      result.strays.filter((stray) => !stray.removed),
      'Left',
    ),
  );
  return `${lines.join('\n')}\n`;
}

export const cacheCommand: Command<CacheValues> = {
  name: 'cache',
  usage,
  help: [
    '  ls                         list cached engines, most recently used first',
    '  prune                      remove broken entries, leftovers of interrupted builds, and',
    '    --max-size <size>        least recently used entries beyond this size (e.g. 2GiB; default: the 10 GiB limit)',
    '    --older-than <duration>  entries unused for longer than this (e.g. 30d, 12h)',
    '  clear --yes                remove every cached engine and timing cache',
    '  --dir <folder>             the cache folder (default: $TENSORRT_NODE_CACHE_DIR, $XDG_CACHE_HOME/tensorrt-node, ~/.cache/tensorrt-node)',
    '  --json                     print the result as JSON',
  ].join('\n'),
  options: {
    json: { type: 'boolean' },
    dir: { type: 'string' },
    'max-size': { type: 'string' },
    'older-than': { type: 'string' },
    yes: { type: 'boolean' },
  },
  positionals: true,
  async run(values, positionals, { stdout, stderr }) {
    const [given, ...extra] = positionals;
    if (given === undefined) {
      throw new ArgumentTypeError(
        `Expected a subcommand (one of "ls", "prune", "clear") for \`tensorrt-node cache\` but received none. Usage: tensorrt-node ${usage}`,
        ErrorCode.INVALID_ARGUMENT,
      );
    }
    const subcommand = expectOneOf(given, 'the subcommand of `tensorrt-node cache`', subcommands);
    if (extra.length > 0) {
      throw new ArgumentRangeError(
        `Unexpected argument ${JSON.stringify(extra[0])} after \`tensorrt-node cache ${subcommand}\`. Usage: tensorrt-node ${usage}`,
        ErrorCode.INVALID_ARGUMENT,
      );
    }
    for (const [option, owner] of Object.entries(optionOwners)) {
      if (values[option as keyof CacheValues] !== undefined && owner !== subcommand) {
        throw new ArgumentRangeError(
          `Option --${option} only applies to \`tensorrt-node cache ${owner}\`, not \`cache ${subcommand}\``,
          ErrorCode.INVALID_ARGUMENT,
        );
      }
    }
    // Values are checked before the cache is touched, so a typo never prunes anything.
    const maxBytes = values['max-size'] === undefined ? undefined : parseByteSize(values['max-size'], '--max-size');
    const olderThanMs = values['older-than'] === undefined ? undefined : parseDuration(values['older-than'], '--older-than');
    const cache = await EngineCache.open(values.dir, {
      strict: true,
      onWarning: (warning) => stderr.write(`warning: ${warning.message}\n`),
    });
    const print = (json: unknown, text: string) => stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : text);

    if (subcommand === 'ls') {
      const listed = await cache.list();
      print(
        {
          dir: cache.dir,
          maxBytes: cache.maxBytes === Infinity ? null : cache.maxBytes,
          totalBytes: listed.reduce((sum, entry) => sum + entry.bytes, 0),
          entries: listed,
        },
        formatCacheListing(cache.dir, cache.maxBytes, listed),
      );
      return 0;
    }
    if (subcommand === 'prune') {
      const result = await cache.prune({ maxBytes, olderThanMs });
      const criteria = {
        maxBytes: maxBytes ?? cache.maxBytes,
        olderThanMs: olderThanMs ?? null,
        olderThan: olderThanMs === undefined ? null : formatDuration(olderThanMs),
      };
      print({ dir: cache.dir, ...criteria, ...result }, formatPruneReport(cache.dir, result));
      return 0;
    }
    if (!values.yes) {
      const listed = await cache.list();
      const bytes = listed.reduce((sum, entry) => sum + entry.bytes, 0);
      throw new ArgumentRangeError(
        `Expected --yes to confirm \`tensorrt-node cache clear\`, which removes ${entries(listed.length)} (${formatBytes(bytes)}) and every timing cache in ${cache.dir}, but received no --yes`,
        ErrorCode.INVALID_ARGUMENT,
      );
    }
    const result = await cache.clear();
    print({ dir: cache.dir, ...result }, formatClearReport(cache.dir, result));
    return 0;
  },
};
