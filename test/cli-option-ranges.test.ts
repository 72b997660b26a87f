/**
 * The option range table (src/cli/ranges.ts), checked as a table: every option that takes
 * a value, in every command, has a range; --help states it; values either side of it are
 * accepted or refused with one line naming the option, the value and the range. Checked
 * in-process against the parser, plus a few real CLI runs to prove the wiring (exit 2,
 * before any model loads).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError, type Command, type Option } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { OPTION_RANGES, commandPath, rangeFor, takesValue } from '../src/cli/ranges.js';
import { resolveEverythingOptions } from '../src/everything/options.js';
import { createSessionHost } from '../src/inference/host.js';
import { fixturePath } from '../scripts/fixtures/index.js';
import { ROOT, assertBuilt, runSamlite } from './helpers/run-cli.js';

interface Row {
  readonly command: Command;
  readonly option: Option;
  readonly name: string;
}

/** Every option of every command, as `everything --grid`. */
function allOptions(command: Command): Row[] {
  const rows = command.options.map((option) => ({ command, option, name: `${commandPath(command)} ${option.long}`.trim() }));
  return [...rows, ...command.commands.flatMap(allOptions)];
}

/** Send a command's help and errors nowhere (the test reads the thrown errors). */
function silence(command: Command): void {
  command.configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  for (const sub of command.commands) silence(sub);
}

/** Parse `flag=value` on `row`'s command line; resolves to the one-line error, or undefined. */
async function refusal(row: Row, value: string): Promise<string | undefined> {
  const program = buildProgram();
  silence(program);
  const positional = row.command.registeredArguments.some((a) => a.required) ? ['x.png'] : [];
  // `--flag=value` so that values such as -5 are not taken for options.
  const argv = ['node', 'samlite', ...commandPath(row.command).split(' '), ...positional, `${row.option.long}=${value}`];
  // Outside values fail while parsing, before any action runs; inside ones are not run here.
  try {
    await program.parseAsync(argv);
  } catch (err) {
    return err instanceof CommanderError ? err.message.replace(/^error: /, '') : (err as Error).message;
  }
  return undefined;
}

const program = buildProgram();
const rows = allOptions(program).filter((r) => takesValue(r.option));
const collapse = (text: string) => text.replace(/\s+/g, ' ');

describe('the option range table', () => {
  it('has an entry for every option that takes a value (add one to OPTION_RANGES in src/cli/ranges.ts)', () => {
    expect(rows.length).toBeGreaterThan(30);
    expect(rows.filter((r) => !rangeFor(r.command, r.option)).map((r) => r.name)).toEqual([]);
  });

  it('has no entry that no option uses', () => {
    const used = new Set(rows.map((r) => Object.keys(OPTION_RANGES).find((k) => OPTION_RANGES[k] === rangeFor(r.command, r.option))));
    expect(Object.keys(OPTION_RANGES).filter((k) => !used.has(k))).toEqual([]);
  });
});

describe.each(rows.map((r) => [r.name, r] as const))('%s', (_name, row) => {
  const entry = rangeFor(row.command, row.option)!;

  it('states its range in --help', () => {
    const help = collapse(row.command.helpInformation());
    if (entry.choices) {
      for (const choice of row.option.argChoices!) expect(help).toContain(`"${choice}"`);
    } else if (entry.parse) {
      expect(help).toContain(collapse(entry.range));
    } else {
      expect(help).toContain(row.option.long!);
    }
  });

  it('accepts values inside the range', () => {
    const inside = entry.choices ? row.option.argChoices! : entry.examples.inside;
    for (const value of inside) {
      expect(() => row.option.parseArg!(value, undefined), value).not.toThrow();
    }
  });

  it('refuses values outside the range with one line naming the option, the value and the range', async () => {
    expect(entry.examples.outside.length).toBeGreaterThan(0);
    for (const value of entry.examples.outside) {
      const message = await refusal(row, value);
      expect(message, `${row.name}=${JSON.stringify(value)} was accepted`).toBeDefined();
      expect(message).not.toContain('\n');
      expect(message).toContain(row.option.long!);
      const named = [value, ...value.split(',')].filter((v) => v !== '' || value === '');
      expect(named.some((v) => message!.includes(JSON.stringify(v)) || message!.includes(`'${v}'`)), `${message} names ${JSON.stringify(value)}`).toBe(true);
      if (entry.choices) expect(message).toContain(`Allowed choices are ${row.option.argChoices!.join(', ')}`);
      else if (entry.parse || value.trim() === '') expect(message).toContain(entry.range);
    }
  });
});

/**
 * The bounds a range states, for comparing the docs' hand-written wording with the
 * entry's: its numbers (digit groups "30 000" joined; not the digits of names such as x1
 * or of 5e7's exponent) and its words full, unlimited and auto, with the examples left
 * out (parentheses, "such as ...", "for example ...").
 */
function bounds(range: string): { numbers: number[]; words: string[] } {
  const text = range
    .replace(/`/g, '')
    .replace(/\([^)]*\)/g, '')
    .replace(/\b(such as|for example)\b.*?(?=, or|;|$)/g, '')
    .replace(/(\d) (?=\d{3}\b)/g, '$1');
  return {
    numbers: [...text.matchAll(/(?<![\w.])\d+(\.\d+)?/g)].map((m) => Number(m[0])),
    words: [...new Set(text.match(/\b(full|unlimited|auto)\b/g) ?? [])].sort(),
  };
}

describe('the table of ranges in docs/option-ranges.md', () => {
  const table = readFileSync(join(ROOT, 'docs', 'option-ranges.md'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [options, range] = line.split(' | ').map((cell) => cell.replace(/^\| /, ''));
      return { options, range, flags: [...options.matchAll(/`[^`]*?(--[a-z-]+)`/g)].map((m) => m[1]) };
    });
  // Every entry for a flag: `--grid`, or `segment --format` and `everything --format`.
  const entriesOf = (flag: string) => Object.keys(OPTION_RANGES).filter((key) => key === flag || key.endsWith(` ${flag}`));

  it('has rows, each naming options the range table knows', () => {
    expect(table.length).toBeGreaterThan(15);
    for (const row of table) {
      expect(row.flags.length, row.options).toBeGreaterThan(0);
      for (const flag of row.flags) expect(entriesOf(flag), `${row.options}: ${flag}`).not.toEqual([]);
    }
  });

  it("states each option's bounds as its OPTION_RANGES entry does", () => {
    for (const row of table) {
      for (const flag of row.flags) {
        for (const key of entriesOf(flag)) {
          expect(bounds(row.range), `docs row ${row.options} ("${row.range}") against ${key} ("${OPTION_RANGES[key].range}")`).toEqual(bounds(OPTION_RANGES[key].range));
        }
      }
    }
  });

  it('lists every option whose range has a number', () => {
    const listed = new Set(table.flatMap((row) => row.flags.flatMap(entriesOf)));
    const numeric = Object.keys(OPTION_RANGES).filter((key) => bounds(OPTION_RANGES[key].range).numbers.length > 0);
    expect(numeric.filter((key) => !listed.has(key))).toEqual([]);
  });
});

describe('the library refuses the same values', () => {
  it('everything options and session threads', () => {
    expect(() => resolveEverythingOptions({ pointsPerSide: 100_000 })).toThrow(/pointsPerSide must be a whole number from 1 to 256 \(got 100000\)/);
    expect(() => resolveEverythingOptions({ lowResSize: 10_000_000 })).toThrow(/lowResSize must be a whole number from 8 to 4096/);
    expect(() => resolveEverythingOptions({ predIouThresh: 2 })).toThrow(/predIouThresh/);
    expect(() => createSessionHost({ threads: 100_000 }, 'x')).toThrow(/threads must be a whole number from 1 to 256 \(got 100000\)/);
  });
});

describe('on the command line', () => {
  let work: string;
  beforeAll(() => {
    assertBuilt();
    work = mkdtempSync(join(tmpdir(), 'samlite-ranges-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('an out-of-range value exits 2 with one line before any model loads', async () => {
    const image = fixturePath('box.png');
    const cases: [string[], string][] = [
      [['everything', image, '--grid', '100000'], 'error: --grid "100000": expected a whole number from 1 to 256'],
      [['everything', image, '--low-res', '10000000'], 'error: --low-res "10000000": expected a whole number from 8 to 4096, or full'],
      [['everything', image, '--format', ''], 'error: --format "": expected one or more of json, labels, masks, overlay, polygons, coco, yolo-seg, labelme, labelstudio, geojson, fgb, label-tif'],
      [['segment', image, '--point', '10,10', '--threads', '100000'], 'error: --threads "100000": expected a whole number from 1 to 256'],
      [['segment', image, '--point', '10,10', '-m', ''], 'error: --model "": expected a catalog model name or the path of a model manifest'],
    ];
    const runs = await Promise.all(
      cases.map(([args]) => runSamlite([...args, '--out', join(work, 'never')], { cwd: work, env: { HOME: work, SAMLITE_HOME: join(work, 'home') } })),
    );
    for (const [i, run] of runs.entries()) {
      expect(run.code, cases[i][0].join(' ')).toBe(2);
      // Only the error: no model notice, nothing loaded, nothing written.
      expect(run.stderr).toBe(`${cases[i][1]}\n`);
      expect(run.stdout).toBe('');
    }
    expect(existsSync(join(work, 'never'))).toBe(false);
  });
});
