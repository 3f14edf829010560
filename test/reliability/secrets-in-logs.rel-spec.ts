import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEST_MASTER_KEY } from '../utils/create-app';

/**
 * Run last by test/reliability/run.js, over what the earlier steps wrote: the log lines of every
 * app (in-process, at LOG_LEVEL=trace) and server process of the e2e and reliability suites, and
 * every API secret and webhook signing secret stored in their databases. The one place a secret may appear is the
 * first-start banner SPEC §7 asks for ("printing the key and secret once"), written straight to
 * stdout by src/main.ts and never as a log line.
 */
const LOG_DIR = process.env.CRM_RELIABILITY_LOG_DIR;
const BANNER_LINE = /^\s+apiSecret: \S+$/;

describe('Secrets in the logs of the e2e and reliability runs', () => {
  let lines: string[];
  let secrets: string[];

  beforeAll(() => {
    if (!LOG_DIR) throw new Error('CRM_RELIABILITY_LOG_DIR is not set: run npm run test:reliability');
    const logFiles = fs.readdirSync(LOG_DIR).filter((file) => file.endsWith('.log') && file !== 'secrets-check.log');
    lines = logFiles.flatMap((file) => fs.readFileSync(path.join(LOG_DIR, file), 'utf8').split('\n')).filter(Boolean);
    secrets = [...new Set(fs.readFileSync(path.join(LOG_DIR, 'api-secrets.txt'), 'utf8').split('\n').filter(Boolean))];
    process.stderr.write(`[secrets-in-logs] ${lines.length} lines from ${logFiles.join(', ')}; ${secrets.length} API secrets looked for\n`);
  });

  it('the runs wrote request logs and stored API secrets to look for', () => {
    expect(lines.filter((line) => line.includes('"req":')).length).toBeGreaterThan(1000);
    expect(secrets.length).toBeGreaterThan(100);
  });

  it('no line holds an API secret, except the first-start banner', () => {
    // Secrets are 32 upper-case letters and digits: every such window of every line is looked up.
    const known = new Set(secrets);
    const holdsSecret = (line: string) =>
      [...line.matchAll(/[A-Z0-9]{32,}/g)].some(([run]) => Array.from({ length: run.length - 31 }, (_, i) => run.slice(i, i + 32)).some((w) => known.has(w)));
    expect(lines.filter((line) => !BANNER_LINE.test(line) && holdsSecret(line))).toEqual([]);
  });

  it('no line holds a webhook signing secret (whsec_…), nor its key without the prefix', () => {
    const webhookSecrets = secrets.filter((secret) => !/^[A-Z0-9]{32}$/.test(secret));
    expect(webhookSecrets.length).toBeGreaterThan(0);
    expect(lines.filter((line) => webhookSecrets.some((secret) => line.includes(secret)))).toEqual([]);
  });

  it('no line holds the master key', () => {
    expect(lines.filter((line) => line.includes(TEST_MASTER_KEY))).toEqual([]);
  });

  it('no line holds an Authorization header’s signature', () => {
    expect(lines.filter((line) => /signature=[0-9a-fA-F]{16,}/.test(line) || /HMAC-SHA256 apiKey=/.test(line))).toEqual([]);
  });
});
