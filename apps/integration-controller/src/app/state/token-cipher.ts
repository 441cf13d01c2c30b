import { Logger } from '@nestjs/common';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const VERSION = 'v1';

/** A stored token this process cannot read (another key, or not a token this code wrote). */
export class TokenUnreadableError extends Error {}

/**
 * Access tokens are stored encrypted (AES-256-GCM, a fresh IV per token, authenticated): a copy of the
 * database (a backup, a replica, a stolen volume) does not give away users' Gmail, Slack, QuickBooks or
 * Salesforce access. The key is TOKEN_ENCRYPTION_KEY (32 bytes, base64) and must be the same on every
 * replica; without it a key is generated once into the data directory, with a warning (fine for one
 * process on one machine, not for replicas).
 */
export class TokenCipher {
  private constructor(private readonly key: Buffer) {}

  static fromConfig(configured: string | undefined, keyFile: string): TokenCipher {
    if (configured) return new TokenCipher(decodeKey(configured, 'TOKEN_ENCRYPTION_KEY'));
    if (existsSync(keyFile)) return new TokenCipher(decodeKey(readFileSync(keyFile, 'utf8').trim(), keyFile));
    mkdirSync(dirname(keyFile), { recursive: true });
    const key = randomBytes(32);
    try {
      writeFileSync(keyFile, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process on this data directory created it first: use theirs.
      if ((err as { code?: string }).code === 'EEXIST') return new TokenCipher(decodeKey(readFileSync(keyFile, 'utf8').trim(), keyFile));
      throw err;
    }
    chmodSync(keyFile, 0o600);
    new Logger(TokenCipher.name).warn(`TOKEN_ENCRYPTION_KEY is not set: generated a key into ${keyFile}. Set the same key on every replica.`);
    return new TokenCipher(key);
  }

  encrypt(token: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join(':');
  }

  /** The token, or an error that says the key differs (a replica with another TOKEN_ENCRYPTION_KEY). */
  decrypt(stored: string): string {
    const [version, iv, tag, body] = stored.split(':');
    if (version !== VERSION || !iv || !tag || body === undefined) throw new TokenUnreadableError('the stored access token is not in a known format');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new TokenUnreadableError('the stored access token cannot be decrypted with this replica\'s TOKEN_ENCRYPTION_KEY');
    }
  }
}

function decodeKey(value: string, source: string): Buffer {
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32) throw new Error(`${source} must be 32 bytes in base64 (e.g. from: openssl rand -base64 32)`);
  return key;
}
