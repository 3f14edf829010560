import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';

/** What a request Node's HTTP parser refused gets, by the parser's error code. */
const REFUSALS: Record<string, { status: number; errorCode: string; errorMessage: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, errorCode: 'RequestHeaderFieldsTooLarge', errorMessage: '요청 헤더가 너무 큽니다.' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, errorCode: 'RequestTimeout', errorMessage: '요청을 제시간에 받지 못했습니다.' },
};
const MALFORMED = { status: 400, errorCode: 'BadRequest', errorMessage: '요청을 해석할 수 없습니다.' };

const logger = new Logger('HttpServer');

/**
 * Requests that Node's HTTP parser refuses (a request line or headers over its 16 KiB limit,
 * malformed HTTP) never reach Express: without this, Node answers them itself with an empty body
 * and no X-Request-Id. Here they get the error envelope of SPEC §1 like every other error.
 */
export function answerClientErrorsWithEnvelope(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket & { _httpMessage?: { headersSent?: boolean } }) => {
    if (error.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, errorCode, errorMessage } = REFUSALS[error.code ?? ''] ?? MALFORMED;
    const requestId = randomUUID();
    logger.warn({ requestId, code: error.code, status }, 'request refused by the HTTP parser');
    const body = JSON.stringify({ errorCode, errorMessage });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
