import type { NextFunction, Request, Response } from 'express';
import express from 'express';
import { AppException, errors } from '../errors/app.exception';
import { sendError } from '../errors/all-exceptions.filter';

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_BODY_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Why a parsed body is refused, or undefined: nesting deeper than MAX_BODY_DEPTH (it would
 * overflow the stack of the validators), keys that reach object prototypes, and NUL characters,
 * which PostgreSQL cannot store. Iterative, so a hostile body cannot overflow this either.
 */
export function findBodyProblem(body: unknown): string | undefined {
  const stack: [unknown, number][] = [[body, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return 'NUL 문자는 사용할 수 없습니다.';
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_BODY_DEPTH) return `JSON은 ${MAX_BODY_DEPTH}단계까지만 중첩할 수 있습니다.`;
    for (const [key, child] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(key)) return `${key} 키는 사용할 수 없습니다.`;
      if (key.includes('\u0000')) return 'NUL 문자는 사용할 수 없습니다.';
      stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

const parseJson = express.json({ limit: MAX_BODY_BYTES, strict: true, type: () => true });

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

function isJson(req: Request): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * Parses JSON bodies up to 1 MiB. It stands in for Nest's own body parser so that its failures
 * (415 other content types, 413 too large, 400 malformed) get SPEC §1's body like everything else.
 */
export function jsonBodyMiddleware(req: Request, res: Response, next: NextFunction): void {
  if (!hasBody(req)) return next();
  if (!isJson(req)) return sendError(res, new AppException('UnsupportedMediaType', '요청 본문은 application/json 이어야 합니다.'));
  parseJson(req, res, (err?: { type?: string; status?: number }) => {
    if (!err) {
      const problem = findBodyProblem(req.body);
      return problem ? sendError(res, errors.validation(problem)) : next();
    }
    if (err.type === 'entity.too.large') return sendError(res, new AppException('PayloadTooLarge', '요청 본문이 너무 큽니다. (최대 1 MiB)'));
    if (err.type === 'entity.parse.failed') return sendError(res, errors.validation('JSON 형식이 올바르지 않습니다.'));
    if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') {
      return sendError(res, new AppException('UnsupportedMediaType', '요청 본문은 UTF-8 JSON 이어야 합니다.'));
    }
    if (err.status && err.status < 500) return sendError(res, errors.validation('요청 본문을 읽을 수 없습니다.'));
    next(err);
  });
}
