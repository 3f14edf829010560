import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'crm:isPublic';

/** Opts a route out of HMAC authentication (health and docs only). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
