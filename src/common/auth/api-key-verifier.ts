import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { BoundedMap } from '../collections/bounded-map';
import type { AuthenticatedCaller } from './authenticated-caller';
import type { HmacCredentials } from './authorization-header';
import { lowerRole, type Role } from './roles';
import { SecretBox } from './secret-box';

/** How far a request's `date` may be from the server clock, either way (SPEC §2). */
export const SIGNATURE_WINDOW_MS = 15 * 60 * 1000;
/**
 * Kept past the window by a margin, because the window is checked on each instance's clock and
 * the purge on the database's: instances whose clocks stray from the database's by less than the
 * margin can never accept a purged signature. Keep clocks synchronised (NTP).
 */
const REPLAY_RETENTION_MS = SIGNATURE_WINDOW_MS + 5 * 60 * 1000;
const PURGE_INTERVAL_MS = 60 * 1000;
const PURGE_BATCH = 5000;

export type VerifyFailure = 'InvalidAPIKey' | 'RevokedAPIKey' | 'DisabledMember' | 'DisabledAccount' | 'SignatureDoesNotMatch' | 'DuplicatedSignature';

/** Associated data of the decoy secret: no API key has this shape, so no stored secret opens with it. */
const DECOY_ASSOCIATED_DATA = 'decoy';

/** Decrypted secrets kept, by API key, so that a known key's request costs one statement. */
const OPENED_SECRETS_MAX = 10_000;

export type Verification = { ok: true; caller: AuthenticatedCaller } | { ok: false; reason: VerifyFailure };

/** What decides whether a key may act, and as whom: read afresh on every request. */
interface KeyState {
  account_id: string;
  member_id: string;
  key_role: Role;
  member_role: Role;
  member_status: string;
  account_status: string;
  date_revoked: Date | null;
}

/** Why the key's state refuses the request, checked in a fixed order; undefined when it allows it. */
function refusal(row: KeyState | undefined): VerifyFailure | undefined {
  if (!row) return 'InvalidAPIKey';
  if (row.date_revoked) return 'RevokedAPIKey';
  if (row.account_status !== 'ACTIVE') return 'DisabledAccount';
  if (row.member_status !== 'ACTIVE') return 'DisabledMember';
  return undefined;
}

function callerOf(row: KeyState, apiKey: string): AuthenticatedCaller {
  return { accountId: row.account_id, memberId: row.member_id, role: lowerRole(row.key_role, row.member_role), apiKey };
}

/**
 * Resolves a signed request's key and claims its signature. The key's status and roles are read on
 * every request, so a revoked key, a demoted member or a disabled account takes effect on the next
 * request, on every instance. Only a key's decrypted secret is remembered, once a signature has
 * matched it: a key's secret never changes, and it decides nothing on its own.
 */
@Injectable()
export class ApiKeyVerifier implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ApiKeyVerifier');
  private purgeTimer?: NodeJS.Timeout;
  private readonly openedSecrets = new BoundedMap<string, string>(OPENED_SECRETS_MAX);
  /** A secret sealed like a stored one, that no key has: what an unknown key's request decrypts and signs with. */
  private readonly decoy: Buffer;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(SecretBox) private readonly secrets: SecretBox,
  ) {
    this.decoy = secrets.seal(randomBytes(16).toString('hex').toUpperCase(), DECOY_ASSOCIATED_DATA);
  }

  async verify(credentials: HmacCredentials, dateMs: number): Promise<Verification> {
    const secret = this.openedSecrets.get(credentials.apiKey);
    if (secret !== undefined && signatureMatches(secret, credentials)) return this.claim(credentials, dateMs);
    const [row]: (KeyState & { secret_encrypted: Buffer })[] = await this.dataSource.query(
      `SELECT k.account_id, k.member_id, k.role AS key_role, m.role AS member_role, m.status AS member_status,
              a.status AS account_status, k.date_revoked, k.secret_encrypted
         FROM api_keys k
         JOIN members m ON m.account_id = k.account_id AND m.member_id = k.member_id
         JOIN accounts a ON a.account_id = k.account_id
        WHERE k.api_key = $1`,
      [credentials.apiKey],
    );
    // Decrypt and sign before looking at the refusal: an unknown key opens the decoy instead, so
    // that no refusal answers measurably sooner than a wrong signature on a real key (issue 12 §5).
    const opened = row ? this.secrets.open(row.secret_encrypted, credentials.apiKey) : this.secrets.open(this.decoy, DECOY_ASSOCIATED_DATA);
    const matches = signatureMatches(opened ?? '', credentials);
    const refused = refusal(row);
    if (refused) return { ok: false, reason: refused };
    if (opened === undefined) {
      this.logger.error({ apiKey: credentials.apiKey }, 'stored API secret does not open under the master key');
      return { ok: false, reason: 'InvalidAPIKey' };
    }
    if (!matches) return { ok: false, reason: 'SignatureDoesNotMatch' };
    this.openedSecrets.set(credentials.apiKey, opened);
    return this.claim(credentials, dateMs);
  }

  /**
   * For a signature that matched the key's secret: one statement (crm_claim_signature, migration
   * HotPathFunctions) reads the key's status and roles and claims the signature when they allow it,
   * so revocations and role changes hold on the next request even for a remembered secret. The
   * claim is an insert that fails on a duplicate: the database decides, so a copy sent to another
   * instance is refused too. A signature that does not match a remembered secret takes the full
   * path, which answers the refusals in their usual order.
   */
  private async claim(credentials: HmacCredentials, dateMs: number): Promise<Verification> {
    const [row]: (KeyState & { claimed: boolean })[] = await this.dataSource.query(`SELECT * FROM crm_claim_signature($1, $2, $3)`, [
      credentials.apiKey,
      credentials.signature,
      new Date(dateMs + REPLAY_RETENTION_MS),
    ]);
    const refused = refusal(row);
    if (refused) return { ok: false, reason: refused };
    if (!row.claimed) return { ok: false, reason: 'DuplicatedSignature' };
    return { ok: true, caller: callerOf(row, credentials.apiKey) };
  }

  onModuleInit(): void {
    this.purgeTimer = setInterval(() => void this.purgeExpired(), PURGE_INTERVAL_MS);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  /** Deletes signatures whose date has left the window, in small batches that never block requests. */
  async purgeExpired(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const result: [unknown[], number] = await this.dataSource.query(
          `DELETE FROM request_signatures WHERE ctid = ANY (ARRAY(
             SELECT ctid FROM request_signatures WHERE expires_at < now() LIMIT ${PURGE_BATCH} FOR UPDATE SKIP LOCKED))`,
        );
        total += result[1];
        if (result[1] < PURGE_BATCH) return total;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'purging expired signatures failed; will retry');
      return total;
    }
  }
}

/** hex(HMAC-SHA256(secret, date + salt)), compared in constant time (both are 32 bytes here). */
function signatureMatches(secret: string, credentials: HmacCredentials): boolean {
  const expected = createHmac('sha256', secret).update(credentials.date + credentials.salt).digest();
  const given = Buffer.from(credentials.signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
