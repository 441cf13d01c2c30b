import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { MONITORING_VERSION } from '../../monitoring.constants';
import { AUDIT_CLI_HELP, runAuditCli } from './audit-cli';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return { stream: new Writable({ write: (chunk, _enc, done) => (chunks.push(String(chunk)), done()) }), text: () => chunks.join('') };
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await runAuditCli(argv, out.stream, err.stream);
  return { code, out: out.text(), err: err.text() };
}

describe('personai-audit: the CLI conventions (exit 0 for help and version, 2 for a usage error)', () => {
  it.each([[['--help']], [['-h']], [['verify', '--help']], [['verify', '-h', '--store', 'x']]])('%j prints the help on stdout and exits 0', async (argv) => {
    const run = await cli(...argv);
    expect({ code: run.code, out: run.out, err: run.err }).toEqual({ code: 0, out: AUDIT_CLI_HELP, err: '' });
  });

  it('lists every option it parses, each with its default or "required", and the three exit codes', () => {
    for (const flag of ['--store', '--checkpoints', '--public-key', '--archive', '--retention', '--service', '--json', '-h, --help', '--version']) expect(AUDIT_CLI_HELP).toContain(`  ${flag} `);
    // One block per option: its line and the indented lines continuing it.
    const options = AUDIT_CLI_HELP.slice(AUDIT_CLI_HELP.indexOf('Options:'), AUDIT_CLI_HELP.indexOf('Exit codes:'));
    const blocks = options.split(/\n(?= {2}-)/).slice(1);
    expect(blocks).toHaveLength(9);
    const valued = blocks.filter((b) => !/^ {2}(-h, )?--(help|version|json)\b/.test(b));
    expect(valued).toHaveLength(6);
    for (const block of valued) expect([block.trim().split(' ')[0], /\((required|default: [^)]+)\)/.test(block.replace(/\s+/g, ' '))]).toEqual([block.trim().split(' ')[0], true]);
    expect(blocks.find((b) => b.includes('--json'))).toContain('(default: off');
    expect(AUDIT_CLI_HELP).toMatch(/^ {2}0 {2}intact/m);
    expect(AUDIT_CLI_HELP).toMatch(/^ {2}1 {2}tampering found/m);
    expect(AUDIT_CLI_HELP).toMatch(/^ {2}2 {2}usage error/m);
  });

  it("--version prints the package's version, the one in its package.json", async () => {
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(MONITORING_VERSION).toBe(manifest.version);
    expect(await cli('--version')).toEqual({ code: 0, out: `${manifest.version}\n`, err: '' });
  });

  it.each([
    [['verify', '--nope'], "Unknown option '--nope'"],
    [['verify', '--store'], "Option '--store <value>' argument missing"],
    [[], 'no command'],
    [['check', '--store', 'a'], "unknown command 'check'"],
    [['verify', '--store', 'a.db'], 'missing --checkpoints, --public-key'],
    [['verify', '--store', 'a.db', '--checkpoints', 'c', '--public-key', 'k', '--retention', 'forever'], "--retention 'forever' is not a duration"],
  ])('%j is a usage error: exit 2, the problem and the usage on stderr, nothing on stdout', async (argv, problem) => {
    const run = await cli(...argv);
    expect({ code: run.code, out: run.out }).toEqual({ code: 2, out: '' });
    expect(run.err).toContain(problem);
    expect(run.err).toContain('usage: personai-audit verify --store');
    expect(run.err).toContain('personai-audit --help lists every option');
  });

  it('an unreadable key rejects (the bin exits 2 with the reason)', async () => {
    await expect(cli('verify', '--store', 'missing.db', '--checkpoints', 'missing', '--public-key', '/nonexistent/key.pem')).rejects.toThrow(/ENOENT/);
  });
});
