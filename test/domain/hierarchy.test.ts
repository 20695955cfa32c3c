import { DomainError } from '../../domain/errors';
import { ancestorsOf, buildIndex, levelsOf, parentLevelsOf, parseUnitsCsv, parseUnitsFile, parseUnitsJson, Unit, validateTree } from '../../domain/hierarchy';

function issuesOf(f: () => unknown): { path: string; message: string }[] {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return [...(e as DomainError).issues];
  }
  throw new Error('expected a DomainError');
}
const paths = (f: () => unknown): string[] => issuesOf(f).map((i) => i.path);

const HEADER = 'code,name,level,parent,members,standing_committee';

describe('Unit schema', () => {
  const ok: Unit = { code: 'BG', name: 'Tỉnh ủy Bắc Giang', level: 'tinh', parent: null, members: 95000, standingCommittee: true };
  it('accepts a unit and normalises its name', () => {
    expect(Unit.parse({ ...ok, name: '  Tỉnh ủy Bắc Giang '.normalize('NFD') }).name).toBe('Tỉnh ủy Bắc Giang'.normalize('NFC'));
  });
  it('is strict and checks each field', () => {
    expect(Unit.safeParse({ ...ok, extra: 1 }).success).toBe(false);
    expect(Unit.safeParse({ ...ok, code: 'bad code' }).success).toBe(false);
    expect(Unit.safeParse({ ...ok, code: 'x'.repeat(65) }).success).toBe(false);
    expect(Unit.safeParse({ ...ok, code: '.BG' }).success).toBe(false);
    expect(Unit.safeParse({ ...ok, level: 'Tinh' }).success).toBe(false);
    expect(Unit.safeParse({ ...ok, members: 1.5 }).success).toBe(false);
    expect(Unit.safeParse({ ...ok, members: -1 }).success).toBe(false);
    expect(Unit.safeParse({ ...ok, name: '   ' }).success).toBe(false);
    expect(Unit.safeParse({ ...ok, effectiveFrom: '2025-02-30' }).success).toBe(false);
    expect(Unit.safeParse({ ...ok, effectiveFrom: '2025-07-01', predecessors: ['A', 'B'] }).success).toBe(true);
  });
});

describe('parseUnitsCsv', () => {
  const csv = [
    'code,name,level,parent,members,standing_committee,effective_from,predecessors',
    'BG,Tỉnh ủy Bắc Giang,tinh,,95000,có,2022-01-01,',
    'BG.TP,"Thành ủy Bắc Giang, tỉnh Bắc Giang",huyen,BG,12000,x,,',
    'BG.TP.01,"Chi bộ ""Khu 1""',
    '(phường Trần Phú)",chi-bo,BG.TP,35,,,',
    'BG.LN,Huyện ủy Lục Nam,huyen,BG,8000,YES,2025-07-01,BG.LN1; BG.LN2',
  ].join('\n');

  it('reads units, with quoted commas, escaped quotes and line breaks', () => {
    expect(parseUnitsCsv(csv)).toEqual([
      { code: 'BG', name: 'Tỉnh ủy Bắc Giang', level: 'tinh', parent: null, members: 95000, standingCommittee: true, effectiveFrom: '2022-01-01' },
      { code: 'BG.TP', name: 'Thành ủy Bắc Giang, tỉnh Bắc Giang', level: 'huyen', parent: 'BG', members: 12000, standingCommittee: true },
      { code: 'BG.TP.01', name: 'Chi bộ "Khu 1"\n(phường Trần Phú)', level: 'chi-bo', parent: 'BG.TP', members: 35, standingCommittee: false },
      { code: 'BG.LN', name: 'Huyện ủy Lục Nam', level: 'huyen', parent: 'BG', members: 8000, standingCommittee: true, effectiveFrom: '2025-07-01', predecessors: ['BG.LN1', 'BG.LN2'] },
    ]);
  });

  it('handles CRLF, a BOM, blank lines, rows of empty cells and a final newline', () => {
    const text = '\uFEFF' + csv.replace(/\n/g, '\r\n').replace('\r\nBG.LN', '\r\n\r\n,,,,,,,\r\nBG.LN') + '\r\n\r\n';
    const units = parseUnitsCsv(text);
    expect(units.map((u) => u.code)).toEqual(['BG', 'BG.TP', 'BG.TP.01', 'BG.LN']);
    expect(units[2]?.name).toBe('Chi bộ "Khu 1"\n(phường Trần Phú)');
  });

  it('takes columns in any order, optional columns absent, header case-insensitive', () => {
    const text = ['Members,PARENT,code,standing_committee,level,name', '10,,R,1,tinh,Root', '2,R,C,0,chi-bo,Cell'].join('\n');
    expect(parseUnitsCsv(text)).toEqual([
      { code: 'R', name: 'Root', level: 'tinh', parent: null, members: 10, standingCommittee: true },
      { code: 'C', name: 'Cell', level: 'chi-bo', parent: 'R', members: 2, standingCommittee: false },
    ]);
  });

  it('accepts every boolean spelling', () => {
    const yes = ['true', 'TRUE', '1', 'yes', 'Có', 'CÓ', 'x', 'X'];
    const no = ['false', '0', 'No', 'không', 'KHÔNG', ''];
    const rows = [...yes, ...no].map((b, i) => `U${i},Unit ${i},xa,${i === 0 ? '' : 'U0'},1,${b}`);
    const units = parseUnitsCsv([HEADER, ...rows].join('\n'));
    expect(units.map((u) => u.standingCommittee)).toEqual([...yes.map(() => true), ...no.map(() => false)]);
  });

  it('stores names NFC-normalised', () => {
    const nfd = 'Tỉnh ủy Bắc Giang'.normalize('NFD');
    expect(nfd).not.toBe('Tỉnh ủy Bắc Giang'.normalize('NFC')); // the input really is decomposed
    const [unit] = parseUnitsCsv(`${HEADER}\nBG,  ${nfd} ,tinh,,1,có`);
    expect(unit?.name).toBe('Tỉnh ủy Bắc Giang'.normalize('NFC'));
    // Booleans typed with a decomposed keyboard too.
    expect(parseUnitsCsv(`${HEADER}\nBG,x,tinh,,1,${'có'.normalize('NFD')}`)[0]?.standingCommittee).toBe(true);
  });

  it('reports every bad row, each with its exact line and column', () => {
    const text = [
      HEADER, // 1
      'BG,Tỉnh ủy Bắc Giang,tinh,,95000,có', // 2
      '', // 3
      'HU1,Huyện ủy A,huyen,BG,12.5,có', // 4
      'HU1,Huyện ủy B,huyen,BG,100,maybe', // 5
      '"X1","multi', // 6
      'line",Xa,NOPE,10,0', // 7
      'bad code,Tên,xa,BG,-1,1', // 8
      'X2,,xa,BG,1,1', // 9
    ].join('\r\n');
    const issues = issuesOf(() => parseUnitsCsv(text));
    expect(issues.map((i) => i.path)).toEqual([
      'line 4, column members',
      'line 5, column standing_committee',
      'line 5, column code',
      'line 6, column level',
      'line 6, column parent',
      'line 8, column code',
      'line 8, column members',
      'line 9, column name',
    ]);
    expect(issues[0]?.message).toBe('"12.5" is not a whole number ≥ 0 (expected the number of party members (số đảng viên), a whole number ≥ 0, digits only)');
    expect(issues[1]?.message).toBe('"maybe" is not yes or no (expected true/false, 1/0, yes/no, có/không, x or empty for no)');
    expect(issues[2]?.message).toBe('duplicate code "HU1" (already used on line 4; each unit needs its own code)');
    expect(issues[3]?.message).toBe('"Xa" is not a level code (expected a lowercase slug of a–z, 0–9, \'_\' or \'-\', e.g. tinh, xa, co-so); did you mean "xa"?');
    expect(issues[4]?.message).toBe('parent "NOPE" is not a code in this file (expected the code of another unit, or empty for a root)');
    expect(issues[5]?.message).toMatch(/^"bad code" is not a valid code \(expected ASCII letters/);
    expect(issues[6]?.message).toContain('"-1" is not a whole number ≥ 0');
    expect(issues[7]?.message).toContain('missing name');
  });

  it('joins the issues into one readable message', () => {
    const text = [HEADER, 'R,Root,tinh,,1,1', 'A,A,xa,R,one,1', 'B,B,xa,R,two,1'].join('\n');
    expect(() => parseUnitsCsv(text)).toThrow(/^2 problems:\n {2}- line 3, column members: "one" is not a whole number[^\n]*\n {2}- line 4, column members: "two"/);
  });

  it('reports cycles, self-parents and a missing root', () => {
    const text = [HEADER, 'R,Root,tinh,,1,1', 'A,A,huyen,C,1,1', 'B,B,huyen,A,1,1', 'C,C,huyen,B,1,1', 'S,S,xa,S,1,0'].join('\n');
    const issues = issuesOf(() => parseUnitsCsv(text));
    expect(issues).toEqual([
      { path: 'line 3, column parent', message: 'cycle in parents: A → C → B → A (a unit cannot be its own ancestor; A on line 3, C on line 5, B on line 4)' },
      { path: 'line 6, column parent', message: 'unit "S" is its own parent (expected another unit\'s code, or empty for a root)' },
    ]);
    const noRoot = issuesOf(() => parseUnitsCsv([HEADER, 'A,A,x,B,1,1', 'B,B,x,A,1,1'].join('\n')));
    expect(noRoot.map((i) => i.path)).toEqual(['line 2, column parent', 'file']);
    expect(noRoot[1]?.message).toContain('no root unit');
  });

  it('flags codes that differ only in case, and hints at the intended parent', () => {
    const issues = issuesOf(() => parseUnitsCsv([HEADER, 'BG,Root,tinh,,1,1', 'bg,Other,tinh,,1,1', 'H,H,huyen,Bg,1,1'].join('\n')));
    expect(issues.map((i) => i.path)).toEqual(['line 3, column code', 'line 4, column parent']);
    expect(issues[0]?.message).toContain('differs from "BG" on line 2 only in letter case');
    expect(issues[1]?.message).toContain('did you mean "BG" on line 2?');
  });

  it('checks the header: unknown, duplicate and missing columns', () => {
    const issues = issuesOf(() => parseUnitsCsv(['code,name,level,parent,members,standingCommittee,notes,code', 'R,Root,tinh,,1,1,,R'].join('\n')));
    expect(issues).toEqual([
      {
        path: 'line 1, column standingCommittee',
        message: 'unknown column "standingCommittee" (did you mean "standing_committee"?) (expected code, name, level, parent, members, standing_committee, effective_from, predecessors)',
      },
      { path: 'line 1, column notes', message: 'unknown column "notes" (expected code, name, level, parent, members, standing_committee, effective_from, predecessors)' },
      { path: 'line 1, column code', message: 'column "code" appears twice in the header (expected each column once)' },
      { path: 'line 1 (header)', message: 'missing column "standing_committee" (required: code, name, level, parent, members, standing_committee; optional: effective_from, predecessors)' },
    ]);
    // The header is the first non-blank line.
    expect(paths(() => parseUnitsCsv('\n\ncode,name\n'))).toEqual(['line 3 (header)', 'line 3 (header)', 'line 3 (header)', 'line 3 (header)']);
  });

  it('reports rows with the wrong number of fields, and bad quoting', () => {
    const text = [HEADER, 'R,Root,tinh,,1,1', 'A,Huyện ủy A, tỉnh B,huyen,R,1,1', 'B,"B" x,huyen,R,1,1', 'C,C "D",huyen,R,1,1'].join('\n');
    const issues = issuesOf(() => parseUnitsCsv(text));
    expect(issues).toEqual([
      { path: 'line 3', message: '7 fields, but the header has 6 columns (expected one field per column; quote fields that contain commas)' },
      { path: 'line 4', message: 'unexpected text after a closing quote (expected \',\' or the end of the line; write a quote inside a quoted field as "")' },
      { path: 'line 5', message: 'a quote inside an unquoted field (expected the whole field in quotes, with inner quotes doubled: "a ""b"" c")' },
    ]);
    expect(issuesOf(() => parseUnitsCsv([HEADER, 'R,Root,tinh,,1,1', 'A,"never closed,huyen,R,1,1', 'B,B,huyen,R,1,1'].join('\n')))[0]?.path).toBe('line 3');
  });

  it('rejects empty files and header-only files', () => {
    expect(issuesOf(() => parseUnitsCsv(''))[0]?.message).toContain('empty file (expected a header row');
    expect(issuesOf(() => parseUnitsCsv('\uFEFF\r\n\r\n'))[0]?.path).toBe('file');
    expect(issuesOf(() => parseUnitsCsv(`${HEADER}\n`))[0]?.message).toBe('no units (expected at least one row after the header)');
  });

  it('checks dates, predecessors and codes in optional columns', () => {
    const text = [`${HEADER},effective_from,predecessors`, 'R,Root,tinh,,1,1,2025-02-30,R;bad code', `${'x'.repeat(65)},L,xa,R,1,0,,`].join('\n');
    const issues = issuesOf(() => parseUnitsCsv(text));
    expect(issues.map((i) => i.path)).toEqual(['line 2, column effective_from', 'line 2, column predecessors', 'line 3, column code']);
    expect(issues[0]?.message).toContain('February 2025 has 28 days');
    expect(issues[1]?.message).toContain('"bad code" is not a valid predecessor code');
    expect(issues[2]?.message).toContain('is 65 characters long (at most 64)');
    expect(issuesOf(() => parseUnitsCsv([`${HEADER},predecessors`, 'R,Root,tinh,,1,1,R'].join('\n')))[0]).toEqual({
      path: 'line 2, column predecessors',
      message: 'unit "R" lists itself as a predecessor (expected codes of the units merged into it)',
    });
  });
});

describe('parseUnitsJson', () => {
  const units = [
    { code: 'BG', name: 'Tỉnh ủy Bắc Giang', level: 'tinh', parent: null, members: 95000, standing_committee: true, effective_from: '2022-01-01' },
    { code: 'BG.LN', name: 'Huyện ủy Lục Nam', level: 'huyen', parent: 'BG', members: 8000, standing_committee: true, predecessors: ['A', 'B'] },
    { code: 'BG.LN.1', name: 'Chi bộ 1', level: 'chi-bo', parent: 'BG.LN', members: 20, standing_committee: false, predecessors: 'C; D', effective_from: null },
  ];
  const expected: Unit[] = [
    { code: 'BG', name: 'Tỉnh ủy Bắc Giang', level: 'tinh', parent: null, members: 95000, standingCommittee: true, effectiveFrom: '2022-01-01' },
    { code: 'BG.LN', name: 'Huyện ủy Lục Nam', level: 'huyen', parent: 'BG', members: 8000, standingCommittee: true, predecessors: ['A', 'B'] },
    { code: 'BG.LN.1', name: 'Chi bộ 1', level: 'chi-bo', parent: 'BG.LN', members: 20, standingCommittee: false, predecessors: ['C', 'D'] },
  ];

  it('reads an array or { units: [...] }', () => {
    expect(parseUnitsJson(JSON.stringify(units, null, 2))).toEqual(expected);
    expect(parseUnitsJson('\uFEFF' + JSON.stringify({ units }))).toEqual(expected);
  });

  it('stores names NFC-normalised, including \\u escapes', () => {
    const nfd = 'Bắc Giang'.normalize('NFD');
    const [a] = parseUnitsJson(JSON.stringify([{ ...units[0], name: nfd }]));
    expect(a?.name).toBe('Bắc Giang'.normalize('NFC'));
    const escaped = JSON.stringify([{ ...units[0], name: nfd }]).replace(/[\u0300-\u036f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    expect(escaped).toContain('\\u0306');
    expect(parseUnitsJson(escaped)[0]?.name).toBe('Bắc Giang'.normalize('NFC'));
  });

  it('reports every bad element at the line where it starts', () => {
    const text = [
      '[', // 1
      '  {"code": "BG", "name": "Tỉnh ủy", "level": "tinh", "parent": null, "members": 10, "standing_committee": true},', // 2
      '  {', // 3
      '    "code": "HU",', // 4
      '    "name": "Huyện ủy \\"A\\" [x] {y}",', // 5
      '    "level": "huyen",', // 6
      '    "parent": "BG",', // 7
      '    "members": "12",', // 8
      '    "standing_committee": true,', // 9
      '    "standingCommittee": true', // 10
      '  },', // 11
      '  {"code": "BG", "name": " ", "level": "huyen", "parent": "ZZ", "members": 1.5, "standing_committee": 1},', // 12
      '  "oops",', // 13
      '  {"code": "X", "name": "X", "level": "xa", "members": 1, "standing_committee": false}', // 14
      ']', // 15
    ].join('\n');
    const issues = issuesOf(() => parseUnitsJson(text));
    expect(issues.map((i) => i.path)).toEqual([
      'line 3 (row 2), field standingCommittee',
      'line 3 (row 2), field members',
      'line 12 (row 3), field name',
      'line 12 (row 3), field members',
      'line 12 (row 3), field standing_committee',
      'line 12 (row 3), field code',
      'line 12 (row 3), field parent',
      'line 13 (row 4)',
      'line 14 (row 5), field parent',
    ]);
    expect(issues[0]?.message).toBe(
      'unknown field "standingCommittee" (did you mean "standing_committee"?) (expected code, name, level, parent, members, standing_committee, effective_from, predecessors)',
    );
    expect(issues[1]?.message).toBe('got the string "12" (expected the number of party members (số đảng viên), a whole number ≥ 0, as a JSON number)');
    expect(issues[3]?.message).toContain('1.5 is not a whole number ≥ 0');
    expect(issues[4]?.message).toBe('expected true or false, got number 1');
    expect(issues[5]?.message).toBe('duplicate code "BG" (already used on line 2 (row 1); each unit needs its own code)');
    expect(issues[7]?.message).toContain('expected a unit object');
    expect(issues[8]?.message).toBe('missing field "parent" (use null for a root)');
  });

  it('reports JSON syntax errors by line and column', () => {
    expect(issuesOf(() => parseUnitsJson('[\n  {"code": "A",}\n]'))).toEqual([{ path: 'line 2, column 16', message: "invalid JSON: expected a field name in double quotes, found '}'" }]);
    expect(paths(() => parseUnitsJson('[\n{"name": "a\nb"}]'))).toEqual(['line 2, column 12']);
    expect(paths(() => parseUnitsJson('[1, 2'))).toEqual(['line 1, column 6']);
    expect(paths(() => parseUnitsJson('[] x'))).toEqual(['line 1, column 4']);
  });

  it('rejects other shapes and unknown top-level fields', () => {
    expect(issuesOf(() => parseUnitsJson('{"units": [], \n "version": 2}'))).toEqual([
      { path: 'line 2, field version', message: 'unknown top-level field "version" (expected an array of units, or an object { "units": [...] })' },
    ]);
    expect(issuesOf(() => parseUnitsJson('{"unit": []}'))[0]?.path).toBe('line 1, field unit');
    expect(issuesOf(() => parseUnitsJson('{}'))[0]?.message).toContain('missing "units"');
    expect(issuesOf(() => parseUnitsJson('"x"'))[0]?.message).toContain('the file holds the string "x"');
    expect(issuesOf(() => parseUnitsJson('[]'))[0]?.message).toContain('no units');
  });

  it('does not let "__proto__" change an object', () => {
    const issues = issuesOf(() => parseUnitsJson('[{"code": "A", "name": "A", "level": "x", "parent": null, "members": 1, "standing_committee": true, "__proto__": {"x": 1}}]'));
    expect(issues).toEqual([{ path: 'line 1 (row 1), field __proto__', message: expect.stringContaining('unknown field "__proto__"') }]);
  });
});

describe('parseUnitsFile', () => {
  it('picks the parser by extension', () => {
    expect(parseUnitsFile('units.CSV', `${HEADER}\nR,Root,tinh,,1,1`)).toHaveLength(1);
    expect(parseUnitsFile('data/units.json', '[{"code":"R","name":"Root","level":"tinh","parent":null,"members":1,"standing_committee":true}]')).toHaveLength(1);
  });
  it('rejects other files', () => {
    expect(issuesOf(() => parseUnitsFile('units.xlsx', ''))).toEqual([
      { path: 'file', message: '"units.xlsx": unsupported file type ".xlsx" (expected a .csv or .json file; save spreadsheets as "CSV UTF-8")' },
    ]);
    expect(issuesOf(() => parseUnitsFile('units', ''))[0]?.message).toContain('(no extension)');
  });
});

// A small post-2025 hierarchy: centre, a province and a bloc, communes, cells.
const tree: Unit[] = [
  { code: 'TW', name: 'Trung ương', level: 'tw', parent: null, members: 0, standingCommittee: true },
  { code: 'BG', name: 'Tỉnh ủy Bắc Giang', level: 'tinh', parent: 'TW', members: 100, standingCommittee: true },
  { code: 'KHOI', name: 'Đảng ủy Khối', level: 'khoi', parent: 'TW', members: 50, standingCommittee: true },
  { code: 'BG.X2', name: 'Đảng ủy xã 2', level: 'xa', parent: 'BG', members: 30, standingCommittee: true },
  { code: 'BG.X1', name: 'Đảng ủy xã 1', level: 'xa', parent: 'BG', members: 40, standingCommittee: true },
  { code: 'BG.X1.CB1', name: 'Chi bộ 1', level: 'chi-bo', parent: 'BG.X1', members: 10, standingCommittee: false },
  { code: 'BG.CB9', name: 'Chi bộ trực thuộc', level: 'chi-bo', parent: 'BG', members: 5, standingCommittee: false },
];

describe('validateTree', () => {
  it('returns valid units, normalised', () => {
    expect(validateTree(tree)).toEqual(tree);
    expect(validateTree([{ ...tree[0], name: ' Trung ương '.normalize('NFD') } as Unit])[0]?.name).toBe('Trung ương');
  });
  it('reports row/field paths', () => {
    const bad = [tree[0], tree[1], { ...tree[2], code: 'bad code' }, { ...tree[4], code: 'TW' }, { ...tree[3], parent: 'NOPE', members: -3 }] as Unit[];
    expect(paths(() => validateTree(bad))).toEqual(['row 3 (code)', 'row 4 (code)', 'row 5 (members)', 'row 5 (parent)']);
    expect(issuesOf(() => validateTree(bad))[1]?.message).toContain('already used on row 1');
  });
});

describe('lookups', () => {
  const index = buildIndex(tree);
  it('buildIndex: by code, children sorted by code, roots', () => {
    expect(index.byCode.get('BG.X1')?.name).toBe('Đảng ủy xã 1');
    expect(index.children.get('BG')?.map((u) => u.code)).toEqual(['BG.CB9', 'BG.X1', 'BG.X2']);
    expect(index.children.get('BG.X1.CB1')).toEqual([]);
    expect(index.roots.map((u) => u.code)).toEqual(['TW']);
  });
  it('ancestorsOf: nearest first', () => {
    expect(ancestorsOf('BG.X1.CB1', index).map((u) => u.code)).toEqual(['BG.X1', 'BG', 'TW']);
    expect(ancestorsOf('TW', index)).toEqual([]);
    expect(() => ancestorsOf('NOPE', index)).toThrow(DomainError);
  });
  it('levelsOf: depth order from the roots, ties by code', () => {
    expect(levelsOf(tree)).toEqual(['tw', 'khoi', 'tinh', 'chi-bo', 'xa']);
    expect(levelsOf(tree.filter((u) => u.code !== 'BG.CB9'))).toEqual(['tw', 'khoi', 'tinh', 'xa', 'chi-bo']);
  });
  it('parentLevelsOf', () => {
    const p = parentLevelsOf(tree);
    expect([...(p.get('tw') ?? [])]).toEqual([]);
    expect([...(p.get('chi-bo') ?? [])].sort()).toEqual(['tinh', 'xa']);
  });
  test('JSON: absurd nesting and a field given twice are refused by line, not recursed into or silently kept', () => {
    expect(() => parseUnitsFile('a.json', '['.repeat(100_000) + ']'.repeat(100_000))).toThrow(/nested more than 32 levels deep/);
    expect(() => parseUnitsFile('a.json', '[{"code":"A","code":"B","name":"x","level":"tinh","parent":null,"members":1,"standing_committee":true}]')).toThrow(
      /line 1, column 14: invalid JSON: the field "code" is given twice/,
    );
  });
  test('a parent with 200,000 children parses (no call-stack limit on wide trees)', () => {
    let csv = 'code,name,level,parent,members,standing_committee\nP,Tỉnh,tinh,,1,true\n';
    for (let i = 0; i < 200_000; i++) csv += `P.C${i},Chi bộ ${i},chibo,P,1,false\n`;
    expect(parseUnitsFile('a.csv', csv)).toHaveLength(200_001);
  });
});
