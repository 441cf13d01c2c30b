import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What {@link sqliteCompilations} counted over the calls of prepared statements. */
export interface SqliteCompilations {
  /** Runs of the statements that SQLite counted (sqlite3_step calls): at least the calls made. */
  steps: number;
  /** Times SQLite compiled a statement again (sqlite3Reprepare calls): 0 when no plan looks at its bindings. */
  recompilations: number;
}

/** A statement and the bindings of each of its calls. */
export interface SqliteRead {
  sql: string;
  bindings: unknown[];
}

// Prepares each statement once on the file, then runs it `calls` times with the same bindings, as a store does
// (the file opened read-only unless the statements write).
const RUNNER = `
const [, modulePath, file, reads, calls, writable] = process.argv;
const Database = require(modulePath);
const db = new Database(file, { readonly: writable !== 'writable' });
for (const { sql, bindings } of JSON.parse(reads)) {
  const statement = db.prepare(sql);
  for (let i = 0; i < Number(calls); i += 1) statement.reader ? statement.all(...bindings) : statement.run(...bindings);
}
db.close();
`;

/**
 * Counts, under valgrind's callgrind (a count of calls, not a timing), how often SQLite compiles prepared statements
 * again while each runs `calls` times on the SQLite file `file` with the same bindings (all of them in one process:
 * valgrind's start is most of the cost). SQLite's planner may look at a bound value (a LIMIT, or a parameter compared
 * with an indexed column where an ORDER BY is planned): such a statement expires whenever it is bound, and every call
 * compiles it again, as much CPU as the read itself. better-sqlite3 does not expose sqlite3_stmt_status, so its own
 * build is counted from outside. Needs `valgrind` (scripts/install-test-tools.sh installs it); a few seconds a call.
 * With `writable`, the file is opened for writing and statements that write run (and change it).
 */
export function sqliteCompilations(file: string, reads: SqliteRead[], calls = 100, options: { writable?: boolean } = {}): SqliteCompilations {
  const dir = mkdtempSync(join(tmpdir(), 'personai-callgrind-'));
  const out = join(dir, 'callgrind.out');
  try {
    const run = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, '-e', RUNNER, require.resolve('better-sqlite3'), file, JSON.stringify(reads), String(calls), options.writable ? 'writable' : 'readonly'], { encoding: 'utf8', timeout: 300_000 });
    if (run.error) throw new Error(`valgrind could not run (${run.error.message}): install it with scripts/install-test-tools.sh`);
    if (run.status !== 0) throw new Error(`a statement failed under valgrind (exit ${run.status}): ${run.stderr.split('\n').filter((l) => !l.startsWith('==')).join('\n').trim()}`);
    const counted = callsTo(readFileSync(out, 'utf8'), ['sqlite3_step', 'sqlite3Reprepare']);
    const steps = counted.get('sqlite3_step') ?? 0;
    // Fewer steps than runs: the build's symbols are not visible, and a count of 0 recompilations would mean nothing.
    if (steps < calls * reads.length) throw new Error(`callgrind counted ${steps} sqlite3_step calls for ${calls * reads.length} runs: better-sqlite3's symbols are not visible`);
    return { steps, recompilations: counted.get('sqlite3Reprepare') ?? 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The statements of `reads` that SQLite compiles again on their calls (one callgrind run for all, then one each only when some are). */
export function recompiledStatements(file: string, reads: SqliteRead[], calls = 100, options: { writable?: boolean } = {}): string[] {
  if (sqliteCompilations(file, reads, calls, options).recompilations === 0) return [];
  return reads.filter((read) => sqliteCompilations(file, [read], calls, options).recompilations > 0).map((read) => read.sql);
}

/**
 * Calls to each of `names` in a callgrind profile, summed over their call sites. The format names a callee on a
 * `cfn=` line (its name given once, after its id, and the id alone later) followed by `calls=<count> <target>`.
 */
export function callsTo(profile: string, names: string[]): Map<string, number> {
  const ids = new Map<string, string>();
  const counts = new Map<string, number>();
  let callee: string | undefined;
  for (const line of profile.split('\n')) {
    const named = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line);
    if (named) {
      if (named[2] !== undefined) ids.set(named[1], named[2]);
      if (line.startsWith('cfn=')) callee = ids.get(named[1]);
      continue;
    }
    const calls = /^calls=(\d+) /.exec(line);
    if (calls && callee && names.includes(callee)) counts.set(callee, (counts.get(callee) ?? 0) + Number(calls[1]));
  }
  return counts;
}
