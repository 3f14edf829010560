import { createHmac, randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Test } from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import type { IssuedCredentials } from '../../src/modules/accounts/accounts.service';

export type Credentials = Pick<IssuedCredentials, 'apiKey' | 'apiSecret'>;

export interface SignOptions {
  date?: string;
  salt?: string;
}

/** The header of SPEC §2, signed as the Node example of the original document does. */
export function authorization(credentials: Credentials, options: SignOptions = {}): string {
  const date = options.date ?? new Date().toISOString();
  const salt = options.salt ?? randomBytes(16).toString('hex');
  const signature = createHmac('sha256', credentials.apiSecret).update(date + salt).digest('hex');
  return `HMAC-SHA256 apiKey=${credentials.apiKey}, date=${date}, salt=${salt}, signature=${signature}`;
}

type Method = 'get' | 'post' | 'patch' | 'delete' | 'put';

/** A supertest client whose every request is freshly signed with the given key. */
export function signed(server: Parameters<typeof request>[0], credentials: Credentials) {
  const agent: TestAgent = request(server);
  const call = (method: Method, path: string): Test => agent[method](path).set('Authorization', authorization(credentials));
  return {
    get: (path: string) => call('get', path),
    post: (path: string, body?: object) => (body === undefined ? call('post', path) : call('post', path).send(body)),
    patch: (path: string, body?: object) => (body === undefined ? call('patch', path) : call('patch', path).send(body)),
    delete: (path: string, body?: object) => (body === undefined ? call('delete', path) : call('delete', path).send(body)),
  };
}

export type SignedClient = ReturnType<typeof signed>;
