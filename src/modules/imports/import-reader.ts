import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import { Readable } from 'node:stream';

/** A cell as read: text, a number, a boolean or a date (Excel's typed cells); null when empty. */
export type Cell = string | number | boolean | Date | null;

/** What a file may hold at most: more is refused as a whole (a clear job error, never memory past the process's bound). */
export const READ_LIMITS = { columns: 1_000, rowBytes: 2 * 1024 * 1024, unzippedBytes: 200 * 1024 * 1024, zipEntries: 10_000 } as const;

/** A fault of the file as a whole (not of a row): the job fails with its message. */
export class UnreadableFile extends Error {}

/** The rows of a CSV, header first: UTF-8 with or without a BOM, any of `\r\n`, `\n` and `\r` between rows. */
async function* csvRows(bytes: Buffer): AsyncGenerator<Cell[]> {
  const parser = Readable.from([bytes]).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, record_delimiter: ['\r\n', '\n', '\r'], max_record_size: READ_LIMITS.rowBytes }),
  );
  try {
    for await (const record of parser as AsyncIterable<string[]>) yield record.map((cell) => (cell === '' ? null : cell));
  } catch (error) {
    throw new UnreadableFile(`CSV를 읽을 수 없습니다: ${(error as Error).message}`);
  }
}

/**
 * Refuses a zip whose directory promises more than the bounds (a zip bomb) or that is no zip at all,
 * before a byte is inflated. Zip64 entries (over 4 GB) are refused too: no real 10 MB sheet needs them.
 */
export function checkZip(bytes: Buffer): void {
  const tail = bytes.subarray(Math.max(0, bytes.length - 65_557));
  const at = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (at < 0 || tail.length - at < 22) throw new UnreadableFile('.xlsx 파일이 아닙니다 (zip이 아님).');
  const entries = tail.readUInt16LE(at + 10);
  const directoryOffset = tail.readUInt32LE(at + 16);
  if (entries > READ_LIMITS.zipEntries) throw new UnreadableFile('.xlsx 파일의 항목이 너무 많습니다.');
  let offset = directoryOffset;
  let unzipped = 0;
  for (let i = 0; i < entries; i++) {
    if (offset + 46 > bytes.length || bytes.readUInt32LE(offset) !== 0x02014b50) throw new UnreadableFile('.xlsx 파일이 손상되었습니다.');
    const size = bytes.readUInt32LE(offset + 24);
    if (size === 0xffffffff) throw new UnreadableFile('.xlsx 파일이 너무 큽니다.');
    unzipped += size;
    if (unzipped > READ_LIMITS.unzippedBytes) throw new UnreadableFile(`.xlsx 파일의 압축을 풀면 ${READ_LIMITS.unzippedBytes / 2 ** 20} MB를 넘습니다.`);
    offset += 46 + bytes.readUInt16LE(offset + 28) + bytes.readUInt16LE(offset + 30) + bytes.readUInt16LE(offset + 32);
  }
}

/** What a typed Excel cell holds: a formula's cached result (never evaluated), rich text as its text, a link as its text. */
function excelCell(value: ExcelJS.CellValue): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) return value === '' ? null : value;
  if ('result' in value) return excelCell((value.result ?? null) as ExcelJS.CellValue);
  if ('formula' in value || 'sharedFormula' in value) return null;
  if ('richText' in value) return value.richText.map((r) => r.text).join('');
  if ('text' in value) return String(value.text);
  return null;
}

/** The rows of an .xlsx's first sheet, header first, read as a stream. */
async function* excelRows(bytes: Buffer): AsyncGenerator<Cell[]> {
  checkZip(bytes);
  try {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([bytes]), { sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'ignore', worksheets: 'emit', entries: 'emit' });
    for await (const sheet of reader) {
      for await (const row of sheet) {
        // exceljs's row.values is 1-based.
        const values = (row.values as ExcelJS.CellValue[]).slice(1);
        yield Array.from({ length: values.length }, (_, i) => excelCell(values[i]));
      }
      return;
    }
  } catch (error) {
    if (error instanceof UnreadableFile) throw error;
    throw new UnreadableFile(`.xlsx 파일을 읽을 수 없습니다: ${(error as Error).message}`);
  }
}

/** The file's rows, header first; columns past READ_LIMITS.columns make it unreadable. */
export async function* readRows(bytes: Buffer, format: 'csv' | 'excel'): AsyncGenerator<Cell[]> {
  for await (const row of format === 'csv' ? csvRows(bytes) : excelRows(bytes)) {
    if (row.length > READ_LIMITS.columns) throw new UnreadableFile(`열은 최대 ${READ_LIMITS.columns}개입니다.`);
    yield row;
  }
}
