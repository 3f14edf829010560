import { generateId, ID_PREFIXES, isId, type IdKind } from './ids';

describe('IDs', () => {
  const kinds = Object.keys(ID_PREFIXES) as IdKind[];

  it.each(kinds)('a generated %s ID has the 32-character shape of SPEC §1 and validates', (kind) => {
    const id = generateId(kind);
    expect(id).toHaveLength(32);
    expect(id).toMatch(new RegExp(`^${ID_PREFIXES[kind]}1\\d{15}[A-Z0-9]{11}$`));
    expect(isId(id, kind)).toBe(true);
  });

  it('gives every kind its own five-letter prefix', () => {
    const prefixes = Object.values(ID_PREFIXES);
    for (const prefix of prefixes) expect(prefix).toMatch(/^[A-Z]{5}$/);
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });

  it('encodes the UTC creation time as yyMMddHHmmssSSS', () => {
    const at = new Date(Date.UTC(2026, 3, 23, 9, 15, 30, 123));
    const id = generateId('relationshipType', at);
    expect(id.slice(0, 21)).toBe('CRMRT1260423091530123');
  });

  it('accepts the example ID of SPEC §1', () => {
    expect(isId('CRMRT1260423091530123RTP11122233', 'relationshipType')).toBe(true);
  });

  it('rejects a right-shaped ID with another prefix', () => {
    expect(isId(generateId('record'), 'relationship')).toBe(false);
  });

  it.each([
    ['too short', 'CRMRT1260423091530123RTP1112223'],
    ['too long', 'CRMRT1260423091530123RTP111222333'],
    ['lowercase tail', 'CRMRT1260423091530123rtp11122233'],
    ['version digit not 1', 'CRMRT2260423091530123RTP11122233'],
    ['month 13', 'CRMRT1261323091530123RTP11122233'],
    ['30 February', 'CRMRT1260230091530123RTP11122233'],
    ['hour 24', 'CRMRT1260423241530123RTP11122233'],
    ['SQL fragment', "CRMRT1260423091530123' OR 1=1--"],
    ['not a string', 42],
  ])('rejects %s', (_label, value) => {
    expect(isId(value, 'relationshipType')).toBe(false);
  });

  it('draws the 11-character tail uniformly from [A-Z0-9] in each new millisecond', () => {
    const counts = new Map<string, number>();
    const samples = 4000;
    for (let i = 0; i < samples; i++) {
      for (const ch of generateId('record', new Date(Date.UTC(2026, 0, 1) + i)).slice(21)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(counts.size).toBe(36);
    const expected = (samples * 11) / 36;
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(expected * 0.8);
      expect(n).toBeLessThan(expected * 1.2);
    }
    const ids = new Set(Array.from({ length: 10000 }, () => generateId('record')));
    expect(ids.size).toBe(10000);
  });

  it('counts up within one millisecond, so IDs made together sort in creation order', () => {
    const at = new Date(Date.UTC(2026, 5, 1));
    const ids = Array.from({ length: 1000 }, () => generateId('property', at));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
  });
});
