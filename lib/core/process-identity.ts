/**
 * Who wrote a temporary file or holds a lock, precisely enough to tell a live writer from a dead one
 * without trusting a pid alone: pids are reused, so the process start time (from /proc, in clock
 * ticks since boot) is recorded too, and the host, because a cache directory on a network file
 * system can be shared by several machines whose processes this one cannot see.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessIdentity {
  hostname: string;
  /** 8 hex digits of sha256(hostname): short enough for file names, safe whatever the hostname. */
  hostTag: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat; null where /proc is unavailable. */
  startTicks: number | null;
}

interface ProcStat {
  startTicks: number | null;
  /** A zombie has exited and only waits for its parent to reap it: it holds nothing any more. */
  zombie: boolean;
}

function readProcStat(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) is in parentheses and may contain spaces: count fields after it.
    const fieldsAfterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fieldsAfterName[19]);
    return { startTicks: Number.isSafeInteger(ticks) ? ticks : null, zombie: fieldsAfterName[0] === 'Z' };
  } catch {
    return null;
  }
}

export function hostTagOf(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 8);
}

let current: ProcessIdentity | undefined;

/** This process (computed once; a fork is a new process and a new module instance). */
export function currentProcess(): ProcessIdentity {
  if (!current || current.pid !== process.pid) {
    const host = hostname();
    current = {
      hostname: host,
      hostTag: hostTagOf(host),
      pid: process.pid,
      startTicks: readProcStat(process.pid)?.startTicks ?? null,
    };
  }
  return current;
}

/**
 * 'alive' or 'dead' for a process of this host; 'unknown' for another host's (only age can tell).
 * A pid that exists but started at another time is a reused pid: the recorded process is dead.
 */
export function processState(owner: { hostTag: string; pid: number; startTicks: number | null }): 'alive' | 'dead' | 'unknown' {
  const self = currentProcess();
  if (owner.hostTag !== self.hostTag) return 'unknown';
  if (owner.pid === self.pid) return owner.startTicks === null || owner.startTicks === self.startTicks ? 'alive' : 'dead';
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user; it is alive.
    if ((error as { code?: string }).code !== 'EPERM') return 'dead';
  }
  const stat = readProcStat(owner.pid);
  if (stat?.zombie) return 'dead';
  if (owner.startTicks === null || stat === null || stat.startTicks === null) return 'alive';
  return stat.startTicks === owner.startTicks ? 'alive' : 'dead';
}
