import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import express from 'express';
import multer from 'multer';
import { isUtf8 } from 'node:buffer';
import { AppException, errors } from '../errors/app.exception';

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_BODY_DEPTH = 32;
/**
 * The longest list any route takes (a bulk's source or target records, 10,000). Longer arrays are
 * refused here, before validation, which costs per element (a 1 MiB array of zeros in a field
 * took seconds to be told it was too long).
 */
export const MAX_ARRAY_ITEMS = 10_000;

const NUL_MESSAGE = 'NUL 문자는 사용할 수 없습니다.';
const SURROGATE_MESSAGE = '짝이 없는 서로게이트 문자(\\uD800–\\uDFFF)는 사용할 수 없습니다.';
/** A NUL, or half of a surrogate pair (a `u` regex sees a whole pair as one code point). */
const UNSTORABLE = /[\u0000\p{Surrogate}]/u;

/** Why a string cannot be stored as sent: PostgreSQL refuses NUL, and a lone surrogate is no character (validators throw on it). */
function stringProblem(value: string): string | undefined {
  const found = UNSTORABLE.exec(value);
  if (!found) return undefined;
  return found[0] === '\u0000' ? NUL_MESSAGE : SURROGATE_MESSAGE;
}
const DEPTH_MESSAGE = `JSON은 ${MAX_BODY_DEPTH}단계까지만 중첩할 수 있습니다.`;
const ARRAY_MESSAGE = `배열은 최대 ${MAX_ARRAY_ITEMS}개의 항목만 가질 수 있습니다.`;

function isForbiddenKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || key === 'prototype';
}

/**
 * Why a parsed body is refused, or undefined: nesting deeper than MAX_BODY_DEPTH (it would
 * overflow the stack of the validators), keys that reach object prototypes, NUL characters, which
 * PostgreSQL cannot store, and lone surrogates (`"\ud800"` is valid JSON but no text). Iterative, so a hostile body cannot overflow the stack; linear in
 * the body's size, with index loops, and only objects and arrays pushed (as two parallel stacks,
 * no allocation per element), so that a 1 MiB array of numbers costs a walk, not a stack entry each.
 */
export function findBodyProblem(body: unknown): string | undefined {
  if (typeof body === 'string') return stringProblem(body);
  if (body === null || typeof body !== 'object') return undefined;
  const containers: object[] = [body];
  const depths: number[] = [1];
  /** A string's problem; a container is pushed to be walked in its turn. */
  const visit = (child: unknown, depth: number): string | undefined => {
    if (typeof child === 'string') return stringProblem(child);
    if (child !== null && typeof child === 'object') {
      containers.push(child);
      depths.push(depth + 1);
    }
    return undefined;
  };
  while (containers.length > 0) {
    const value = containers.pop()!;
    const depth = depths.pop()!;
    if (depth > MAX_BODY_DEPTH) return DEPTH_MESSAGE;
    if (Array.isArray(value)) {
      if (value.length > MAX_ARRAY_ITEMS) return ARRAY_MESSAGE;
      for (let i = 0; i < value.length; i++) {
        const problem = visit(value[i], depth);
        if (problem) return problem;
      }
      continue;
    }
    const record = value as Record<string, unknown>;
    // for…in rather than Object.keys(): no array of keys allocated for each of a body's objects.
    // JSON.parse makes plain objects, so it visits their own keys (and anything enumerable a
    // polluted Object.prototype would add, which is as well checked).
    for (const key in record) {
      if (isForbiddenKey(key)) return `${key} 키는 사용할 수 없습니다.`;
      const problem = stringProblem(key) ?? visit(record[key], depth);
      if (problem) return problem;
    }
  }
  return undefined;
}

const INVALID_UTF8 = 'invalid.utf8';

const parseJson = express.json({
  limit: MAX_BODY_BYTES,
  strict: true,
  type: () => true,
  // body-parser would decode invalid bytes as U+FFFD and store them: refuse them instead.
  verify: (_req, _res, buffer) => {
    if (!isUtf8(buffer)) throw Object.assign(new Error('invalid UTF-8'), { type: INVALID_UTF8, status: 400 });
  },
});

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** `application/json` (or `application/…+json`), in UTF-8: a charset other than utf-8 is a 415 (SPEC §1). */
function isUtf8Json(req: Request): boolean {
  const [mediaType, ...parameters] = (req.headers['content-type'] ?? '').toLowerCase().split(';');
  const type = mediaType.trim();
  if (type !== 'application/json' && !(type.startsWith('application/') && type.endsWith('+json'))) return false;
  return parameters.every((parameter) => {
    const [name, value = ''] = parameter.split('=').map((part) => part.trim());
    return name !== 'charset' || ['utf-8', 'utf8'].includes(value.replace(/^"(.*)"$/, '$1'));
  });
}

/** body-parser's failure as SPEC §1's error: 413 too large, 400 malformed, 415 another charset or encoding. */
function bodyError(err: { type?: string; status?: number }): Error {
  if (err.type === 'entity.too.large') return new AppException('PayloadTooLarge', '요청 본문이 너무 큽니다. (최대 1 MiB)');
  if (err.type === 'entity.parse.failed') return errors.validation('JSON 형식이 올바르지 않습니다.');
  if (err.type === INVALID_UTF8) return errors.validation('요청 본문이 올바른 UTF-8이 아닙니다.');
  if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') {
    return new AppException('UnsupportedMediaType', '요청 본문은 UTF-8 JSON 이어야 합니다.');
  }
  if (err.status && err.status < 500) return errors.validation('요청 본문을 읽을 수 없습니다.');
  return err as Error;
}

/** Reads and parses a JSON body of up to 1 MiB into req.body, then checks its shape (findBodyProblem). */
export function readJsonBody(req: Request, res: Response): Promise<void> {
  if (!hasBody(req)) return Promise.resolve();
  if (!isUtf8Json(req)) return Promise.reject(new AppException('UnsupportedMediaType', '요청 본문은 UTF-8 application/json 이어야 합니다.'));
  return new Promise((resolve, reject) =>
    parseJson(req, res, (err?: { type?: string; status?: number }) => {
      if (err) return reject(bodyError(err));
      const problem = findBodyProblem(req.body);
      return problem ? reject(errors.validation(problem)) : resolve();
    }),
  );
}

/**
 * The body is read here, a guard that runs after HmacAuthGuard, rather than by a middleware in
 * front of every route, and only for an authenticated caller: one that is not known (no or a
 * malformed Authorization header, a wrong signature) gets its 401 before a byte of its body is
 * read, a path with no route its 404, and a public route (health) takes no body, so an unsigned
 * 1 MiB body costs no parsing (issue 12 §1). For signed requests the body's errors (415, 413,
 * malformed 400) still come before the role check and validation, with SPEC §1's error body, as
 * Nest's own body parser (switched off in createApp) would not give.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  /** The form reader of a `@MultipartBody()` handler (null for JSON), made once per handler. */
  private readonly forms = new WeakMap<object, FormReader | null>();

  constructor(private readonly reflector: Reflector) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    if (!req.caller) return true;
    const form = this.formReader(context);
    if (form) {
      if (!hasBody(req)) return true;
      if (!/^multipart\/form-data\s*;/i.test(req.headers['content-type'] ?? '')) {
        throw new AppException('UnsupportedMediaType', '요청 본문은 multipart/form-data 이어야 합니다.');
      }
      await readForm(form, req, http.getResponse<Response>());
      return true;
    }
    await readJsonBody(req, http.getResponse<Response>());
    return true;
  }

  private formReader(context: ExecutionContext): FormReader | null {
    const handler = context.getHandler();
    let reader = this.forms.get(handler);
    if (reader === undefined) {
      const options = this.reflector.get<MultipartOptions | undefined>(MULTIPART_BODY, handler);
      reader = options ? multer({ storage: multer.memoryStorage(), limits: options.limits }).single(options.file) : null;
      this.forms.set(handler, reader);
    }
    return reader;
  }
}

const MULTIPART_BODY = 'crm:multipartBody';

type FormReader = ReturnType<ReturnType<typeof multer>['single']>;

export interface MultipartOptions {
  /** The form field that carries the one file (`req.file`); the other fields are `req.body`. */
  file: string;
  limits: multer.Options['limits'];
}

/**
 * A route whose body is a `multipart/form-data` upload of one file, read here (in memory, within
 * `limits`) like a JSON body is, before the interceptors: an Idempotency-Key's fingerprint takes the
 * file in.
 */
export const MultipartBody = (options: MultipartOptions) => SetMetadata(MULTIPART_BODY, options);

/** A form's faults as SPEC §1's errors: 413 past a size limit, 400 for the rest. */
function readForm(reader: FormReader, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) =>
    reader(req, res, (err?: unknown) => {
      if (!err) return resolve();
      const code = (err as { code?: string }).code;
      if (code === 'LIMIT_FILE_SIZE') return reject(new AppException('PayloadTooLarge', '파일이 너무 큽니다.'));
      if (err instanceof multer.MulterError) return reject(errors.validation(`폼을 읽을 수 없습니다. (${err.field ? `${err.field}: ` : ''}${err.message})`));
      return reject(errors.validation('multipart/form-data 본문이 올바르지 않습니다.'));
    }),
  );
}