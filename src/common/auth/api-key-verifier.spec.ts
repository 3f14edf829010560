import { createHmac } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ApiKeyVerifier } from './api-key-verifier';
import type { HmacCredentials } from './authorization-header';
import { SecretBox } from './secret-box';

jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, createHmac: jest.fn(actual.createHmac) };
});

const MASTER_KEY = Buffer.alloc(32, 9).toString('base64');

function credentials(apiKey: string): HmacCredentials {
  return { apiKey, date: new Date().toISOString(), salt: 'salt-of-twelve', signature: 'ab'.repeat(32) } as HmacCredentials;
}

/** A verifier over a database whose key lookup answers `rows`. */
function verifierFinding(rows: unknown[]) {
  const secrets = new SecretBox(MASTER_KEY);
  const dataSource = { query: jest.fn().mockResolvedValue(rows) } as unknown as DataSource;
  return { verifier: new ApiKeyVerifier(dataSource, secrets), secrets };
}

describe('ApiKeyVerifier: the same work for every refused key (issue 12 §5)', () => {
  afterEach(() => jest.clearAllMocks());

  it('an unknown key costs a decryption and an HMAC, as a wrong signature on a real key does', async () => {
    const { verifier, secrets } = verifierFinding([]);
    const open = jest.spyOn(secrets, 'open');
    await expect(verifier.verify(credentials('NCSUNKNOWNKEY0001'), Date.now())).resolves.toEqual({ ok: false, reason: 'InvalidAPIKey' });
    expect(open).toHaveBeenCalledTimes(1);
    expect(open.mock.results[0].value).toEqual(expect.any(String));
    expect(createHmac).toHaveBeenCalledTimes(1);
  });

  it('a revoked key costs the same, and is still refused as revoked', async () => {
    const secrets = new SecretBox(MASTER_KEY);
    const row = {
      account_id: 'a', member_id: 'm', key_role: 'OWNER', member_role: 'OWNER', member_status: 'ACTIVE', account_status: 'ACTIVE',
      date_revoked: new Date(), secret_encrypted: secrets.seal('S'.repeat(32), 'NCSREVOKEDKEY0001'),
    };
    const { verifier, secrets: box } = verifierFinding([row]);
    const open = jest.spyOn(box, 'open');
    // The row was sealed by another SecretBox over the same master key: it opens here too.
    await expect(verifier.verify(credentials('NCSREVOKEDKEY0001'), Date.now())).resolves.toEqual({ ok: false, reason: 'RevokedAPIKey' });
    expect(open.mock.results[0].value).toBe('S'.repeat(32));
    expect(createHmac).toHaveBeenCalledTimes(1);
  });
});
