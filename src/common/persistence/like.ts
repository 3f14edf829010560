/** A case-insensitive substring pattern for ILIKE … ESCAPE '\', with the user's wildcards escaped. */
export function containsPattern(keyword: string): string {
  return `%${keyword.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
