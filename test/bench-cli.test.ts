// The benches' shared command-line parser (bench/lib/cli.ts): defaults, every accepted flag,
// and a usage error for every malformed command line instead of a silently ignored flag.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { BenchUsageError, benchUsage, parseBenchArgs, type BenchSpec } from '../bench/lib/cli.js';

const SPEC: BenchSpec = {
  name: 'call',
  command: 'npm run bench:call --',
  summary: 'test bench',
  flags: ['json', 'engines', 'rounds', 'time', 'out'],
  defaults: { rounds: 8, time: 400 },
};

describe('bench command line', () => {
  it('defaults: all engines, the bench defaults, no JSON, default results directory', () => {
    expect(parseBenchArgs(SPEC, [])).toEqual({ json: false, engines: ['native', 'wasm', 'ts'], rounds: 8, time: 400, n: [1], workers: [0], duration: 3000, alternate: 0, noBudgets: false, advisory: [] });
  });

  it('reads every flag', () => {
    expect(parseBenchArgs(SPEC, ['--json', '--engines', 'ts,native', '--rounds', '3', '--time', '1000', '--out', '/tmp/x'])).toEqual({
      json: true,
      engines: ['ts', 'native'],
      rounds: 3,
      time: 1000,
      out: '/tmp/x',
      n: [1],
      workers: [0],
      duration: 3000,
      alternate: 0,
      noBudgets: false,
      advisory: [],
    });
  });

  it('reads the daemon benches\' flags: --n, --workers (with "cores"), --duration, --alternate, --no-budgets, and their defaults', () => {
    const spec: BenchSpec = { ...SPEC, flags: ['n', 'workers', 'duration', 'alternate', 'no-budgets', 'engines'], defaults: { n: [1, 64], workers: [2], duration: 900, alternate: 6, engines: ['native'] } };
    expect(parseBenchArgs(spec, [])).toMatchObject({ n: [1, 64], workers: [2], duration: 900, alternate: 6, noBudgets: false, engines: ['native'] });
    expect(parseBenchArgs(spec, ['--n', '1,2,8', '--workers', '0,cores', '--duration', '100', '--alternate', '0', '--no-budgets'])).toMatchObject({
      n: [1, 2, 8],
      workers: [0, availableParallelism()],
      duration: 100,
      alternate: 0,
      noBudgets: true,
    });
    const u = benchUsage(spec);
    expect(u).toMatch(/--n LIST .*default 1,64/);
    expect(u).toMatch(/--duration MS .*default 900/);
    expect(u).toContain('--no-budgets');
  });

  it.each([
    [['--n', '0'], /--n must be an integer from 1 to 4096/],
    [['--n', '1,,2'], /--n must be an integer/],
    [['--n', '2,2'], /--n: a value is given twice/],
    [['--workers', '257'], /--workers must be an integer from 0 to 256/],
    [['--workers', 'all'], /--workers must be an integer/],
    [['--duration', '99'], /--duration must be an integer from 100 to 600000/],
    [['--alternate', '101'], /--alternate must be an integer from 0 to 100/],
    [['--alternate', '-1'], /--alternate must be an integer/],
    [['--no-budgets', 'x'], /unknown argument "x"/],
  ])('daemon flags: %j is a usage error', (argv, msg) => {
    const spec: BenchSpec = { ...SPEC, flags: ['n', 'workers', 'duration', 'alternate', 'no-budgets'] };
    expect(() => parseBenchArgs(spec, argv)).toThrow(msg);
  });

  it('--advisory takes the bench\'s own budget ids, each once, and the usage lists them', () => {
    const spec: BenchSpec = { ...SPEC, flags: ['advisory', 'no-budgets'], budgetIds: ['warm', 'cpu'] };
    expect(parseBenchArgs(spec, [])).toMatchObject({ advisory: [] });
    expect(parseBenchArgs(spec, ['--advisory', 'cpu'])).toMatchObject({ advisory: ['cpu'] });
    expect(parseBenchArgs(spec, ['--advisory', 'cpu,warm'])).toMatchObject({ advisory: ['cpu', 'warm'] });
    expect(() => parseBenchArgs(spec, ['--advisory', 'gpu'])).toThrow(/--advisory: unknown budget "gpu" \(known: warm, cpu\)/);
    expect(() => parseBenchArgs(spec, ['--advisory', 'cpu,cpu'])).toThrow(/named twice/);
    expect(() => parseBenchArgs(spec, ['--advisory', ''])).toThrow(/unknown budget ""/);
    expect(() => parseBenchArgs(spec, ['--advisory'])).toThrow(/needs a value/);
    expect(() => parseBenchArgs({ ...SPEC, budgetIds: ['cpu'] }, ['--advisory', 'cpu'])).toThrow(/unknown argument/);
    expect(benchUsage(spec)).toMatch(/--advisory LIST .*\(warm, cpu; default none\)/);
  });

  it('--help and -h ask for the usage, which lists exactly the accepted flags with their defaults', () => {
    expect(parseBenchArgs(SPEC, ['--rounds', '2', '--help'])).toBe('help');
    expect(parseBenchArgs(SPEC, ['-h'])).toBe('help');
    const u = benchUsage(SPEC);
    expect(u).toContain('usage: npm run bench:call -- [options]');
    expect(u).toMatch(/--rounds N .*default 8/);
    expect(u).toMatch(/--time MS .*default 400/);
    const small = benchUsage({ ...SPEC, flags: ['json'] });
    expect(small).toContain('--json');
    expect(small).not.toContain('--rounds');
  });

  it.each([
    [['--bogus'], /unknown argument "--bogus"/],
    [['native'], /unknown argument "native"/],
    [['--rounds'], /--rounds needs a value/],
    [['--rounds', '--json'], /--rounds needs a value/],
    [['--rounds', 'x'], /--rounds must be an integer from 1 to 1000/],
    [['--rounds', '0'], /--rounds must be an integer/],
    [['--rounds', '1.5'], /--rounds must be an integer/],
    [['--rounds', '1001'], /--rounds must be an integer/],
    [['--time', '5'], /--time must be an integer from 10 to 600000/],
    [['--engines', 'native,foo'], /unknown engine "foo"/],
    [['--engines', ''], /unknown engine ""/],
    [['--engines', 'ts,ts'], /named twice/],
    [['--json', '--json'], /--json given twice/],
    [['--out', ''], /--out needs a directory/],
  ])('%j is a usage error', (argv, msg) => {
    expect(() => parseBenchArgs(SPEC, argv)).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(SPEC, argv)).toThrow(msg);
  });

  it('a flag the bench does not take is a usage error', () => {
    expect(() => parseBenchArgs({ ...SPEC, flags: ['json'] }, ['--rounds', '2'])).toThrow(/unknown argument "--rounds"/);
  });
});
