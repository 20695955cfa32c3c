/**
 * What every command that runs a batch shares (`trienkhai batch …`, `trienkhai rollout amend`): the
 * confirmation after the preview (asked in a terminal, else `--yes`), the progress bar on stderr
 * while the batch workflow works through the units, and the result with the units that refused.
 */
import { createInterface } from 'node:readline/promises';
import { batchStatus, type BatchStatus } from '../app/batches';
import { BATCH_ACTION_WORDS, type BatchItemStatus } from '../domain/batches';
import type { Io } from './command';
import { table } from './format';
import type { Session } from './session';

const words = (a: string) => BATCH_ACTION_WORDS[a as keyof typeof BATCH_ACTION_WORDS] ?? { vi: a, en: a };

export async function confirmed(yes: boolean, units: number, io: Io): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    io.out('Chưa làm gì: thêm --yes để áp dụng. / Nothing done yet: add --yes to apply.');
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const a = (await rl.question(`Áp dụng cho ${units} đơn vị? / Apply to ${units} units? [y/N] `)).trim().toLowerCase();
    return a === 'y' || a === 'yes' || a === 'c' || a === 'có' || a === 'co';
  } finally {
    rl.close();
  }
}

export const bar = (done: number, total: number) => {
  const w = 30;
  const n = total ? Math.round((done / total) * w) : w;
  return `[${'#'.repeat(n)}${'.'.repeat(w - n)}] ${done}/${total}`;
};
export const countsLine = (c: Record<BatchItemStatus, number>) => `xong ${c.done} · không đổi ${c.unchanged} · từ chối ${c.refused} / done ${c.done}, unchanged ${c.unchanged}, refused ${c.refused}`;

/** Follow a batch until every unit has answered, with a progress bar on stderr. */
export async function follow(s: Session, batchId: string, io: Io): Promise<BatchStatus> {
  let last = -1;
  for (;;) {
    const st = await batchStatus(s.db, batchId, { status: 'refused', limit: 20 });
    const answered = st.units - st.counts.pending;
    if (answered !== last) {
      io.err(`[trienkhai] ${bar(answered, st.units)} ${countsLine(st.counts)}`);
      last = answered;
    }
    if (st.status === 'completed') return st;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function renderResult(st: BatchStatus, io: Io): void {
  io.out(`Lô ${st.batchId} ${st.status === 'completed' ? 'đã xong' : 'đang chạy'} / batch ${st.status}: ${words(st.action).vi}, ${st.units} đơn vị — ${countsLine(st.counts)}`);
  const refused = st.items.filter((i) => i.status === 'refused');
  if (refused.length) {
    io.out('Bị từ chối / refused:');
    io.out(
      table(
        ['Mã / code', 'Lý do / why'],
        refused.map((i) => [i.unitCode, i.message ?? '']),
      ),
    );
    if (st.counts.refused > refused.length) io.out(`… (${st.counts.refused} in all: trienkhai batch status ${st.batchId} --only refused)`);
  }
}
