/** `trienkhai report`: a unit reports a step (a study session, a draft, the issued plan, …). */
import { newRequestId, submitReport } from '../../app/commands';
import { requireRollout } from '../../app/reads';
import { unitSteps } from '../../db/queries';
import { DomainError } from '../../domain/errors';
import type { StepKind } from '../../domain/plan';
import { formatDurationHuman, localDateOf } from '../../domain/time';
import { defineCommand, defineGroup } from '../command';
import { UsageError } from '../errors';
import { readJsonFile } from '../files';
import { JSON_OPTION, int, need } from '../options';
import { withSession } from '../session';

function parseIndicators(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([^=]+)=(.+)$/.exec(item);
    if (!m || !Number.isFinite(Number(m[2]))) throw DomainError.of('--indicator', `"${item}" is not NAME=NUMBER (e.g. goodOrBetterPct=92.5)`);
    out[m[1]!.trim()] = Number(m[2]);
  }
  return out;
}

const report = defineCommand({
  summary: 'a unit reports a step: a study session, a draft, the issued plan, a periodic report, …',
  description: "The fields depend on the step's kind (the lines under the usage). A refused report names the option, exits with code 2 and records nothing; the same --id again records it once.",
  positionals: [{ name: 'ROLLOUT_ID', required: true, description: 'the rollout', fills: ['rolloutId'] }],
  arity: 'give the rollout ID as the one argument',
  options: {
    unit: { type: 'string', value: 'CODE', description: 'the reporting unit (required unless --file gives it)', fills: ['unitCode'] },
    step: { type: 'string', value: 'STEP_ID', description: 'the plan step reported (required unless --file gives it)', fills: ['stepId'] },
    id: { type: 'string', value: 'REPORT_ID', description: "the report's ID: the same ID again records it once (default: a new one)", fills: ['reportId'] },
    by: { type: 'string', value: 'PERSON', description: 'who reports', fills: ['reportedBy'] },
    occurrence: { type: 'string', value: 'N', integer: true, description: 'which occurrence of a recurring step (periodic reports)', fills: ['occurrence'] },
    file: { type: 'string', value: 'report.json', description: "the report's fields as one JSON object, instead of the options below" },
    attended: { type: 'string', value: 'N', description: 'members who attended this session', fills: ['attended'] },
    date: { type: 'string', value: 'YYYY-MM-DD', description: 'the session, submission, issue or inspection date (default: today)', fills: ['sessionDate', 'submittedOn', 'issuedOn', 'inspectedOn'] },
    makeup: { type: 'boolean', description: 'a make-up session for those who missed the first' },
    'drafted-by': { type: 'string', value: 'BODY', description: 'the body that drafted the plan', fills: ['draftedBy'] },
    title: { type: 'string', value: 'TEXT', description: "the plan's title", fills: ['title'] },
    document: { type: 'string', value: 'NUMBER', description: 'the document number: 45-KH/TU, 12-BC/TU', fills: ['documentNumber'] },
    'document-date': { type: 'string', value: 'DATE', description: "a periodic report's document date (default: --date)", fills: ['documentDate'] },
    period: { type: 'string', value: 'LABEL', description: 'the period reported: 2023, 2023-H1, …', fills: ['period'] },
    indicator: { type: 'string', value: 'NAME=VALUE', multiple: true, description: 'an indicator of a periodic report, e.g. goodOrBetterPct=92.5', fills: ['indicators'] },
    inspector: { type: 'string', value: 'NAME', description: 'who inspected', fills: ['inspector'] },
    findings: { type: 'string', value: 'TEXT', description: 'what the inspection found', fills: ['findings'] },
    review: { type: 'string', value: 'midterm|final', description: 'which review', fills: ['review'] },
    summary: { type: 'string', value: 'TEXT', description: "the review's summary", fills: ['summary'] },
    ...JSON_OPTION,
  },
  variants: {
    label: 'fields for the step kind',
    forms: [
      { name: 'studyConference', required: ['attended'], optional: ['date', 'makeup'] },
      { name: 'draftPlan', required: ['drafted-by', 'title'], optional: ['date'] },
      { name: 'issuePlan', required: ['document', 'title'], optional: ['date'] },
      { name: 'periodicReport', required: ['period'], optional: ['indicator', 'date', 'document', 'document-date'] },
      { name: 'supervise', required: ['inspector', 'findings'], optional: ['date'] },
      { name: 'review', required: ['review', 'document', 'summary'], optional: ['date'] },
    ],
  },
  examples: [
    'trienkhai report 21-NQ-TW.2022-06-16.BG --unit BG.YT --step study --attended 2000 --date 2026-11-21',
    'trienkhai report 21-NQ-TW.2022-06-16.BG --unit BG --step issue-province --document 45-KH/TU --title "Kế hoạch thực hiện Nghị quyết 21-NQ/TW"',
    'trienkhai report 21-NQ-TW.2022-06-16.BG --unit BG --step report-2023 --period 2023 --indicator goodOrBetterPct=92.5',
    'trienkhai report 21-NQ-TW.2022-06-16.BG --file report.json',
  ],
  async run({ values, args: [rolloutId], io, usage, rename }) {
    // Without a file, the unit and step are required: refused before any connection is opened.
    const named = values.file ? undefined : { unitCode: need(values.unit, 'unit', usage), stepId: need(values.step, 'step', usage) };
    return withSession(async (s) => {
      let body: Record<string, unknown>;
      if (!named) {
        const file = values.file!;
        const parsed = readJsonFile(file);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw DomainError.of(file, 'a report file holds one JSON object');
        body = { ...(parsed as Record<string, unknown>) };
        if (values.unit) body.unitCode = values.unit;
        if (values.step) body.stepId = values.step;
        body.reportId ??= values.id ?? newRequestId('report');
      } else {
        const { unitCode, stepId } = named;
        const steps = await unitSteps(s.db, rolloutId, unitCode);
        await requireRollout(s.db, rolloutId).catch(rename());
        if (!steps.length) throw DomainError.of('--unit', `unit "${unitCode}" is not part of rollout ${rolloutId}`);
        const step = steps.find((x) => x.step_id === stepId);
        if (!step) throw DomainError.of('--step', `unit ${unitCode} has no step "${stepId}" (its steps: ${[...new Set(steps.map((x) => x.step_id))].join(', ')})`);
        const date = values.date ?? localDateOf(Date.now());
        const kind = step.kind as StepKind;
        const occurrence = int(values.occurrence);
        const common = {
          reportId: values.id ?? newRequestId('report'),
          unitCode,
          stepId,
          kind,
          ...(occurrence !== undefined ? { occurrence } : {}),
          ...(values.by ? { reportedBy: values.by } : {}),
        };
        const attended = values.attended;
        const byKind: Record<StepKind, () => Record<string, unknown>> = {
          studyConference: () => ({ sessionDate: date, attended: attended === undefined ? undefined : /^\d+$/.test(attended) ? Number(attended) : attended, makeup: values.makeup === true }),
          draftPlan: () => ({ draftedBy: need(values['drafted-by'], 'drafted-by', usage), title: need(values.title, 'title', usage), submittedOn: date }),
          issuePlan: () => ({ documentNumber: need(values.document, 'document', usage), issuedOn: date, title: need(values.title, 'title', usage) }),
          periodicReport: () => ({
            period: need(values.period, 'period', usage),
            indicators: parseIndicators(values.indicator ?? []),
            submittedOn: date,
            ...(values.document ? { documentNumber: values.document, documentDate: values['document-date'] ?? date } : {}),
          }),
          supervise: () => ({ inspectedOn: date, inspector: need(values.inspector, 'inspector', usage), findings: need(values.findings, 'findings', usage) }),
          review: () => ({ review: need(values.review, 'review', usage), documentNumber: need(values.document, 'document', usage), issuedOn: date, summary: need(values.summary, 'summary', usage) }),
        };
        if (kind === 'studyConference' && attended === undefined) throw new UsageError(`step "${stepId}" is a study conference: give --attended N (members who attended this session)`);
        body = { ...common, ...byKind[kind]() };
      }
      const r = await submitReport(await s.deps(), rolloutId, body as never).catch(rename());
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else {
        const parts = [`${r.duplicate ? 'Already recorded (same report ID); nothing changed.' : 'Recorded.'} Report ${r.reportId} → step ${r.stepKey}: ${r.status === 'done' ? 'done' : 'still open'}`];
        if (r.coverage !== undefined) parts.push(`coverage ${(r.coverage * 100).toFixed(1)}%`);
        if (r.lateByMs) parts.push(`late by ${formatDurationHuman(r.lateByMs, 'en')}`);
        io.out(parts.join(', ') + '.');
      }
      return 0;
    });
  },
});

export const reportGroup = defineGroup({ name: 'report', section: 'units', summary: 'báo cáo / a unit reports a step', commands: [report] });
