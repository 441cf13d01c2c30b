import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * compose's `postgres` service for the container check, where its image (postgres:15) cannot be pulled: a PostgreSQL
 * server of the check's own (this machine's PostgreSQL binaries, a fresh cluster in a temporary directory) listening
 * on the container network's gateway, with compose's user, password and database. Its own process, not a proxy
 * in the test's: the services' connection timeouts measure the server, not the test runner's event loop.
 * Needs root (initdb runs as the `postgres` user).
 */
export async function startPostgres(listenHost: string, subnet: string, port: number, compose: { user: string; database: string }): Promise<{ stop: () => Promise<void> }> {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql (Debian package postgresql)');
  const bin = (tool: string): string => join('/usr/lib/postgresql', versions[0], 'bin', tool);
  const dir = mkdtempSync(join(tmpdir(), 'personai-containers-pg-'));
  const data = join(dir, 'data');
  const asPostgres = (args: string[], timeoutMs = 60_000): Promise<void> =>
    new Promise((resolve, reject) => {
      execFile('runuser', ['-u', 'postgres', '--', ...args], { timeout: timeoutMs }, (error, _stdout, stderr) => (error ? reject(new Error(`${args[0]}: ${String(stderr).trim()}`)) : resolve()));
    });
  const postgresUid = await new Promise<[number, number]>((resolve, reject) => execFile('id', ['-u', 'postgres'], (e, uid) => (e ? reject(e) : execFile('id', ['-g', 'postgres'], (e2, gid) => (e2 ? reject(e2) : resolve([Number(uid), Number(gid)]))))));
  chownSync(dir, ...postgresUid);
  await asPostgres([bin('initdb'), '-D', data, '-U', compose.user, '--auth=trust', '--no-sync', '-E', 'UTF8']);
  // Trust from the container network (compose's password is sent and ignored, as with a trust rule there).
  await asPostgres([bin('pg_ctl'), '-D', data, '-l', join(dir, 'server.log'), '-w', '-o', `-h ${listenHost} -p ${port} -k ${dir} -c max_connections=200`, 'start']);
  const hba = `host all all ${subnet} trust\n`;
  await asPostgres(['sh', '-c', `printf '%s' '${hba}' >> ${join(data, 'pg_hba.conf')}`]);
  await asPostgres([bin('pg_ctl'), '-D', data, 'reload']);
  await asPostgres([bin('createdb'), '-h', dir, '-p', String(port), '-U', compose.user, compose.database]);
  return {
    stop: async () => {
      await asPostgres([bin('pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
