/**
 * Text renderings of the application layer's views (app/views.ts) that several commands print: a
 * rollout's overview, a unit's detail, a table of escalations. With --json the view itself is printed.
 */
import type { Kysely } from 'kysely';
import { unitsPage } from '../app/reads';
import type { Escalation, Overview, UnitDetail } from '../app/views';
import type { Database } from '../db/database';
import { formatDurationHuman, formatLocal, type Lang } from '../domain/time';
import { levelName, stepKindName } from '../domain/wording';
import type { Io } from './command';
import { label, percent, table } from './format';

/** A rollout's progress, open escalations and overdue steps (live, or as folded at a past instant). */
export async function renderOverview(db: Kysely<Database>, o: Overview, json: boolean, io: Io, lang: Lang): Promise<void> {
  if (json) {
    io.out(JSON.stringify(o, null, 2));
    return;
  }
  const { rollout, counts, progress } = o;
  io.out(`${label('rollout', lang)} ${rollout.rolloutId} — ${rollout.resolution} (${rollout.resolutionDate}): ${rollout.title}`);
  io.out(
    `${label('plan', lang)} ${rollout.planId} · ${label('hierarchy', lang)} ${rollout.hierarchyVersion} · ${label('started', lang)} ${formatLocal(new Date(rollout.startedAt), lang)} · ${label('status', lang).toLowerCase()}: ${label(rollout.status === 'completed' ? 'finished' : rollout.status === 'cancelled' ? 'cancelled' : 'running', lang)}`,
  );
  const enrolling = rollout.units !== null && counts.units < rollout.units ? ` / ${rollout.units} ${label('enrolled', lang)}` : '';
  io.out(
    `${label('units', lang)}: ${counts.units}${enrolling} (${counts.completed} ${label('completed', lang)}${counts.cancelled ? `, ${counts.cancelled} ${label('stoppedByCancel', lang)}` : ''}${counts.merged ? `, ${counts.merged} ${label('mergedUnits', lang)}` : ''}${counts.dissolved ? `, ${counts.dissolved} ${label('dissolvedUnits', lang)}` : ''}${counts.suspended ? `, ${counts.suspended} ${label('suspendedUnits', lang)}` : ''}) · ${label('openEscalations', lang)}: ${counts.openEscalations}`,
  );
  io.out('');
  io.out(
    table(
      [
        label('level', lang),
        label('step', lang),
        label('units', lang),
        label('done', lang),
        label('late', lang),
        label('open', lang),
        label('waiting', lang),
        label('overdue', lang),
        label('coverage', lang),
      ],
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

/** A unit of a rollout: its steps (status, due, late by, detail) and its escalations. */
export function renderUnitDetail(d: UnitDetail, json: boolean, io: Io, lang: Lang): void {
  if (json) {
    io.out(JSON.stringify(d, null, 2));
    return;
  }
  const { unit } = d;
  io.out(
    `${unit.unitCode} — ${unit.name} (${levelName(unit.level, lang)}, ${unit.members} ${lang === 'vi' ? 'đảng viên' : 'members'}${unit.standingCommittee ? (lang === 'vi' ? ', có Ban Thường vụ' : ', has a standing committee') : ''}) · ${unit.status}`,
  );
  io.out('');
  io.out(
    table(
      [label('step', lang), label('status', lang), label('due', lang), label('completedAt', lang), label('lateBy', lang), label('detail', lang)],
      d.steps.map((st) => {
        const status = st.overdue
          ? label('stepOverdue', lang)
          : label(st.status === 'done' ? 'stepDone' : st.status === 'open' ? 'stepOpen' : st.status === 'cancelled' ? 'cancelled' : 'stepWaiting', lang);
        const detail =
          st.kind === 'studyConference'
            ? `${st.attended}/${unit.members} (${percent(st.attended, unit.members)})`
            : st.document
              ? `${st.document.text} ${st.document.date ?? ''}`
              : stepKindName(st.kind, lang);
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

/** Escalations as a table: unit, step, tier, committee, due, opened, status, ID. */
export function escalationTable(rows: Escalation[], lang: Lang): string {
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
        : label(e.resolution === 'extended' ? 'resolvedExtended' : e.resolution === 'cancelled' ? 'resolvedCancelled' : 'resolvedCompleted', lang) +
          (e.resolution === 'completed' && e.overdueMs > 0 ? ` ${formatDurationHuman(e.overdueMs, lang)}` : ''),
      e.escalationId,
    ]),
  );
}
