import { ValidationError, ValidationPipe } from '@nestjs/common';
import { errors } from '../errors/app.exception';

function describe(error: ValidationError, parent = ''): string[] {
  const path = parent ? `${parent}.${error.property}` : error.property;
  const own = Object.values(error.constraints ?? {}).map((message) => (message.startsWith(path) ? message : `${path}: ${message}`));
  return [...own, ...(error.children ?? []).flatMap((child) => describe(child, path))];
}

/** Whitelisting, transforming validation whose failures are 400 `ValidationError` naming each field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (validationErrors) => errors.validation(validationErrors.flatMap((e) => describe(e)).slice(0, 10).join('; ')),
  });
}
