// Sizes as operators write them (MAX_REPO_SIZE) and as messages show them.
import { formatByteSize, parseByteSize } from '../../src/byte-size';

const K = 1024;
const M = 1024 * K;
const G = 1024 * M;

describe('parseByteSize', () => {
  it.each([
    ['0', 0],
    ['1048576', M],
    ['1024k', M],
    ['1024K', M],
    ['500m', 500 * M],
    ['500M', 500 * M],
    ['500MB', 500 * M],
    ['500 MiB', 500 * M],
    ['2g', 2 * G],
    ['2GiB', 2 * G],
    ['1.5g', 1.5 * G],
    ['1t', 1024 * G],
    ['4096b', 4096],
    [' 2g ', 2 * G],
  ])('reads %j', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(['', ' ', 'g', '-1', '-1g', '2x', '2 gigabytes', '1e9', '0x10', '1,5g', '2gg', '2ib', '.5g', '1.g', '99999999999999t'])('refuses %j', (text) => {
    expect(parseByteSize(text)).toBeNull();
  });
});

describe('formatByteSize', () => {
  it.each([
    [0, '0 bytes'],
    [1, '1 byte'],
    [500, '500 bytes'],
    [K, '1 KB'],
    [M, '1 MB'],
    [500 * M, '500 MB'],
    [2 * G, '2 GB'],
    [1.5 * G, '1.5 GB'],
    [3 * M + 12_345, '3 MB'],
    [3.25 * M, '3.3 MB'],
    [1024 * G, '1 TB'],
  ])('shows %d as %j', (bytes, text) => {
    expect(formatByteSize(bytes)).toBe(text);
  });

  it('shows what it reads, for the sizes operators write', () => {
    for (const text of ['500m', '2g', '1024k']) expect(formatByteSize(parseByteSize(text)!)).toBe({ '500m': '500 MB', '2g': '2 GB', '1024k': '1 MB' }[text]);
  });
});
