// A child process of the parse pool (parse-pool.ts): for each blob of a job, its search blocks
// and trigram keys (blocks.ts) and its symbols (symbols.ts), from the blob's UTF-8 bytes. It ends
// with its parent (the IPC channel closing).
import { textBlocks } from './blocks';
import { extractSymbols } from './symbols';
import { packKeys, type ParseAnswer, type ParseJob, type ParseResult } from './parse-pool';

const send = (answer: ParseAnswer) => process.send!(answer);

process.on('disconnect', () => process.exit(0));

// One job at a time, in the order sent: the parent knows which job a crash happened in.
let working: Promise<void> = Promise.resolve();
process.on('message', (job: ParseJob) => {
  working = working.then(() =>
    parse(job).catch((err: unknown) => {
      send({ id: job.id, error: String((err as Error)?.message ?? err) });
    }),
  );
});

async function parse(job: ParseJob): Promise<void> {
  const results: ParseResult[] = [];
  const data = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength);
  for (const item of job.items) {
    const content = data.toString('utf8', item.start, item.end);
    const blocks = item.blocks ? textBlocks(content) : null;
    let symbols: ParseResult['symbols'] = [];
    if (item.grammar && item.engine !== 'none') {
      // A grammar failure leaves the file without symbols (null), not the build without an index.
      symbols = await extractSymbols(item.grammar, content, item.path, { native: item.engine === 'any' }).catch(() => null);
    }
    results.push({ blocks, symbols });
  }
  const { keys, keyEnds } = packKeys(results);
  send({ id: job.id, results, keys, keyEnds });
}
