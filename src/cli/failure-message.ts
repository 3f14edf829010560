/** Node's codes for a server that cannot be reached. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT']);

/**
 * What a command-line tool prints on stderr for a failure: never empty (a connection refused on
 * both of localhost's addresses is an AggregateError without a message), said to be a connection
 * failure when it is one, and without the database password should a message ever quote the URL.
 */
export function failureMessage(error: unknown, databaseUrls: (string | undefined)[] = []): string {
  let text = isConnectionFailure(error) ? `cannot connect to the database: ${reason(error)}` : reason(error);
  for (const password of databaseUrls.map(passwordOf)) if (password) text = text.split(password).join('***');
  return text;
}

function reason(error: unknown): string {
  if (error instanceof AggregateError && !error.message) return error.errors.map(reason).join('; ');
  const { message, code } = (error ?? {}) as { message?: string; code?: string };
  return message || code || String(error);
}

/** Unreachable, or refused by the server or a pooler before a session began (SQLSTATE classes 08 and 28, 3D000, 57P03). */
function isConnectionFailure(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isConnectionFailure);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return false;
  return NETWORK_CODES.has(code) || /^(08|28)/.test(code) || code === '3D000' || code === '57P03';
}

function passwordOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}
