import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The audit folder's rooms (README.md here), from the top: capture, cli, relay and collector (peers, none
 * imports another), then stores, then evidence. An import may go down or stay in its room, never up.
 */
const RANK: Record<string, number> = { capture: 2, cli: 2, relay: 2, collector: 2, stores: 1, evidence: 0 };

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every relative import of `file` that lands in another room of this folder, as [from room, to room]. */
function crossings(file: string): { file: string; from: string; to: string; spec: string }[] {
  const from = relative(__dirname, file).split(sep)[0];
  const specs = [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return specs
    .map((spec) => ({ spec, target: relative(__dirname, resolve(dirname(file), spec)) }))
    .filter(({ target }) => !target.startsWith('..'))
    .map(({ spec, target }) => ({ file: relative(__dirname, file), from, to: target.split(sep)[0], spec }))
    .filter((c) => c.to !== c.from);
}

describe('the audit folder\'s rooms', () => {
  const files = sources(__dirname).filter((f) => f !== __filename);

  it('holds nothing but its rooms', () => {
    expect(files.map((f) => relative(__dirname, f).split(sep)[0]).filter((room) => !(room in RANK))).toEqual([]);
  });

  it('has no import running up from a lower room, and none between capture, cli, relay and collector', () => {
    const all = files.flatMap(crossings);
    expect(all.length).toBeGreaterThan(0); // the scan sees imports at all
    expect(all.filter((c) => RANK[c.to] >= RANK[c.from])).toEqual([]);
  });
});
