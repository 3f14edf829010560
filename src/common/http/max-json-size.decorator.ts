import { ValidateBy, type ValidationOptions } from 'class-validator';

/** The value, serialized as JSON, takes at most `bytes` bytes of UTF-8. */
export function MaxJsonSize(bytes: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxJsonSize',
      validator: {
        validate: (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8') <= bytes,
        defaultMessage: (args) => `${args?.property}: JSON으로 ${bytes} 바이트 이하여야 합니다.`,
      },
    },
    options,
  );
}
