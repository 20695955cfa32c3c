import { Text, unstorableText } from '../../domain/text';
import { LocalDate } from '../../domain/time';

const one = Text({ max: 20 });
const many = Text({ max: 50, multiline: true });
const issue = (schema: typeof one, value: unknown): string | undefined => {
  const r = schema.safeParse(value);
  return r.success ? undefined : r.error.issues[0]!.message;
};

test('text PostgreSQL cannot store is refused, naming the character and where it is', () => {
  expect(issue(one, 'Thường\u0000trực')).toMatch(/NUL character \(U\+0000\) at position 7/);
  expect(issue(one, 'a\ud800b')).toMatch(/lone surrogate \(U\+D800\) at position 2/);
  expect(issue(one, '\udc00')).toMatch(/lone surrogate \(U\+DC00\)/);
  expect(issue(one, 'a\u0007')).toMatch(/control character \(U\+0007\)/);
  expect(issue(one, 'hai\ndòng')).toMatch(/line break .*one line/);
  expect(issue(many, 'hai\ndòng\tcột')).toBeUndefined();
  expect(issue(many, 'x\u0000')).toMatch(/NUL/);
  expect(issue(one, '\uffff')).toMatch(/U\+FFFF/);
  // What a decoder leaves where bytes were not text: "T\uFFFDnh" from a Windows-1258 file.
  expect(issue(one, 'T\uFFFDnh')).toMatch(/U\+FFFD \(the replacement character\) at position 2: the text was not valid UTF-8/);
  // A pair of surrogates is one ordinary character (an emoji), not a lone one.
  expect(issue(one, 'ok 😀')).toBeUndefined();
  expect(unstorableText('Bắc Giang')).toBeUndefined();
});

test('accepted text is trimmed, NFC-normalised and within its length', () => {
  expect(one.parse('  Bắc Giang ')).toBe('Bắc Giang');
  const decomposed = 'Bắc Giang'.normalize('NFD');
  expect(one.parse(decomposed)).toBe('Bắc Giang'.normalize('NFC'));
  expect(issue(one, '   ')).toMatch(/must not be empty/);
  expect(issue(one, 'x'.repeat(21))).toMatch(/at most 20 characters/);
  // The length is counted after normalising: 20 decomposed letters with marks are 20 characters.
  expect(one.safeParse('ế'.normalize('NFD').repeat(20)).success).toBe(true);
  expect(issue(one, 42)).toBeDefined();
});

test('a typed date is a real calendar date within the years an organisation lives in', () => {
  expect(LocalDate.safeParse('2022-08-31').success).toBe(true);
  for (const bad of ['0001-01-01', '1000-01-01', '9999-01-01', '0000-01-01', '2022-02-30']) expect([bad, LocalDate.safeParse(bad).success]).toEqual([bad, false]);
  expect(LocalDate.safeParse('9999-01-01').error!.issues[0]!.message).toMatch(/outside the years 1900–2200/);
});
