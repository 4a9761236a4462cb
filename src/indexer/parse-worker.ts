// Worker thread of the parse pool: for each blob of a job, its search blocks and trigram keys
// (blocks.ts) and its symbols (symbols.ts), from the blob's UTF-8 bytes.
import { parentPort } from 'node:worker_threads';
import { textBlocks } from './blocks';
import { extractSymbols } from './symbols';
import { packKeys, type ParseAnswer, type ParseJob, type ParseResult } from './parse-pool';

parentPort?.on('message', (job: ParseJob) => {
  void (async () => {
    const results: ParseResult[] = [];
    const data = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength);
    for (const item of job.items) {
      const content = data.toString('utf8', item.start, item.end);
      const blocks = item.blocks ? textBlocks(content) : null;
      let symbols: ParseResult['symbols'] = [];
      if (item.grammar) {
        // A grammar failure leaves the file without symbols (null), not the build without an index.
        symbols = await extractSymbols(item.grammar, content, item.path).catch(() => null);
      }
      results.push({ blocks, symbols });
    }
    const { keys, keyEnds } = packKeys(results);
    parentPort!.postMessage({ id: job.id, results, keys, keyEnds } satisfies ParseAnswer, [keys.buffer as ArrayBuffer, keyEnds.buffer as ArrayBuffer]);
  })().catch((err: unknown) => parentPort!.postMessage({ id: job.id, error: String((err as Error)?.message ?? err) } satisfies ParseAnswer));
});
