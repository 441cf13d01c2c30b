import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What {@link sqliteCompilations} counted over the calls of one prepared statement. */
export interface SqliteCompilations {
  /** Runs of the statement that SQLite counted (sqlite3_step calls): at least the calls made. */
  steps: number;
  /** Times SQLite compiled the statement again (sqlite3Reprepare calls): 0 for a statement whose plan never looks at its bindings. */
  recompilations: number;
}

// Prepares `sql` once on the file, then runs it `calls` times with the same bindings, as a store does.
const RUNNER = `
const [, modulePath, file, sql, bindings, calls] = process.argv;
const Database = require(modulePath);
const db = new Database(file, { readonly: true });
const statement = db.prepare(sql);
const params = JSON.parse(bindings);
for (let i = 0; i < Number(calls); i += 1) statement.reader ? statement.all(...params) : statement.run(...params);
db.close();
`;

/**
 * Counts, under valgrind's callgrind (a count of calls, not a timing), how often SQLite compiles a prepared statement
 * again while it runs `calls` times on the SQLite file `file` with the same `bindings`. SQLite's planner may look at a
 * bound value (a LIMIT, or a parameter compared with an indexed column where an ORDER BY is planned): such a
 * statement expires whenever it is bound, and every call compiles it again, as much CPU as the read itself.
 * better-sqlite3 does not expose sqlite3_stmt_status, so its own build is counted from outside. Needs `valgrind`
 * (scripts/install-test-tools.sh installs it); takes a few seconds.
 */
export function sqliteCompilations(file: string, sql: string, bindings: unknown[], calls = 100): SqliteCompilations {
  const dir = mkdtempSync(join(tmpdir(), 'personai-callgrind-'));
  const out = join(dir, 'callgrind.out');
  try {
    const run = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, '-e', RUNNER, require.resolve('better-sqlite3'), file, sql, JSON.stringify(bindings), String(calls)], { encoding: 'utf8', timeout: 120_000 });
    if (run.error) throw new Error(`valgrind could not run (${run.error.message}): install it with scripts/install-test-tools.sh`);
    if (run.status !== 0) throw new Error(`the statement failed under valgrind (exit ${run.status}): ${run.stderr.split('\n').filter((l) => !l.startsWith('==')).join('\n').trim()}`);
    const counted = callsTo(readFileSync(out, 'utf8'), ['sqlite3_step', 'sqlite3Reprepare']);
    const steps = counted.get('sqlite3_step') ?? 0;
    // No step counted: the build's symbols are not visible, and a count of 0 recompilations would mean nothing.
    if (steps < calls) throw new Error(`callgrind counted ${steps} sqlite3_step calls for ${calls} runs: better-sqlite3's symbols are not visible`);
    return { steps, recompilations: counted.get('sqlite3Reprepare') ?? 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
