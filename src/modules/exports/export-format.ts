import type { FieldType } from '../properties/field-types';
import type { RecordEntity } from '../records/record.entity';

/** A column of an export: the record's own fields first, then the chosen properties by name. */
export interface ExportColumn {
  header: string;
  value: (record: RecordEntity) => string | number | boolean | null;
}

/** A text cell a spreadsheet would read as a formula (SPEC §12): `=`, `+`, `-`, `@`, tab or carriage return first. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A text cell as CSV writes it: a leading apostrophe keeps a spreadsheet from running it (OWASP's CSV injection advice). */
export function escapeFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** One cell of a property, by its type: several values joined with `;`, numbers and booleans as they are, everything else as text. */
function propertyCell(fieldType: FieldType, value: unknown): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.join(';');
  if (fieldType === 'NUMBER' && typeof value === 'number') return value;
  if (fieldType === 'CHECKBOX' && typeof value === 'boolean') return value;
  return String(value);
}

export function exportColumns(properties: readonly { propertyId: string; name: string; fieldType: FieldType }[]): ExportColumn[] {
  return [
    { header: 'recordId', value: (r) => r.recordId },
    { header: 'name', value: (r) => r.name },
    { header: 'tags', value: (r) => r.tags.join(';') },
    { header: 'dateCreated', value: (r) => r.dateCreated.toISOString() },
    { header: 'dateUpdated', value: (r) => r.dateUpdated.toISOString() },
    ...properties.map((p): ExportColumn => ({ header: p.name, value: (r) => propertyCell(p.fieldType, r.data[p.propertyId]) })),
  ];
}

/** A row for CSV: text escaped against formulas, numbers and booleans as they are, nothing as an empty cell. */
export function csvRow(cells: (string | number | boolean | null)[]): (string | number | boolean)[] {
  return cells.map((cell) => (cell === null ? '' : typeof cell === 'string' ? escapeFormula(cell) : cell));
}
