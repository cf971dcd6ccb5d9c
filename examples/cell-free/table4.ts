/**
 * Table IV of gnn-wireless-theory-to-practice-dmp.md against the optimal algorithm (bisection):
 * for M = 30, 50 APs and K = 6, 8, 10 users, maximum power, the MLP of its reference [30], HetGNN
 * and CF-PCGNN trained on 10,000 instances of the setting (and the GNNs trained at K = 6 for the
 * generalisation columns), tested on 2,000 fresh ones in process; the first `--nats` test
 * instances of every setting also run decentralised over NATS (one agent per AP and per user)
 * with both GNNs, which must give the same minimum rates. Usage:
 *   node --import tsx examples/cell-free/table4.ts [--train 10000] [--test 2000] [--steps 3000] [--nats 50] [--out runs/cell-free]
 * Writes <out>/table4.json and <out>/<kind>-m<M>-k<K>.json (checkpoints: the models of
 * scenarios/models/ that scenarios/table4-cell-free.yaml evaluates over NATS on instances of its own).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cellFreeMlpPolicy, runCellFreeInProcess, serializeCheckpoint, type CellFreeArchitecture, type CellFreeMlpArchitecture, type Checkpoint } from '@dmpemu/dmp';
import { trainCellFree } from '@dmpemu/gnn';
import { cellFreeInstance, cellFreeMinRate, cellFreeOptimal, Rng, type CellFreeInstance } from '@dmpemu/wireless';
import { closeBroker, Coordinator, openBroker } from '@dmpemu/coordinator';

const { values: a } = parseArgs({ options: { train: { type: 'string', default: '10000' }, test: { type: 'string', default: '2000' }, steps: { type: 'string', default: '3000' }, nats: { type: 'string', default: '50' }, out: { type: 'string', default: 'runs/cell-free' } } });
const [nTrain, nTest, steps, nNats] = [a.train, a.test, a.steps, a.nats].map(Number);
mkdirSync(a.out!, { recursive: true });
const draw = (M: number, K: number, n: number, label: string): CellFreeInstance[] => Array.from({ length: n }, (_, i) => cellFreeInstance(Rng.derive(`cell-free/${label}`, `${M}/${K}/${i}`), { M, K }));
const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

const broker = await openBroker(undefined);
const rows: Record<string, unknown>[] = [];
try {
  for (const M of [30, 50]) {
    const atK6 = new Map<string, Checkpoint<CellFreeArchitecture>>();
    for (const K of [6, 8, 10]) {
      const t0 = Date.now();
      const trainSet = draw(M, K, nTrain, 'train');
      const test = draw(M, K, nTest, 'test');
      const optimal = test.map((i) => cellFreeMinRate(i, cellFreeOptimal(i).p));
      const ratio = (rates: number[]): number => mean(rates) / mean(optimal);
      const row: Record<string, unknown> = { M, K, maximumPower: ratio(test.map((i) => cellFreeMinRate(i, new Float64Array(K).fill(1)))) };
      const ours = new Map<string, number[]>();
      for (const kind of ['cf-mlp', 'hetgnn', 'cf-pcgnn'] as const) {
        const c = await trainCellFree({ kind, instances: trainSet, steps, batch: 64, lr: 0.003, seed: `${M}/${K}`, training: { network: { model: 'cell-free', M, K, tau: 3 }, command: `node --import tsx examples/cell-free/table4.ts --train ${nTrain} --steps ${steps}` } });
        writeFileSync(join(a.out!, `${kind}-m${M}-k${K}.json`), serializeCheckpoint(c));
        if (kind === 'cf-mlp') {
          const policy = cellFreeMlpPolicy(c as Checkpoint<CellFreeMlpArchitecture>);
          row.mlp = ratio(test.map((i) => cellFreeMinRate(i, policy(i))));
          continue;
        }
        if (K === 6) atK6.set(kind, c);
        const rates = test.map((i) => cellFreeMinRate(i, runCellFreeInProcess(i, { name: kind, checkpoint: c }).p));
        ours.set(kind, rates);
        row[kind] = ratio(rates);
        row[`${kind}TrainedAtK6`] = ratio(test.map((i) => cellFreeMinRate(i, runCellFreeInProcess(i, { name: kind, checkpoint: atK6.get(kind)! }).p)));
        // decentralised: one agent per AP and per user, the same minimum rates as in process
        const co = await Coordinator.start({ broker });
        let same = 0;
        try {
          await co.launch(M + K, 10);
          for (let n = 0; n < Math.min(nNats, nTest); n++) {
            const r = await co.runCellFreeJob(test[n], { name: kind, checkpoint: c }, { roundDeadlineMs: 10_000, policy: 'skip', clock: 'local' });
            if (r.rounds.at(-1)!.objective === rates[n]) same++;
          }
        } finally {
          await co.shutdown();
        }
        row[`${kind}NatsSame`] = `${same}/${Math.min(nNats, nTest)}`;
      }
      row.optimalMeanMinRate = mean(optimal);
      row.seconds = (Date.now() - t0) / 1000;
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
} finally {
  await closeBroker(broker);
}
writeFileSync(join(a.out!, 'table4.json'), JSON.stringify(rows, null, 2));
