export const API_PREFIX = 'crm-core/v1';
