import { ValidateIf } from 'class-validator';

/**
 * May be left out, but not set to null: unlike class-validator's @IsOptional(), a null still
 * meets the field's validators (and fails them). For PATCH fields whose column is NOT NULL.
 */
export const IsOptionalNotNull = () => ValidateIf((_object, value) => value !== undefined);
