import { DomainError } from '../../domain/errors';
import { DOCUMENT_ISSUERS, DOCUMENT_TYPES, DocumentNumberText, DocumentRef, documentIdentity, documentKey, parseDocumentNumber } from '../../domain/documents';

function reason(input: string): string {
  try {
    parseDocumentNumber(input);
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    const err = e as DomainError;
    for (const i of err.issues) expect(i.path).toBe('documentNumber');
    return err.issues.map((i) => i.message).join(' | ');
  }
  throw new Error(`expected "${input}" to be rejected`);
}

const text = (input: string): string => parseDocumentNumber(input).text;

describe('the sets', () => {
  it('has every type with its Vietnamese name', () => {
    expect(Object.keys(DOCUMENT_TYPES).sort()).toEqual(['BC', 'CT', 'CTHĐ', 'CTr', 'CV', 'HD', 'KH', 'KL', 'NQ', 'QC', 'QĐ', 'QĐi', 'TB', 'TT', 'TTr', 'ĐA'].sort());
    expect(DOCUMENT_TYPES.NQ).toBe('nghị quyết');
    expect(DOCUMENT_TYPES.CTHĐ).toBe('chương trình hành động');
    expect(DOCUMENT_TYPES.QĐi).toBe('quy định');
  });
  it('has the issuers the brief names', () => {
    for (const k of ['TW', 'TU', 'HU', 'QU', 'TxU', 'ThU', 'ĐU', 'ĐUK', 'BTG', 'BTC', 'BDV', 'UBKT', 'VPTW', 'VPTU', 'BCSĐ', 'ĐĐ', 'BCĐ']) expect(DOCUMENT_ISSUERS).toHaveProperty(k);
  });
  it('codes are NFC and unique ignoring case (so case-insensitive input is unambiguous)', () => {
    for (const set of [DOCUMENT_TYPES, DOCUMENT_ISSUERS]) {
      const keys = Object.keys(set);
      for (const k of keys) expect(k).toBe(k.normalize('NFC'));
      expect(new Set(keys.map((k) => k.toUpperCase())).size).toBe(keys.length);
      for (const name of Object.values(set)) expect(name).toBe(name.normalize('NFC'));
    }
  });
});

describe('parseDocumentNumber', () => {
  it.each([
    ['21-NQ/TW', 21, '21', 'NQ', 'TW'],
    ['45-KH/TU', 45, '45', 'KH', 'TU'],
    ['26-CT/TU', 26, '26', 'CT', 'TU'],
    ['38-HD/BTG', 38, '38', 'HD', 'BTG'],
    ['1014-CV/TU', 1014, '1014', 'CV', 'TU'],
    ['25-CTr/TU', 25, '25', 'CTr', 'TU'],
    ['09-KH/ĐU', 9, '09', 'KH', 'ĐU'],
  ])('parses %s', (input, number, numberText, type, issuer) => {
    expect(parseDocumentNumber(input)).toEqual({ number, numberText, type, issuer, text: input });
  });

  it('keeps leading zeros for display, not for identity', () => {
    expect(parseDocumentNumber('09-KH/ĐU')).toMatchObject({ number: 9, numberText: '09', text: '09-KH/ĐU' });
    expect(parseDocumentNumber('9-KH/ĐU').number).toBe(9);
  });

  describe('normalisation', () => {
    it('NFC: a decomposed Đ/Ư is composed first', () => {
      expect(text('09-KH/ĐU'.normalize('NFD'))).toBe('09-KH/ĐU');
      expect(text('21-NQ/TƯ'.normalize('NFD'))).toBe('21-NQ/TW');
    });
    it('trims', () => {
      expect(text('  21-NQ/TW \n')).toBe('21-NQ/TW');
    });
    it('strips a leading "Số:" in its forms', () => {
      expect(text('Số: 21-NQ/TƯ')).toBe('21-NQ/TW');
      expect(text('Số:21-NQ/TW')).toBe('21-NQ/TW');
      expect(text('số 21-NQ/TW')).toBe('21-NQ/TW');
      expect(text('SỐ 21-NQ/TW')).toBe('21-NQ/TW');
      expect(text('Số21-NQ/TW')).toBe('21-NQ/TW');
      expect(text('Số : 21-NQ/TW')).toBe('21-NQ/TW');
    });
    it('collapses whitespace around - and /', () => {
      expect(text('21 - NQ / TW')).toBe('21-NQ/TW');
      expect(text('45 -KH/ TU')).toBe('45-KH/TU');
      expect(text('21–NQ/TW')).toBe('21-NQ/TW'); // en dash from copy-paste
    });
    it('TƯ (the press) → TW', () => {
      expect(text('21-NQ/TƯ')).toBe('21-NQ/TW');
      expect(text('21-NQ/tư')).toBe('21-NQ/TW');
    });
    it('D typed for Đ is fixed when only the Đ form is valid', () => {
      expect(text('09-KH/DU')).toBe('09-KH/ĐU');
      expect(text('12-QD/TW')).toBe('12-QĐ/TW');
      expect(text('12-QDi/TW')).toBe('12-QĐi/TW');
      expect(text('3-CTHD/TU')).toBe('3-CTHĐ/TU');
      expect(text('7-DA/TU')).toBe('7-ĐA/TU');
      expect(text('5-NQ/BCSD')).toBe('5-NQ/BCSĐ');
      expect(text('5-NQ/DD')).toBe('5-NQ/ĐĐ');
      expect(text('5-KH/DUK')).toBe('5-KH/ĐUK');
      expect(text('5-KH/BCD')).toBe('5-KH/BCĐ');
    });
    it('a token valid as typed is left alone', () => {
      expect(text('38-HD/BTG')).toBe('38-HD/BTG'); // hướng dẫn, not HĐ
      expect(text('4-HD/BDV')).toBe('4-HD/BDV'); // Ban Dân vận keeps its D
    });
    it('case-insensitive input, canonical output', () => {
      expect(text('25-ctr/tu')).toBe('25-CTr/TU');
      expect(text('2-qdi/tw')).toBe('2-QĐi/TW');
      expect(text('2-qđi/tw')).toBe('2-QĐi/TW');
      expect(text('3-KH/txu')).toBe('3-KH/TxU');
      expect(text('3-KH/THU')).toBe('3-KH/ThU');
      expect(text('3-tTR/đu')).toBe('3-TTr/ĐU');
    });
  });

  describe('errors say what is wrong and what is expected', () => {
    it('empty', () => {
      expect(reason('')).toBe('empty document number (expected number-TYPE/ISSUER, e.g. 21-NQ/TW)');
      expect(reason('  Số:  ')).toBe('empty document number (expected number-TYPE/ISSUER, e.g. 21-NQ/TW)');
    });
    it("missing '-'", () => {
      expect(reason('21NQ/TW')).toBe(`"21NQ/TW": missing '-' between the number and the type (expected number-TYPE/ISSUER, e.g. 21-NQ/TW)`);
    });
    it("missing '/'", () => {
      expect(reason('21-NQ TW')).toBe(`"21-NQ TW": missing '/' between the type and the issuer (expected number-TYPE/ISSUER, e.g. 21-NQ/TW)`);
      expect(reason('NQ/TW-21')).toContain('the number must come first');
    });
    it('non-numeric or zero number', () => {
      expect(reason('2a-NQ/TW')).toBe('"2a-NQ/TW": number "2a" is not a whole number (expected digits, e.g. 21 or 09)');
      expect(reason('-NQ/TW')).toBe(`"-NQ/TW": missing the number before '-' (expected number-TYPE/ISSUER, e.g. 21-NQ/TW)`);
      expect(reason('0-NQ/TW')).toBe('"0-NQ/TW": number "0" must be positive (numbers start at 1)');
    });
    it('unknown type, listing the types', () => {
      expect(reason('21-XX/TW')).toBe(`"21-XX/TW": unknown document type "XX" (expected one of ${Object.keys(DOCUMENT_TYPES).join(', ')})`);
      expect(reason('21-XX/TW')).toContain('NQ, CT, KL, QĐ, QĐi');
    });
    it('unknown issuer, listing the issuers', () => {
      expect(reason('45-KH/XYZ')).toBe(`"45-KH/XYZ": unknown issuer "XYZ" (expected one of ${Object.keys(DOCUMENT_ISSUERS).join(', ')})`);
      expect(reason('45-KH/XYZ')).toContain('(expected one of TW, TU, ThU, HU, QU, TxU, ĐU,');
    });
    it('reports number, type and issuer problems together', () => {
      const e = (() => {
        try {
          parseDocumentNumber('x-YY/ZZ');
        } catch (err) {
          return err as DomainError;
        }
        throw new Error('not rejected');
      })();
      expect(e.issues).toHaveLength(3);
      expect(e.message).toMatch(/^3 problems:\n {2}- documentNumber: "x-YY\/ZZ": number "x"/);
    });
    it('only D→Đ, never Đ→D', () => {
      expect(reason('38-HĐ/BTG')).toContain('unknown document type "HĐ"');
    });
  });
});

describe('zod schemas', () => {
  it('DocumentNumberText canonicalises', () => {
    expect(DocumentNumberText.parse('Số: 21-NQ/TƯ')).toBe('21-NQ/TW');
  });
  it('DocumentNumberText reports the reason as the zod issue', () => {
    const r = DocumentNumberText.safeParse('45-KH/XYZ');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toContain('unknown issuer "XYZ" (expected one of TW, TU');
  });
  it('DocumentRef is strict and checks the date', () => {
    expect(DocumentRef.parse({ number: '09-kh/du', date: '2022-08-15' })).toEqual({ number: '09-KH/ĐU', date: '2022-08-15' });
    expect(DocumentRef.safeParse({ number: '21-NQ/TW', date: '2022-02-30' }).success).toBe(false);
    expect(DocumentRef.safeParse({ number: '21-NQ/TW', date: '2022-06-16', title: 'x' }).success).toBe(false);
  });
});

describe('identity', () => {
  it('is issuer + type + number + date', () => {
    expect(documentIdentity({ number: '21-NQ/TW', date: '2022-06-16' })).toEqual({ issuer: 'TW', type: 'NQ', number: 21, date: '2022-06-16' });
    expect(documentKey({ number: '21-NQ/TW', date: '2022-06-16' })).toBe('TW/NQ/21/2022-06-16');
  });
  it('the same number in two terms is two documents', () => {
    expect(documentKey({ number: '01-CT/TW', date: '2021-03-01' })).not.toBe(documentKey({ number: '01-CT/TW', date: '2026-03-01' }));
  });
  it('spelling variants of one document share a key', () => {
    expect(documentKey({ number: 'Số: 09-KH/DU', date: '2022-08-15' })).toBe(documentKey({ number: '9-KH/ĐU', date: '2022-08-15' }));
    expect(documentKey({ number: '09-KH/ĐU', date: '2022-08-15' })).toBe('ĐU/KH/9/2022-08-15');
  });
  it('rejects a bad date', () => {
    expect(() => documentKey({ number: '21-NQ/TW', date: '2022-13-01' })).toThrow(DomainError);
  });
});
