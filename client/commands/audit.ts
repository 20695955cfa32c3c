/**
 * `trienkhai audit …`: the auditors' tools over the event log, Temporal's histories and export bundles.
 * Exit code 3 when a check fails (tampered, mismatched, not replayable), so a scheduled check can tell
 * tampering from a failure to check (1).
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { asOf, requireRollout, rolloutOverview, timelinePage, unitDetail } from '../../app/reads';
import { MAX_PAGE_SIZE, type Paging } from '../../app/views';
import { bundleEventRows, bundleHistories, exportBundle, isBundle, verifyBundle } from '../../audit/bundle';
import { crosscheck, type CrosscheckResult } from '../../audit/crosscheck';
import { collectRolloutHistories, type CollectedHistories } from '../../audit/histories';
import { replayHistories, type ReplayInput } from '../../audit/replay';
import { linkedHead, verifyChain, type VerifyResult } from '../../db/audit';
import { checkCheckpoint, cutCheckpoint } from '../../db/checkpoints';
import { rebuildReadModel } from '../../db/rebuild';
import { DomainError } from '../../domain/errors';
import { formatLocal, parseDeadlineText, toLocalIso } from '../../domain/time';
import { defineCommand, defineGroup, type Io } from '../command';
import { auditKeyFile } from '../../stack/config';
import { readInputFile, readJsonFile } from '../files';
import { JSON_OPTION, LANG_OPTION, PAGING_OPTIONS, langOf, paging } from '../options';
import { renderOverview, renderUnitDetail } from '../render';
import { withSession, type Session } from '../session';

const ROLLOUT_ID = { name: 'ROLLOUT_ID', required: true, description: 'the rollout', fills: ['rolloutId'] } as const;
const TARGET = [{ name: 'ROLLOUT_ID|BUNDLE_DIR', required: true, description: 'a rollout (its histories fetched from Temporal) or an export bundle' }] as const;

/** Every run of a live rollout's workflows, fetched from Temporal (with progress on stderr). */
async function rolloutHistories(s: Session, rolloutId: string, io: Io, progress: boolean, rename: () => (e: unknown) => never): Promise<CollectedHistories> {
  await requireRollout(s.db, rolloutId).catch(rename());
  if (progress) io.err(`[trienkhai] fetching the workflow histories of ${rolloutId}…`);
  return collectRolloutHistories(await s.deps(), rolloutId, (n) => {
    if (progress) io.err(`[trienkhai] ${n} histories fetched…`);
  });
}

const timeline = defineCommand({
  name: 'timeline',
  summary: 'the story of a rollout or unit, told from the event log',
  positionals: [ROLLOUT_ID],
  arity: 'give the rollout ID',
  options: { unit: { type: 'string', value: 'CODE', description: "one unit's story", fills: ['unitCode'] }, ...PAGING_OPTIONS, ...JSON_OPTION, ...LANG_OPTION },
  examples: ['trienkhai audit timeline 21-NQ-TW.2022-06-16.BG --unit BG.LN --lang en'],
  async run({ values, args: [rolloutId], io, rename }) {
    const lang = langOf(values);
    const unit = values.unit;
    return withSession(async (s) => {
      const read = (p: Paging) => timelinePage(s.db, rolloutId, unit, lang, p).catch(rename());
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
  },
});

const asOfCommand = defineCommand({
  name: 'as-of',
  summary: 'a rollout (or unit) as it stood at an instant, folded from the events',
  positionals: [ROLLOUT_ID, { name: 'INSTANT', required: true, description: 'a date (the end of that day, Vietnam time) or an instant', fills: ['at'] }],
  arity: 'give the rollout ID and an instant, e.g. audit as-of R 2022-09-30 (the end of that day)',
  options: { unit: { type: 'string', value: 'CODE', description: 'one unit as it stood', fills: ['unitCode'] }, ...JSON_OPTION, ...LANG_OPTION },
  examples: ['trienkhai audit as-of 21-NQ-TW.2022-06-16.BG 2022-09-30', 'trienkhai audit as-of 21-NQ-TW.2022-06-16.BG 2022-09-30 --unit BG.YT --json'],
  async run({ values, args: [rolloutId, when], io, rename }) {
    let at: Date;
    try {
      at = parseDeadlineText(when).at;
    } catch (e) {
      throw DomainError.of('instant', e instanceof Error ? e.message : String(e));
    }
    const lang = langOf(values);
    const json = values.json === true;
    return withSession(async (s) => {
      await asOf(s.db, rolloutId, at, async (trx) => {
        if (!json) io.out(`${lang === 'vi' ? 'Trạng thái tại' : 'State as of'} ${formatLocal(at, lang)} (${toLocalIso(at)}), ${lang === 'vi' ? 'dựng lại từ sự kiện' : 'folded from the events'}:\n`);
        if (values.unit) renderUnitDetail(await unitDetail(trx, rolloutId, values.unit, at).catch(rename()), json, io, lang);
        else await renderOverview(trx, await rolloutOverview(trx, rolloutId, at), json, io, lang);
      }).catch(rename());
      return 0;
    });
  },
});

const verify = defineCommand({
  name: 'verify',
  summary: 'prove the event log (or an export bundle) intact: hashes, links, signed checkpoints',
  positionals: [{ name: 'BUNDLE_DIR', description: 'an export bundle, checked with no database (default: the live record)' }],
  options: {
    'from-checkpoint': { type: 'string', value: 'FILE', description: 'also prove that the log extends this saved checkpoint' },
    'public-key': { type: 'string', value: 'FILE', description: "your copy of the signing key's public key: checkpoints must be signed by it" },
    ...JSON_OPTION,
  },
  examples: ['trienkhai audit verify', 'trienkhai audit verify --from-checkpoint checkpoint-1.json', 'trienkhai audit verify audit-demo --public-key my-copy-of-public-key.pem'],
  async run({ values, args: [bundleDir], io }) {
    const checkpointFile = values['from-checkpoint'];
    const checkpoint = checkpointFile ? readJsonFile(checkpointFile) : undefined;
    const trusted = values['public-key'] ? readInputFile(values['public-key']) : undefined;
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
        io.out(
          `${good.length} of ${r.checkpoints.length} signed checkpoint(s) hold${r.key === 'trusted' ? ' under the key you gave' : " under the bundle's own key (pass --public-key with your copy to pin the signer)"}${good.length ? `; the latest covers events #1–#${Math.max(...good.map((c) => c.seq))}` : ''}.`,
        );
        for (const c of r.checkpoints) for (const p of c.problems) io.out(`  - checkpoint of #1–#${c.seq} (${c.createdAt}): ${p}`);
        if (r.unsigned) io.out(`  - ${r.unsigned} event(s) at the end are covered by no valid signed checkpoint`);
        if (r.seal.completeUpTo)
          io.out(`Nothing was left out: the export's signature covers the whole log up to event #${r.seal.completeUpTo.seq}, as of ${formatLocal(new Date(r.seal.completeUpTo.exportedAt))}.`);
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
        io.out(
          `${r.checkpoints.holding} of ${r.checkpoints.stored} checkpoint(s) stored with it hold${r.checkpoints.provenUpTo ? `; the latest covers events #1–#${r.checkpoints.provenUpTo}` : ''}${r.checkpoints.brokenByRows ? `: ${r.checkpoints.brokenByRows} no longer hold because they cover the rows named above` : ''}.`,
        );
        if (checkpoint !== undefined) printFromCheckpoint(fromCheckpoint);
      }
      // A distinct exit code, so a scheduled check can tell tampering from a failure to check.
      return ok ? 0 : 3;
    });
  },
});

const checkpoint = defineCommand({
  name: 'checkpoint',
  summary: 'sign a checkpoint of the log now (keep a copy outside the system)',
  positionals: [],
  options: { out: { type: 'string', value: 'FILE', description: 'also write the checkpoint to this file' }, ...JSON_OPTION },
  examples: ['trienkhai audit checkpoint --out checkpoint-1.json'],
  async run({ values, io }) {
    // The file is checked before anything is signed: a bad --out records nothing.
    if (values.out !== undefined) {
      const parent = dirname(resolve(values.out));
      if (values.out.trim() === '' || (existsSync(values.out) && statSync(values.out).isDirectory())) throw DomainError.of('--out', `${values.out || '""'} is not a file name`);
      if (!existsSync(parent) || !statSync(parent).isDirectory()) throw DomainError.of('--out', `cannot write ${values.out}: ${parent} is not an existing folder`);
    }
    return withSession(async (s) => {
      const c = await cutCheckpoint(s.db, auditKeyFile());
      if (values.out) writeFileSync(values.out, `${JSON.stringify(c, null, 2)}\n`);
      if (values.json) io.out(JSON.stringify(c, null, 2));
      else io.out(`Checkpoint of events #1–#${c.seq} signed: Merkle root ${c.merkleRoot}${values.out ? `, written to ${values.out}` : ''}. Keep a copy outside the system.`);
      return 0;
    });
  },
});

const rebuild = defineCommand({
  name: 'rebuild',
  summary: 're-project the read model from the events and compare it with the live one',
  positionals: [],
  options: { ...JSON_OPTION },
  async run({ values, io }) {
    return withSession(async (s) => {
      const r = await rebuildReadModel(s.db, {
        onProgress: (n) => {
          if (!values.json && n % 20_000 === 0) io.err(`[trienkhai] re-projected ${n} events…`);
        },
      });
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
  },
});

const exportCommand = defineCommand({
  name: 'export',
  summary: 'write a self-contained bundle (events, checkpoints, histories) into a new folder',
  positionals: [ROLLOUT_ID, { name: 'DIR', required: true, description: 'a new (or empty) folder' }],
  arity: 'give the rollout ID and a new folder, e.g. audit export R ./audit-R',
  options: { ...JSON_OPTION },
  examples: ['trienkhai audit export 21-NQ-TW.2022-06-16.BG audit-21'],
  async run({ values, args: [rolloutId, dir], io, rename }) {
    return withSession(async (s) => {
      await requireRollout(s.db, rolloutId).catch(rename());
      const r = await exportBundle(await s.deps(), rolloutId, dir, { keyFile: auditKeyFile(), log: (l) => io.err(`[trienkhai] ${l}`) });
      const m = r.manifest;
      if (values.json) io.out(JSON.stringify({ dir, ...m, files: Object.keys(m.files).length }, null, 2));
      else {
        io.out(
          `Exported rollout ${rolloutId} to ${dir}: ${m.log.events} events (${m.log.rolloutEvents} of this rollout), ${m.checkpoints} checkpoint(s), ${m.histories.length} workflow run(s)${m.historiesGone.length ? `; ${m.historiesGone.length} run(s) Temporal no longer holds` : ''}.`,
        );
        if (r.unverified) io.out(`WARNING: the live record does not verify (${r.unverified.problems.length} problem(s)); the bundle holds it as it is. Run \`trienkhai audit verify ${dir}\`.`);
        else io.out(`Check it anywhere with: trienkhai audit verify ${dir} --public-key <your copy of public-key.pem>`);
      }
      return r.unverified ? 3 : 0;
    });
  },
});

const replay = defineCommand({
  name: 'replay',
  summary: "replay every workflow history against this build's workflow code",
  positionals: TARGET,
  arity: 'give a rollout ID or a bundle folder',
  options: { ...JSON_OPTION },
  examples: ['trienkhai audit replay audit-demo'],
  async run({ values, args: [target], io, rename }) {
    const progress = (done: number, total: number): void => {
      if (!values.json && (done % 100 === 0 || done === total)) io.err(`[trienkhai] replayed ${done} of ${total}`);
    };
    const run = async (rolloutId: string, inputs: ReplayInput[], gone: number): Promise<number> => {
      if (!values.json) io.err(`[trienkhai] replaying ${inputs.length} workflow run(s) of ${rolloutId} against this build's workflow code…`);
      const outcomes = await replayHistories(inputs, progress);
      const bad = outcomes.filter((o) => o.result !== 'ok');
      if (values.json) io.out(JSON.stringify({ rolloutId, ok: bad.length === 0, runs: outcomes.length, gone, failures: bad }, null, 2));
      else {
        for (const o of bad)
          io.out(`  - ${o.workflowId} run ${o.run} (${o.workflowType}${o.file ? `, ${o.file}` : ''}): ${o.result === 'nondeterministic' ? 'DETERMINISM VIOLATION' : 'cannot replay'}: ${o.error}`);
        io.out(
          bad.length === 0
            ? `All ${outcomes.length} workflow run(s) of ${rolloutId} replay against the current code.`
            : `${bad.length} of ${outcomes.length} workflow run(s) of ${rolloutId} do not replay against the current code.`,
        );
        if (gone) io.out(`(${gone} run(s) are no longer held by Temporal and were not replayed.)`);
      }
      return bad.length === 0 ? 0 : 3;
    };
    if (isBundle(target)) {
      const b = bundleHistories(target);
      return run(b.rolloutId, b.histories, 0);
    }
    return withSession(async (s) => {
      const c = await rolloutHistories(s, target, io, !values.json, () => rename({ rolloutId: 'ROLLOUT_ID' }));
      return run(target, c.runs, c.gone.length);
    });
  },
});

const crosscheckCommand = defineCommand({
  name: 'crosscheck',
  summary: 'match the workflow histories against the event rows, both ways',
  positionals: TARGET,
  arity: 'give a rollout ID or a bundle folder',
  options: { ...JSON_OPTION },
  examples: ['trienkhai audit crosscheck 21-NQ-TW.2022-06-16.BG', 'trienkhai audit crosscheck audit-demo'],
  async run({ values, args: [target], io, rename }) {
    const report = (r: CrosscheckResult): number => {
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else {
        for (const m of r.mismatches) io.out(`  - [${m.kind}] ${m.message}`);
        io.out(`Cross-checked ${r.runs} workflow run(s) of ${r.rolloutId} against the event log:`);
        for (const [cat, c] of Object.entries(r.counts))
          io.out(`  ${cat.padEnd(12)} ${String(c.history).padStart(6)} in the histories, ${String(c.log).padStart(6)} rows, ${String(c.matched).padStart(6)} matched`);
        if (r.inFlight) io.out(`  ${r.inFlight} event(s) are being recorded right now (append in flight).`);
        if (r.later) io.out(`  ${r.later} row(s) were recorded while the histories were being fetched; run it again to check them.`);
        if (r.uncheckable) io.out(`  ${r.uncheckable} row(s) belong to runs Temporal no longer holds (past retention) and cannot be cross-checked.`);
        io.out(r.ok ? 'Every event in the histories has its row, and every row its history event.' : `${r.mismatches.length} mismatch(es).`);
      }
      return r.ok ? 0 : 3;
    };
    if (isBundle(target)) {
      const b = bundleHistories(target);
      return report(crosscheck(b.rolloutId, await bundleEventRows(target), b.histories, [], b.historiesAsOfSeq));
    }
    return withSession(async (s) => {
      const asOfSeq = await linkedHead(s.db);
      const c = await rolloutHistories(s, target, io, !values.json, () => rename({ rolloutId: 'ROLLOUT_ID' }));
      const rows = await s.db.selectFrom('events').selectAll().where('rollout_id', '=', target).orderBy('position').execute();
      return report(crosscheck(target, rows, c.runs, c.gone, Number(asOfSeq.seq)));
    });
  },
});

export const audit = defineGroup({
  name: 'audit',
  section: 'audit',
  summary: "kiểm tra / the auditors' tools (exit code 3: tampered, mismatched, or not replayable)",
  commands: [timeline, asOfCommand, verify, checkpoint, rebuild, exportCommand, replay, crosscheckCommand],
});
