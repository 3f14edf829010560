import { ValidateBy, type ValidationOptions } from 'class-validator';
import { ID_PREFIXES, isId, type IdKind } from './ids';

/** A body field holding an ID of the given kind (or, with `{ each: true }`, a list of them). */
export function IsCrmId(kind: IdKind, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCrmId',
      validator: {
        validate: (value: unknown) => isId(value, kind),
        defaultMessage: (args) => `${args?.property}: ${ID_PREFIXES[kind]}로 시작하는 32자리 ID여야 합니다.`,
      },
    },
    options,
  );
}
