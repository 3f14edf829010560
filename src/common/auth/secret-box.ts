import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for API secrets at rest. The blob is `version | iv | tag | ciphertext`; the
 * associated data (the API key) binds a ciphertext to its row, so a copy in another row fails.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(masterKey: string) {
    this.key = decodeMasterKey(masterKey);
  }

  seal(plaintext: string, associatedData: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ciphertext]);
  }

  /**
   * A token for `message` that only this key makes (HMAC-SHA256, base64url), for a purpose such as
   * a download link: bound to what it names, unguessable, and checked without storing it.
   */
  token(purpose: string, message: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\n${message}`).digest('base64url');
  }

  /** Whether `candidate` is the token of `message` (in constant time). */
  isToken(purpose: string, message: string, candidate: string): boolean {
    const expected = Buffer.from(this.token(purpose, message));
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The plaintext, or undefined when the blob was not sealed by this key for this associated data. */
  open(blob: Buffer, associatedData: string): string | undefined {
    if (blob.length < 1 + IV_BYTES + TAG_BYTES || blob[0] !== VERSION) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, blob.subarray(1, 1 + IV_BYTES));
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(blob.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(blob.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

/** 32 bytes given as 64 hex characters or as base64. */
export function decodeMasterKey(value: string): Buffer {
  const trimmed = value.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new Error('CRM_MASTER_KEY must be 32 bytes, as 64 hex characters or base64');
  return key;
}

/**
 * The master key: CRM_MASTER_KEY when set; with the embedded database, one generated once into
 * `<dataDir>/master.key` (mode 0600). An external database without CRM_MASTER_KEY is refused,
 * since a key generated on one machine would leave the secrets unreadable on the next.
 */
export function resolveMasterKey(config: { masterKey?: string; databaseUrl?: string; dataDir: string }): string {
  if (config.masterKey) {
    decodeMasterKey(config.masterKey);
    return config.masterKey;
  }
  if (config.databaseUrl) throw new Error('CRM_MASTER_KEY is required when DATABASE_URL is set (32 bytes, base64: openssl rand -base64 32)');
  const file = path.join(config.dataDir, 'master.key');
  fs.mkdirSync(config.dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const key = fs.readFileSync(file, 'utf8').trim();
  decodeMasterKey(key);
  return key;
}
