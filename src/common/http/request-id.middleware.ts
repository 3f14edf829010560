import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** Short and plain, so a client's id cannot forge log fields or smuggle markup into a log viewer (issue 12 §5). */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Takes the client's `X-Request-Id` when it is well-formed, otherwise makes one; always answers it. */
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const given = req.headers['x-request-id'];
  req.id = typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', req.id);
  next();
}
