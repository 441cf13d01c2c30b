import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from './http';
import { freePort } from './stack';

/** A real Prometheus (Debian's package) on a free port, with `config` as its prometheus.yml in `dir`. */
export async function startPrometheus(dir: string, config: string, flags: string[] = []): Promise<{ api: string; stop: () => Promise<void> }> {
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  const prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', ...flags], { stdio: 'ignore' });
  await eventually('Prometheus to be ready', async () => {
    if (prometheus.exitCode !== null) throw new Error(`prometheus exited with ${prometheus.exitCode}`);
    try {
      return (await fetch(`${api}/-/ready`)).ok ? true : undefined;
    } catch {
      return undefined;
    }
  });
  return {
    api,
    stop: async () => {
      if (prometheus.exitCode !== null) return;
      const exited = new Promise((r) => prometheus.once('exit', r));
      prometheus.kill('SIGTERM');
      await exited;
    },
  };
}
