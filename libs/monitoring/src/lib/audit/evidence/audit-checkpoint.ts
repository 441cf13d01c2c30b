import { Logger } from '@nestjs/common';
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign, verify } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { canonicalJson } from './audit-hash';

/**
 * What a writer signs: how long its chain was (event_count), where it ended (head_id, head_hash), and the
 * previous checkpoint's signature, so checkpoints form a chain of their own (as CloudTrail's digests do).
 */
export interface CheckpointBody {
  service: string;
  writer: string;
  /** 1, 2, 3, … per writer, without gaps. */
  sequence: number;
  /** The last event the checkpoint covers (null for an empty chain). */
  head_id: string | null;
  head_hash: string;
  /** Events in the writer's chain up to and including head_id. */
  event_count: number;
  timestamp: string;
  /** The signature of checkpoint sequence - 1 (null for the first). */
  prev_signature: string | null;
}

/** A signed checkpoint: Ed25519 over the canonical JSON of the body, base64. */
export interface AuditCheckpoint extends CheckpointBody {
  signature: string;
}

export function signCheckpoint(body: CheckpointBody, privateKey: KeyObject): AuditCheckpoint {
  return { ...body, signature: sign(null, Buffer.from(canonicalJson(body)), privateKey).toString('base64') };
}

export function checkpointSignatureValid(checkpoint: AuditCheckpoint, publicKey: KeyObject): boolean {
  const { signature, ...body } = checkpoint;
  try {
    return verify(null, Buffer.from(canonicalJson(body)), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** The signing key from a PEM (PKCS#8 Ed25519) text, or the base64 of one (one line, as a Secret's environment variable carries it). */
export function signingKeyFromText(text: string, source = 'AUDIT_SIGNING_KEY'): { privateKey: KeyObject; publicKey: KeyObject } {
  const pem = text.includes('-----BEGIN') ? text : Buffer.from(text, 'base64').toString('utf8');
  return ed25519Key(pem, source, `${source} is not a PEM private key (or the base64 of one)`);
}

/** The key pair of a PEM Ed25519 private key; any other key (or text) stops the service naming `source`. */
function ed25519Key(pem: string | Buffer, source: string, unreadable: string): { privateKey: KeyObject; publicKey: KeyObject } {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new Error(unreadable);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${source} is a ${privateKey.asymmetricKeyType} key; audit checkpoints need an Ed25519 key (openssl genpkey -algorithm ed25519)`);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** The signing key: from `file` (PEM, PKCS#8 Ed25519); when `generate` and the file is absent, a new key is written there once. */
export function loadSigningKey(file: string, generate: boolean): { privateKey: KeyObject; publicKey: KeyObject } {
  if (!existsSync(file)) {
    if (!generate) throw new Error(`AUDIT_SIGNING_KEY_FILE ${file} does not exist`);
    mkdirSync(dirname(file), { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    try {
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
      new Logger('AuditCheckpoints').warn(`no AUDIT_SIGNING_KEY_FILE: generated an Ed25519 signing key into ${file}; keep its public key (GET /audit/checkpoints/public-key) with your audit evidence`);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
  }
  return ed25519Key(readFileSync(file), file, `${file} is not a PEM private key`);
}

/** A public key in PEM (SPKI), as GET /audit/checkpoints/public-key serves it and the verifier reads it. */
export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** A service or writer name as part of a file name (a writer id may hold `/` and `:`). */
export const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

/**
 * Checkpoints kept outside the audit database: one append-only NDJSON file per writer in a directory that
 * should be another volume (or a bucket with object lock, mounted), which the database's credentials
 * cannot edit. Each checkpoint is fsynced before it counts as written.
 */
export class DirectoryCheckpointAnchor {
  constructor(readonly dir: string) {}

  /** Appends and fsyncs off the event loop (a slow disk never stalls requests); resolves once durable. */
  async append(checkpoint: AuditCheckpoint): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = await open(join(this.dir, `${safeName(checkpoint.service)}__${safeName(checkpoint.writer)}.ndjson`), 'a', 0o640);
    try {
      await file.write(`${JSON.stringify(checkpoint)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
  }

  /** Every checkpoint of `service` (all writers); a line that is not a checkpoint is returned as `unreadable`. */
  read(service: string): { checkpoints: AuditCheckpoint[]; unreadable: string[] } {
    const checkpoints: AuditCheckpoint[] = [];
    const unreadable: string[] = [];
    if (!existsSync(this.dir)) return { checkpoints, unreadable };
    for (const file of readdirSync(this.dir).filter((f) => f.startsWith(`${safeName(service)}__`) && f.endsWith('.ndjson')).sort()) {
      readFileSync(join(this.dir, file), 'utf8')
        .split('\n')
        .forEach((line, n) => {
          if (!line.trim()) return;
          try {
            const cp = JSON.parse(line) as AuditCheckpoint;
            if (cp.service === service && typeof cp.writer === 'string' && typeof cp.signature === 'string') checkpoints.push(cp);
            else unreadable.push(`${file}:${n + 1}`);
          } catch {
            unreadable.push(`${file}:${n + 1}`);
          }
        });
    }
    return { checkpoints, unreadable };
  }

  /** The last checkpoint of one writer, to continue its sequence after a restart. */
  last(service: string, writer: string): AuditCheckpoint | undefined {
    const mine = this.read(service).checkpoints.filter((c) => c.writer === writer);
    return mine.sort((a, b) => a.sequence - b.sequence)[mine.length - 1];
  }
}

/** Checkpoints grouped by writer, each writer's in sequence order (what both verifiers walk). */
export function checkpointsByWriter(checkpoints: readonly AuditCheckpoint[]): Map<string, AuditCheckpoint[]> {
  const byWriter = new Map<string, AuditCheckpoint[]>();
  for (const cp of checkpoints) {
    const list = byWriter.get(cp.writer);
    if (list) list.push(cp);
    else byWriter.set(cp.writer, [cp]);
  }
  for (const list of byWriter.values()) list.sort((a, b) => a.sequence - b.sequence);
  return byWriter;
}
