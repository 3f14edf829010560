export const FIELD_TYPES = ['TEXT', 'TEXTAREA', 'NUMBER', 'PHONE', 'EMAIL', 'CHECKBOX', 'MULTI_CHECKBOX', 'DATE', 'DATETIME', 'DROPDOWN', 'RADIO', 'URL'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** Field types whose values are chosen from `options`. */
export const OPTION_FIELD_TYPES: readonly FieldType[] = ['DROPDOWN', 'RADIO', 'MULTI_CHECKBOX'];

export interface PropertyOption {
  label: string;
  value: string;
  priority: number;
}
