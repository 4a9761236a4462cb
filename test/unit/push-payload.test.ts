// What a repo:push means (CONTRACT §8), on payloads in the shapes Bitbucket sends: several changes
// in one push, deletions with `new: null` and no `commits`/`links`, lightweight tags with null
// tagger/date/message, truncated commit lists, and a repository without `slug`.
import { summarizePush } from '../../src/webhooks/push-payload';

const HEAD = 'c14c1bb05dfb1fdcdf06b31485fff61b0ea44277';
const OLD = 'a51241ae1f00cbe728930db48e890b18fd527f99';

const target = (hash: string) => ({ type: 'commit', hash, date: '2026-11-30T10:00:00+00:00', message: 'a\n', parents: [], links: {} });
const branch = (name: string, hash: string) => ({ name, target: target(hash), links: {}, type: 'branch', merge_strategies: ['merge_commit', 'squash', 'fast_forward'], default_merge_strategy: 'merge_commit' });
const tag = (name: string, hash: string) => ({ name, target: target(hash), links: {}, type: 'tag', message: null, date: null, tagger: null });
const update = (name: string) => ({ old: branch(name, OLD), new: branch(name, HEAD), truncated: false, created: false, forced: false, closed: false, links: {}, commits: [target(HEAD)] });

describe('summarizePush', () => {
  it('a push to the main branch is accepted with its new head', () => {
    expect(summarizePush([update('main')], 'main')).toEqual({ outcome: 'accepted', commit: HEAD, branch: 'main' });
  });

  it('in a push of several refs, the main branch counts wherever it is', () => {
    const changes = [update('feature'), { old: null, new: tag('v1.0', HEAD), created: true, closed: false, forced: false, truncated: false, links: {}, commits: [] }, update('main')];
    expect(summarizePush(changes, 'main')).toEqual({ outcome: 'accepted', commit: HEAD, branch: 'main' });
  });

  it('a truncated push (more than five commits) still names the head', () => {
    expect(summarizePush([{ ...update('main'), truncated: true }], 'main')).toEqual({ outcome: 'accepted', commit: HEAD, branch: 'main' });
  });

  it('a head that is not a commit hash is not trusted: the workflow fetches what the branch holds', () => {
    const odd = { ...update('main'), new: { ...branch('main', HEAD), target: { type: 'commit', hash: 'not-a-sha' } } };
    expect(summarizePush([odd], 'main')).toEqual({ outcome: 'accepted', commit: null, branch: 'main' });
  });

  it('a push to another branch only hints that the main branch may have changed', () => {
    expect(summarizePush([update('feature')], 'main')).toEqual({ outcome: 'other_branch', commit: null, branch: 'feature' });
    expect(summarizePush([{ old: null, new: branch('main', HEAD), created: true, closed: false, forced: false, truncated: false }], 'master')).toEqual({ outcome: 'other_branch', commit: null, branch: 'main' });
  });

  it("deleting the main branch (new: null, no commits, no links) hints; deleting another branch or a tag is nothing", () => {
    const deleted = (ref: object) => ({ old: ref, new: null, created: false, closed: true, forced: false, truncated: false });
    expect(summarizePush([deleted(branch('master', OLD))], 'master')).toEqual({ outcome: 'other_branch', commit: null, branch: 'master' });
    expect(summarizePush([deleted(branch('feature', OLD))], 'master')).toEqual({ outcome: 'other_ref', commit: null, branch: null });
    expect(summarizePush([deleted(tag('v1.0', OLD))], 'master')).toEqual({ outcome: 'other_ref', commit: null, branch: null });
  });

  it('tags alone, empty changes and garbage entries are nothing to do', () => {
    expect(summarizePush([{ old: null, new: tag('v2', HEAD), created: true, closed: false, forced: false, truncated: false }], 'main')).toEqual({ outcome: 'other_ref', commit: null, branch: null });
    expect(summarizePush([], 'main')).toEqual({ outcome: 'other_ref', commit: null, branch: null });
    expect(summarizePush([null, 3, 'x', { new: { type: 'named_branch', name: 'default' } }], 'main')).toEqual({ outcome: 'other_ref', commit: null, branch: null });
  });

  it('with no known main branch, any branch change hints and none is taken as the main branch', () => {
    expect(summarizePush([update('main')], null)).toEqual({ outcome: 'other_branch', commit: null, branch: 'main' });
  });
});
