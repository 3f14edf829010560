/** What Swagger UI hands its `requestInterceptor` (the parts this one touches). */
export interface SwaggerUiRequest {
  url: string;
  headers: Record<string, string>;
}

/** The names of the two Authorize-dialog fields the page signs with; never sent as headers. */
export const SIGNING_SCHEMES = { apiKey: 'apiKey', apiSecret: 'apiSecret' } as const;

/**
 * Swagger UI's `requestInterceptor`: signs each call to the API with the key and secret entered in
 * the Authorize dialog, as a client does (see docs/authentication.md). It runs in the browser:
 * @nestjs/swagger writes it into swagger-ui-init.js with `Function.prototype.toString()`, so it
 * must not reach anything outside its own body (no imports, no module-level helpers). The two
 * schemes are in no operation's security requirement, so Swagger UI keeps them in the page and
 * never sends the secret; the interceptor reads them from the UI's state (`window.ui`).
 * Web Crypto's `crypto.subtle` exists only in a secure context: https, or http on localhost.
 */
export async function signSwaggerUiRequest(request: SwaggerUiRequest): Promise<SwaggerUiRequest> {
  if (!new URL(request.url, 'http://localhost').pathname.startsWith('/crm-core/v1/')) return request;
  const page = globalThis as unknown as { ui?: { authSelectors: { authorized(): { toJS(): Record<string, { value?: string } | undefined> } } } };
  const authorized = page.ui?.authSelectors.authorized().toJS() ?? {};
  const apiKey = authorized['apiKey']?.value?.trim();
  const apiSecret = authorized['apiSecret']?.value?.trim();
  if (!apiKey || !apiSecret) return request; // unsigned: the API answers 401, which tells the user what is missing
  if (!globalThis.crypto?.subtle) {
    // Throwing here would break Swagger UI's response panel; the call goes unsigned (401) instead.
    (globalThis as { alert?: (message: string) => void }).alert?.('This page cannot sign: browsers give Web Crypto only to secure pages. Open /docs over https, or on localhost.');
    return request;
  }
  const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const date = new Date().toISOString();
  const salt = hex(globalThis.crypto.getRandomValues(new Uint8Array(16)));
  const encoder = new TextEncoder();
  const key = await globalThis.crypto.subtle.importKey('raw', encoder.encode(apiSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const signature = hex(new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, encoder.encode(date + salt))));
  request.headers['Authorization'] = `HMAC-SHA256 apiKey=${apiKey}, date=${date}, salt=${salt}, signature=${signature}`;
  return request;
}
