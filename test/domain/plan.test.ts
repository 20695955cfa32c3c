import { DomainError } from '../../domain/errors';
import { BAC_GIANG_2022_PLAN, BUILT_IN_PLANS } from '../../domain/default-plans';
import { parsePlan, validatePlanForHierarchy, type PlanInput } from '../../domain/plan';

const step = (over: Record<string, unknown> = {}) => ({ id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'absolute', at: '2022-08' }, ...over });
const plan = (steps: unknown[]): unknown => ({ id: 'p', title: 'Kế hoạch', steps });

function issues(input: unknown): string[] {
  try {
    parsePlan(input);
  } catch (e) {
    if (e instanceof DomainError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  throw new Error('expected the plan to be rejected');
}

describe('plan validation', () => {
  test('the built-in plans are valid and get defaults', () => {
    for (const p of Object.values(BUILT_IN_PLANS)) expect(() => parsePlan(p)).not.toThrow();
    const bg = parsePlan(BAC_GIANG_2022_PLAN);
    expect(bg.steps.find((s) => s.id === 'draft-province')!.escalation).toEqual({ tiers: 2, interval: 'P7D' });
    expect(bg.steps.find((s) => s.id === 'study')!.requires).toEqual([]);
  });

  test('no duration runs past a century: a typo there would put a deadline beyond any calendar and wedge the timers', () => {
    const step = (deadline: unknown, extra: object = {}) => ({ id: 'x', title: 'x', steps: [{ id: 's', kind: 'studyConference', title: 't', deadline, ...extra }] });
    for (const after of ['P10000Y', 'P99999999999Y', 'PT99999999999H', 'P1000000000D', 'P101Y']) expect(() => parsePlan(step({ kind: 'afterStart', after }))).toThrow(/longer than 100 years/);
    expect(parsePlan(step({ kind: 'afterStart', after: 'P100Y' })).steps).toHaveLength(1);
    expect(() => parsePlan(step({ kind: 'afterStart', after: 'P1Y' }, { reminders: ['P200Y'] }))).toThrow(/longer than 100 years/);
    const recurring = { id: 'x', title: 'x', steps: [{ id: 'r', kind: 'periodicReport', title: 't', deadline: { kind: 'afterStart', after: 'P1Y' }, schedule: { every: 'P2Y', count: 60 } }] };
    expect(() => parsePlan(recurring)).toThrow(/60 occurrences every P2Y run past 100 years/);
  });

  test('each bad field is named', () => {
    expect(issues(plan([step({ deadline: { kind: 'absolute', at: 'end of August' } })]))).toEqual([expect.stringMatching(/^plan\.steps\[0\]\.deadline\.at: .*end of August/)]);
    expect(issues(plan([step({ reminders: ['7 days'] })]))[0]).toMatch(/^plan\.steps\[0\]\.reminders\[0\]: /);
    expect(issues(plan([step({ kind: 'party' })]))[0]).toMatch(/^plan\.steps\[0\]\.kind: /);
    expect(issues(plan([step({ surprise: 1 })]))[0]).toMatch(/^plan\.steps\[0\]: .*surprise/);
    expect(issues(plan([step({ deadline: { kind: 'afterStart' } })]))[0]).toMatch(/exactly one of "after".*"workingDays"/);
    expect(issues(plan([step({ deadline: { kind: 'afterStart', after: 'P1D', workingDays: 3 } })]))[0]).toMatch(/exactly one/);
    expect(issues(plan([]))[0]).toMatch(/^plan\.steps: /);
  });

  test('step ids are unique, requirements exist and do not form a cycle', () => {
    expect(issues(plan([step(), step()]))).toContain('plan.steps[1].id: duplicate step id "study" (also steps[0])');
    expect(issues(plan([step({ requires: ['draft'] })]))[0]).toBe('plan.steps[0].requires[0]: unknown step "draft" (steps are: study)');
    const cyc = issues(plan([step({ id: 'a', requires: ['b'] }), step({ id: 'b', requires: ['a'] })]));
    expect(cyc).toContain('plan.steps: steps require each other in a cycle: a → b → a');
  });

  test('attendance targets belong to study steps; schedules to recurring kinds; document types are known', () => {
    expect(issues(plan([step({ kind: 'draftPlan', target: 0.5 })]))[0]).toMatch(/only study conference steps have an attendance target/);
    expect(issues(plan([step({ target: 1.5 })]))[0]).toMatch(/^plan\.steps\[0\]\.target: /);
    expect(issues(plan([step({ schedule: { every: 'P1Y', count: 3 } })]))[0]).toMatch(/only periodicReport, supervise and review steps recur/);
    expect(issues(plan([step({ kind: 'issuePlan', documentTypes: ['XYZ'] })]))[0]).toMatch(/unknown document type "XYZ"/);
  });

  test('titles are stored NFC-normalised', () => {
    const p = parsePlan({ id: 'p', title: 'Kế hoạch'.normalize('NFD'), steps: [step({ title: 'Học tập'.normalize('NFD') })] });
    expect(p.title).toBe('Kế hoạch'.normalize('NFC'));
    expect(p.steps[0]!.title).toBe('Học tập'.normalize('NFC'));
  });
});

describe('a plan against the hierarchy it will run on', () => {
  const levels = ['tinh', 'huyen', 'coso'];
  const parents = new Map([
    ['tinh', new Set<string>()],
    ['huyen', new Set(['tinh'])],
    ['coso', new Set(['huyen'])],
  ]);

  test('the Bắc Giang plan fits a tinh → huyen → coso → chibo hierarchy', () => {
    expect(() => validatePlanForHierarchy(parsePlan(BAC_GIANG_2022_PLAN), [...levels, 'chibo'], new Map([...parents, ['chibo', new Set(['coso'])]]))).not.toThrow();
  });

  test('a level the hierarchy does not have is named, with the levels it has', () => {
    expect(() => validatePlanForHierarchy(parsePlan(plan([step({ levels: ['xa'] })])), levels, parents)).toThrow(
      'step "study" names level "xa", which the hierarchy does not have (levels: tinh, huyen, coso)',
    );
  });

  test('a cascade whose parents have no such step is refused', () => {
    const p: PlanInput = {
      id: 'p',
      title: 't',
      steps: [
        { id: 'issue-tinh', kind: 'draftPlan', title: 'x', levels: ['tinh'], deadline: { kind: 'absolute', at: '2022-09' } },
        { id: 'issue-huyen', kind: 'issuePlan', title: 'y', levels: ['huyen'], deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'P30D' } },
      ],
    };
    expect(() => validatePlanForHierarchy(parsePlan(p), levels, parents)).toThrow(
      /waits for the parent's issuePlan step, but units at level "huyen" have parents at level "tinh" and no issuePlan step applies to "tinh"/,
    );
  });
});
