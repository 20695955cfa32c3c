/**
 * The demo behind `npm start`: import the sample province (Bắc Giang, 2022), start a rollout with the
 * `demo` plan (deadlines minutes apart) and play the units: most report on time, some late, some not
 * at all — so reminders, escalations to the standing committee above, an extension and late
 * completions happen while you watch; a minute in, the plan is amended (the lower levels get more
 * time), and once study is overdue the province extends one district's overdue units in one batch.
 * Every report goes through the same Updates a real unit uses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from '@temporalio/client';
import type { Connection } from '@temporalio/client';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database';
import { formatLocal, localDateOf } from '../domain/time';
import { DomainError } from '../domain/errors';
import { extendDeadline, importUnits, resolvePlan, startRollout, submitReport, type Deps } from '../app/commands';
import { amendRollout, previewAmendment } from '../app/amendments';
import { previewBatch, startBatch } from '../app/batches';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export function packageRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

/** A small deterministic hash → [0, 1), so the demo plays the same way every time. */
function chance(key: string): number {
  let h = 2166136261;
  for (const c of key) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return ((h >>> 0) % 10_000) / 10_000;
}

/** How a unit behaves on a step: report after `delayS` seconds from when the step opened, or never. */
function behaviour(unit: string, step: string): { delayS: number } | undefined {
  const r = chance(`${unit}/${step}`);
  if (unit === 'BG') return { delayS: step.startsWith('draft') ? 40 : 30 }; // the province is on time
  if (r < 0.7) return { delayS: 15 + Math.round(chance(`${unit}/${step}/t`) * 90) }; // on time
  if (r < 0.88) return { delayS: 200 + Math.round(chance(`${unit}/${step}/t`) * 120) }; // late
  return undefined; // never (stays escalated)
}

export async function runDemo(opts: { db: Kysely<Database>; connection: Connection; namespace: string; io: Io; isStopping: () => boolean }): Promise<void> {
  const { db, io } = opts;
  const client = new Client({ connection: opts.connection, namespace: opts.namespace });
  const deps: Deps = { db, client };
  const file = join(packageRoot(), 'examples', 'bac-giang-2022', 'units.csv');
  const imported = await importUnits(db, 'bac-giang-2022/units.csv', readFileSync(file, 'utf8'), 'user:demo');
  io.out(`Demo: imported ${imported.units} units of Bắc Giang (2022) as hierarchy version ${imported.version}.`);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  const started = await startRollout(deps, {
    resolution: '21-NQ/TW',
    resolutionDate: '2022-06-16',
    title: 'Nghị quyết 21-NQ/TW về tăng cường củng cố, xây dựng tổ chức cơ sở đảng và nâng cao chất lượng đội ngũ đảng viên',
    rootUnit: 'BG',
    plan: 'demo',
    rolloutId: `demo-${stamp}`,
    requestedBy: 'user:demo',
    hierarchyVersion: imported.version,
  });
  const id = started.rolloutId;
  io.out(`Demo: started rollout ${id} (${started.units} unit workflows, plan "demo": study due in 3 min, plans cascade down after the province issues its own).`);
  io.out('');
  io.out('In another terminal, try:');
  io.out(`  npx trienkhai rollout status ${id}`);
  io.out(`  npx trienkhai rollout status ${id} --unit BG.YT`);
  io.out(`  npx trienkhai escalations --rollout ${id} --recipient BG`);
  io.out(`  npx trienkhai report ${id} --unit BG.YT.BoHa --step study --attended 10`);
  io.out(`  npx trienkhai extend ${id} --unit BG.SD --step study --committee BG --until ${new Date(Date.now() + 3600_000).toISOString()} --reason "Lũ lụt"`);
  io.out('');

  const acted = new Set<string>();
  let lastPosition = '0';
  let extended = false;
  let amended = false;
  let batched = false;
  const t0 = Date.now();
  let lastSummary = 0;
  while (!opts.isStopping()) {
    await new Promise((r) => setTimeout(r, 2000));
    if (opts.isStopping()) break;
    const now = Date.now();
    // Play the units whose steps are open and whose time has come.
    const open = await db
      .selectFrom('unit_steps as s')
      .innerJoin('rollout_units as u', (j) => j.onRef('u.rollout_id', '=', 's.rollout_id').onRef('u.unit_code', '=', 's.unit_code'))
      .select(['s.unit_code', 's.step_id', 's.step_key', 's.kind', 's.opened_at', 's.attended', 'u.members', 's.occurrence'])
      .where('s.rollout_id', '=', id)
      .where('s.status', '=', 'open')
      .execute();
    for (const st of open) {
      const key = `${st.unit_code}/${st.step_key}`;
      if (acted.has(key) || !st.opened_at) continue;
      const b = behaviour(st.unit_code, st.step_id);
      if (!b || now < new Date(st.opened_at).getTime() + b.delayS * 1000) continue;
      acted.add(key);
      const today = localDateOf(now);
      const base = { reportId: `demo-${key}`.replace(/[^A-Za-z0-9._:-]/g, '-'), unitCode: st.unit_code, stepId: st.step_id, occurrence: st.occurrence };
      const report =
        st.kind === 'studyConference'
          ? { ...base, kind: 'studyConference' as const, sessionDate: today, attended: Math.max(1, st.members - st.attended) }
          : st.kind === 'draftPlan'
            ? { ...base, kind: 'draftPlan' as const, draftedBy: 'Ban Tổ chức', title: 'Dự thảo kế hoạch thực hiện Nghị quyết 21-NQ/TW', submittedOn: today }
            : st.kind === 'issuePlan'
              ? {
                  ...base,
                  kind: 'issuePlan' as const,
                  documentNumber: `${10 + Math.floor(chance(key) * 80)}-KH/${st.unit_code === 'BG' ? 'TU' : 'ĐU'}`,
                  issuedOn: today,
                  title: 'Kế hoạch thực hiện Nghị quyết 21-NQ/TW',
                }
              : { ...base, kind: 'periodicReport' as const, period: `kỳ ${st.occurrence + 1}`, indicators: { goodOrBetterPct: 90 + Math.round(chance(key) * 80) / 10 }, submittedOn: today };
      submitReport(deps, id, report).catch((e: unknown) => {
        if (!(e instanceof DomainError)) io.err(`[demo] report for ${key} failed: ${e instanceof Error ? e.message : String(e)}`);
      });
    }
    // One standing committee grants an extension, to show timers being reset.
    if (!extended) {
      const esc = await db
        .selectFrom('escalations')
        .selectAll()
        .where('rollout_id', '=', id)
        .where('status', '=', 'open')
        .where('recipient_code', '=', 'BG')
        .orderBy('opened_at')
        .limit(1)
        .executeTakeFirst();
      if (esc && now - new Date(esc.opened_at).getTime() > 20_000) {
        extended = true;
        const stepId = esc.step_key.split('#')[0]!;
        await extendDeadline(deps, id, esc.unit_code, {
          requestId: `demo-extend-${esc.unit_code}`,
          stepId,
          committeeCode: 'BG',
          until: new Date(now + 5 * 60_000).toISOString(),
          reason: 'Đơn vị đề nghị gia hạn do thiên tai',
          decision: 'Đồng ý gia hạn 5 phút',
          decidedBy: 'Thường trực Tỉnh ủy',
        })
          .then((r) =>
            io.out(
              `[demo] Ban Thường vụ Tỉnh ủy (BG) extended ${esc.unit_code} ${r.stepKey} to ${formatLocal(new Date(r.newDueAt))}: ${r.resolvedEscalations.length} escalation(s) resolved, timers reset.`,
            ),
          )
          .catch((e: unknown) => io.err(`[demo] extension failed: ${e instanceof Error ? e.message : String(e)}`));
      }
    }
    // A minute in, the province amends the plan: the lower levels get two more minutes to issue theirs.
    if (!amended && now - t0 > 60_000) {
      amended = true;
      const plan = resolvePlan('demo');
      const v2 = { ...plan, steps: plan.steps.map((st) => (st.id === 'issue-lower' ? { ...st, deadline: { kind: 'afterParentStep' as const, stepKind: 'issuePlan' as const, after: 'PT6M' } } : st)) };
      const request = { plan: v2, reason: 'Ban Thường vụ Tỉnh ủy lùi thời hạn ban hành kế hoạch cấp dưới', decidedBy: 'user:demo' };
      previewAmendment(db, id, request)
        .then(async (preview) => {
          io.out(`[demo] Amendment (plan version ${preview.toVersion}): ${preview.changes.map((c) => c.vi).join('; ')} — ${preview.units} running units apply it.`);
          const r = await amendRollout(deps, id, { ...request, fingerprint: preview.fingerprint, batchId: `demo-amend-${stamp}` });
          io.out(`[demo] Plan version ${r.version} recorded; batch ${r.batchId} applies it to ${r.units} units (npx trienkhai batch status ${r.batchId}).`);
        })
        .catch((e: unknown) => io.err(`[demo] amendment failed: ${e instanceof Error ? e.message : String(e)}`));
    }
    // Once study is overdue, the province's committee extends the overdue communes of one district in one batch.
    if (!batched && now - t0 > 200_000) {
      const worst = await db
        .selectFrom('unit_steps as s')
        .innerJoin('rollout_units as u', (j) => j.onRef('u.rollout_id', '=', 's.rollout_id').onRef('u.unit_code', '=', 's.unit_code'))
        .select(['u.parent_code', (eb) => eb.fn.countAll<string>().as('n')])
        .where('s.rollout_id', '=', id)
        .where('s.step_id', '=', 'study')
        .where('s.status', 'in', ['open', 'waiting'])
        .where('s.due_at', '<', new Date(now))
        .where('u.level', '=', 'coso')
        .groupBy('u.parent_code')
        .orderBy('n', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (worst?.parent_code) {
        batched = true;
        const request = {
          filter: { within: worst.parent_code, level: 'coso', status: 'overdue' as const, step: 'study' },
          action: { action: 'extend' as const, step: 'study', until: new Date(now + 4 * 60_000).toISOString() },
          committee: 'BG',
          reason: 'Gia hạn học tập cho các cơ sở bị ảnh hưởng mưa lũ',
          decidedBy: 'committee:BG/Thường trực Tỉnh ủy',
        };
        previewBatch(db, id, request, { role: 'ops' })
          .then(async (preview) => {
            const b = await startBatch(deps, id, { ...request, fingerprint: preview.fingerprint, batchId: `demo-batch-${stamp}` }, { role: 'ops' });
            io.out(`[demo] Batch ${b.batchId}: BG extends the study deadline of ${b.units} overdue grassroots units of ${worst.parent_code} at once (npx trienkhai batch status ${b.batchId}).`);
          })
          .catch((e: unknown) => io.err(`[demo] batch failed: ${e instanceof Error ? e.message : String(e)}`));
      }
    }
    // A live feed of what the timers did.
    const events = await db
      .selectFrom('events')
      .select(['position', 'type', 'unit_code', 'payload'])
      .where('rollout_id', '=', id)
      .where('position', '>', lastPosition)
      .orderBy('position')
      .limit(2000)
      .execute();
    const counts: Record<string, number> = {};
    const escalated: string[] = [];
    for (const e of events) {
      lastPosition = e.position;
      counts[e.type] = (counts[e.type] ?? 0) + 1;
      if (e.type === 'Escalated') {
        const p = e.payload as { key: string; tier: number; recipient: { code: string } };
        escalated.push(`${e.unit_code} ${p.key} → ${p.recipient.code} (tier ${p.tier})`);
      }
    }
    const clock = `[${String(Math.floor((now - t0) / 60_000)).padStart(2, '0')}:${String(Math.floor(((now - t0) / 1000) % 60)).padStart(2, '0')}]`;
    if (counts.ReminderSent) io.out(`${clock} ${counts.ReminderSent} reminder(s) sent`);
    if (counts.DeadlineMissed) io.out(`${clock} ${counts.DeadlineMissed} deadline(s) missed`);
    if (counts.RolloutCancelled) io.out(`${clock} the rollout was cancelled`);
    if (counts.UnitCancelled) io.out(`${clock} ${counts.UnitCancelled} unit(s) stopped by the cancellation`);
    if (counts.PlanAmended) io.out(`${clock} ${counts.PlanAmended} unit(s) applied the amended plan`);
    if (counts.BatchCompleted) io.out(`${clock} a batch finished (every unit answered)`);
    if (escalated.length) io.out(`${clock} escalated: ${escalated.slice(0, 6).join('; ')}${escalated.length > 6 ? `; and ${escalated.length - 6} more` : ''}`);
    if (now - lastSummary > 20_000) {
      lastSummary = now;
      const s = await sql<{ units: string; study_done: string; plans: string; plans_done: string; open_esc: string }>`
        select (select count(*) from rollout_units where rollout_id = ${id}) as units,
               (select count(*) from unit_steps where rollout_id = ${id} and kind = 'studyConference' and status = 'done') as study_done,
               (select count(*) from unit_steps where rollout_id = ${id} and kind = 'issuePlan') as plans,
               (select count(*) from unit_steps where rollout_id = ${id} and kind = 'issuePlan' and status = 'done') as plans_done,
               (select count(*) from escalations where rollout_id = ${id} and status = 'open') as open_esc`.execute(db);
      const r = s.rows[0]!;
      io.out(`${clock} units enrolled ${r.units}/${started.units} · studied ${r.study_done}/${r.units} · plans issued ${r.plans_done}/${r.plans} · open escalations ${r.open_esc}`);
    }
  }
}
