/**
 * Benchmark: is the dashboard's API fast on a 10,000-unit rollout? (`npm run bench:dashboard`)
 *
 * The dashboard reads only the read model, so this builds one the way production does — events
 * appended through the event store, which projects them in the same transaction — on embedded
 * PostgreSQL, without running 10,000 workflows (bench/rollout.ts measures the engine itself). The
 * rollout: one province, 50 districts, 10 communes each, 19 cells each (10,051 units); every unit
 * has a study step and a plan step; ~60 % studied (a fifth of them late), the rest are overdue and
 * escalated. Then it times, through the real HTTP server, what each dashboard page asks for.
 *
 *   npm run bench:dashboard
 *   BENCH_DISTRICTS=10 npm run bench:dashboard      # ~2,000 units, quicker
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { chromium } from 'playwright-core';
import { startApiServer } from '../api/server';
import { issueToken } from '../app/tokens';
import { importUnits } from '../app/commands';
import { connect } from '../db/connect';
import { appendEvents } from '../db/event-store';
import { migrateToLatest } from '../db/migrate';
import { parseNewEvent, type AnyNewEvent } from '../domain/events';
import { eventId, streams } from '../domain/ids';
import { ensurePostgres } from '../stack/postgres';
import { dashboardFiles } from '../web/serve';

const DISTRICTS = Number(process.env.BENCH_DISTRICTS ?? 50);
const COMMUNES = Number(process.env.BENCH_COMMUNES ?? 10);
const CELLS = Number(process.env.BENCH_CELLS ?? 19);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 20);
const R = 'bench-dashboard';

interface U {
  code: string;
  name: string;
  level: string;
  parent: string | null;
  members: number;
  committee: boolean;
  children: number;
  ancestors: Array<{ code: string; name: string; level: string; standingCommittee: boolean }>;
}

function tree(): U[] {
  const out: U[] = [];
  const add = (u: Omit<U, 'ancestors' | 'children'>, parent: U | null): U => {
    const x: U = { ...u, children: 0, ancestors: parent ? [{ code: parent.code, name: parent.name, level: parent.level, standingCommittee: parent.committee }, ...parent.ancestors] : [] };
    if (parent) parent.children += 1;
    out.push(x);
    return x;
  };
  const root = add({ code: 'T', name: 'Đảng bộ tỉnh', level: 'tinh', parent: null, members: 90000, committee: true }, null);
  for (let d = 1; d <= DISTRICTS; d++) {
    const dist = add({ code: `T.H${d}`, name: `Đảng bộ huyện ${d}`, level: 'huyen', parent: 'T', members: 1500, committee: true }, root);
    for (let c = 1; c <= COMMUNES; c++) {
      const com = add({ code: `${dist.code}.X${c}`, name: `Đảng bộ xã ${c}`, level: 'xa', parent: dist.code, members: 150, committee: true }, dist);
      for (let k = 1; k <= CELLS; k++) add({ code: `${com.code}.C${k}`, name: `Chi bộ thôn ${k}`, level: 'chibo', parent: com.code, members: 25, committee: false }, com);
    }
  }
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;

async function main(): Promise<void> {
  const log = (s: string): void => console.log(`[bench] ${s}`);
  const dir = mkdtempSync(join(tmpdir(), 'trienkhai-bench-dash-'));
  const pg = await ensurePostgres({ dataDir: join(dir, 'pg'), port: 0, log: () => undefined });
  const db = connect(pg.url, { max: 10 });
  try {
    await migrateToLatest(db, { ownerUrl: pg.ownerUrl });
    const units = tree();
    const csv = ['code,name,level,parent,members,standing_committee', ...units.map((u) => `${u.code},${u.name},${u.level},${u.parent ?? ''},${u.members},${u.committee}`)].join('\n');
    const imported = await importUnits(db, 'bench.csv', csv, 'user:bench');
    log(`hierarchy: ${imported.units} units`);

    const start = Date.now() - 30 * 86_400_000;
    const studyDue = new Date(start + 15 * 86_400_000).toISOString();
    const planDue = new Date(start + 25 * 86_400_000).toISOString();
    const at = (days: number): string => new Date(start + days * 86_400_000).toISOString();
    const plan = { id: 'bench', title: 'bench', steps: [] };
    const events: AnyNewEvent[] = [];
    const ev = (streamId: string, seq: number, type: string, unitCode: string | null, occurredAt: string, payload: unknown, actor = 'system'): void => {
      events.push(parseNewEvent({ eventId: eventId(streamId, seq), streamId, streamSeq: seq, type, rolloutId: R, unitCode, actor, occurredAt, payload }));
    };
    ev(streams.rollout(R), 1, 'RolloutStarted', null, at(0), {
      rolloutId: R,
      resolution: { document: { text: '21-NQ/TW', issuer: 'TW', type: 'NQ', number: 21, date: '2022-06-16' }, title: 'Nghị quyết 21' },
      plan,
      planId: 'bench',
      rootUnit: 'T',
      hierarchyVersion: imported.version,
      units: units.length,
      requestedBy: 'user:bench',
    });
    let escalations = 0;
    units.forEach((u, i) => {
      const s = streams.unit(R, u.code);
      let seq = 0;
      ev(s, ++seq, 'UnitEnrolled', u.code, at(0), {
        unit: { code: u.code, name: u.name, level: u.level, parent: u.parent, members: u.members, standingCommittee: u.committee },
        ancestors: u.ancestors,
        steps: [
          { key: 'study', stepId: 'study', kind: 'studyConference', occurrence: 0, status: 'open', dueAt: studyDue },
          { key: 'issue', stepId: 'issue', kind: 'issuePlan', occurrence: 0, status: 'open', dueAt: planDue },
        ],
        children: u.children,
      });
      const fate = (i * 7 + Math.floor(i / 20)) % 10; // spread over every level: 0–5 studied (0 late), 6–9 overdue and escalated
      if (fate <= 5) {
        ev(
          s,
          ++seq,
          'StudySessionReported',
          u.code,
          at(fate === 0 ? 20 : 10),
          { key: 'study', reportId: `${u.code}-s`, sessionDate: at(10).slice(0, 10), attended: u.members, makeup: false, totalAttended: u.members, members: u.members },
          `unit:${u.code}`,
        );
        ev(s, ++seq, 'StepCompleted', u.code, at(fate === 0 ? 20 : 10), { key: 'study', dueAt: studyDue, lateByMs: fate === 0 ? 5 * 86_400_000 : 0, resolvedEscalations: [] }, `unit:${u.code}`);
        if (fate <= 2) {
          ev(
            s,
            ++seq,
            'PlanIssued',
            u.code,
            at(20),
            { key: 'issue', reportId: `${u.code}-p`, document: { text: `${i}-KH/HU`, issuer: 'HU', type: 'KH', number: i, date: at(20).slice(0, 10) }, title: 'Kế hoạch' },
            `unit:${u.code}`,
          );
          ev(s, ++seq, 'StepCompleted', u.code, at(20), { key: 'issue', dueAt: planDue, lateByMs: 0, resolvedEscalations: [] }, `unit:${u.code}`);
        }
      } else {
        const to = u.ancestors.find((a) => a.standingCommittee) ?? { code: u.code, name: u.name, level: u.level, standingCommittee: u.committee };
        ev(s, ++seq, 'DeadlineMissed', u.code, at(15), { key: 'study', dueAt: studyDue, waitingForParent: false });
        ev(s, ++seq, 'Escalated', u.code, at(16), { key: 'study', escalationId: `${R}/${u.code}/study/${studyDue}/t1`, tier: 1, recipient: to, self: to.code === u.code, dueAt: studyDue });
        escalations += 1;
      }
    });
    const t0 = Date.now();
    for (let i = 0; i < events.length; i += 500) {
      await appendEvents(db, events.slice(i, i + 500));
      if (i % 10_000 === 0) log(`recording events… ${i}/${events.length}`);
    }
    log(`recorded ${events.length} events (${units.length} units, ${escalations} escalations) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const noTemporal = async (): Promise<Client> => {
      throw new Error('the dashboard benchmark only reads');
    };
    const api = await startApiServer({ db, client: noTemporal, staticFiles: dashboardFiles() });
    const { token } = await issueToken(db, { role: 'ops', label: 'bench' });
    const committee = await issueToken(db, { role: 'committee', unitCode: 'T.H1', label: 'bench' });
    const get = async (path: string, bearer = token): Promise<{ ms: number; bytes: number }> => {
      const t = performance.now();
      const r = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
      const body = await r.text();
      if (!r.ok) throw new Error(`${path}: ${r.status} ${body.slice(0, 200)}`);
      return { ms: performance.now() - t, bytes: body.length };
    };
    const pages: Array<[string, string, string?]> = [
      ['overview', `/api/v1/rollouts/${R}`],
      ['charts', `/api/v1/rollouts/${R}/charts`],
      ['tree: the province’s children (page 1 of 100)', `/api/v1/rollouts/${R}/units?parent=T&pageSize=100`],
      ['tree: a commune’s cells', `/api/v1/rollouts/${R}/units?parent=T.H1.X1&pageSize=100`],
      ['overdue filter, page 1', `/api/v1/rollouts/${R}/units?overdue=true&pageSize=100`],
      ['overdue filter, page 30', `/api/v1/rollouts/${R}/units?overdue=true&pageSize=100&page=30`],
      ['committee inbox (T.H1)', `/api/v1/escalations?recipient=T.H1&status=open&pageSize=100`, committee.token],
      ['all open escalations, page 1', `/api/v1/escalations?rolloutId=${R}&pageSize=100`],
      ['unit page', `/api/v1/rollouts/${R}/units/T.H1.X1.C7`],
      ['unit timeline', `/api/v1/rollouts/${R}/units/T.H1.X1.C7/timeline`],
      ['dashboard page (index.html)', '/'],
    ];
    const rows: string[] = [];
    for (const [name, path, bearer] of pages) {
      const first = await get(path, bearer).catch((e: Error) => e);
      if (first instanceof Error) {
        rows.push(`${name.padEnd(48)} ${first.message}`);
        continue;
      }
      const ms: number[] = [];
      for (let i = 0; i < REPEAT; i++) ms.push((await get(path, bearer)).ms);
      rows.push(`${name.padEnd(48)} median ${median(ms).toFixed(1).padStart(7)} ms   p95 ${p95(ms).toFixed(1).padStart(7)} ms   ${(first.bytes / 1024).toFixed(1).padStart(7)} KB`);
    }
    log(`API on a ${units.length}-unit rollout, ${REPEAT} requests each (after one warm-up):`);
    for (const r of rows) console.log(`  ${r}`);
    await browserTimings(api.url, token, log);
    await api.close();
  } finally {
    await db.destroy();
    await pg.stop();
  }
}

/**
 * What a person waits for in a real browser (Debian's Chromium, if installed): from navigation until
 * the page shows what they came for. Each is measured 5 times; the median is printed.
 */
async function browserTimings(url: string, token: string, log: (s: string) => void): Promise<void> {
  if (!existsSync('/usr/bin/chromium')) return log('browser timings skipped: /usr/bin/chromium is not installed (npx jest test/web installs it)');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${url}/#token=${encodeURIComponent(token)}`);
    await page.locator('.session .who').waitFor();
    const time = async (name: string, go: () => Promise<unknown>, ready: string): Promise<void> => {
      const ms: number[] = [];
      for (let i = 0; i < 5; i++) {
        await page.goto(`${url}/#/`);
        await page.locator('h1').waitFor();
        const t = performance.now();
        await go();
        await page.locator(ready).first().waitFor({ timeout: 60_000 });
        ms.push(performance.now() - t);
      }
      const nodes = await page.locator('li.node').count();
      console.log(`  ${name.padEnd(48)} median ${median(ms).toFixed(0).padStart(7)} ms   (${nodes} tree rows in the page)`);
    };
    const r = encodeURIComponent(R);
    log(`in Chromium, until the page shows it:`);
    await time('overview with its four charts', () => page.goto(`${url}/#/r/${r}`), '[data-chart="escalations"] svg');
    await time('tree: the province and its districts', () => page.goto(`${url}/#/r/${r}/tree`), 'li.node[data-unit="T.H50"], li.node[data-unit="T.H1"] .chip');
    await time(
      'tree: a district expanded (its communes)',
      async () => {
        await page.goto(`${url}/#/r/${r}/tree`);
        await page.locator('li.node[data-unit="T.H1"] .twisty').click();
      },
      'li.node[data-unit="T.H1.X10"]',
    );
    await time('overdue units only (first page of 100)', () => page.goto(`${url}/#/r/${r}/tree?overdue=true`), '#overdue-list li.node');
    await time('escalation inbox of a district', () => page.goto(`${url}/#/inbox?recipient=T.H1`), '#escalations tr[data-unit], #no-escalations');
  } finally {
    await browser.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
