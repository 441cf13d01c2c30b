import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './stack';

/**
 * Another process takes the SQLite database's write lock (BEGIN IMMEDIATE) and keeps it until killed: the
 * real contention a second writer, a backup or a stuck migration causes.
 */
export async function holdSqliteWriteLock(path: string): Promise<ChildProcess> {
  const script = `const db = new (require(${JSON.stringify(join(ROOT, 'node_modules', 'better-sqlite3'))}))(${JSON.stringify(path)}); db.exec('BEGIN IMMEDIATE'); console.log('locked'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}
