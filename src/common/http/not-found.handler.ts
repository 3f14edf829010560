import type { Request, Response } from 'express';
import { errors } from '../errors/app.exception';
import { ROUTE_NOT_FOUND, sendError } from '../errors/all-exceptions.filter';

export function notFoundHandler(_req: Request, res: Response): void {
  sendError(res, errors.notFound(ROUTE_NOT_FOUND));
}
