import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatStarLoop, parseStar } from '../../src/io/coords/star.js';

test('reads several blocks, loops and key-value pairs with comments and quoted values', () => {
  const text = [
    '# version 50001',
    'data_general',
    '_rlnTomoSubTomosAre2DStacks   1   # trailing comment',
    '',
    'data_optics',
    'loop_',
    '_rlnOpticsGroup #1',
    '_rlnOpticsGroupName #2',
    '1 "optics group one"',
    "2 'it''s'",
    '',
    'data_particles',
    'loop_',
    '_rlnTomoName',
    '_rlnCoordinateX',
    '_rlnCoordinateY',
    "'TS 01' 1.5",
    '2.5',
    'TS_02 3 4',
    ';multi-line',
    'text field',
    ';',
    '5 6',
  ].join('\n');
  const tables = parseStar(text, 'x.star');
  assert.deepEqual(
    tables.map((t) => [t.block, t.columns.length, t.rows.length]),
    [
      ['general', 1, 1],
      ['optics', 2, 2],
      ['particles', 3, 3],
    ],
  );
  assert.deepEqual(tables[0].rows[0], ['1']);
  assert.deepEqual(tables[1].rows[0], ['1', 'optics group one']);
  // A quote inside a value only closes it when white space follows.
  assert.deepEqual(tables[1].rows[1], ['2', "it''s"]);
  // Rows may span lines; each row remembers the line of its first value.
  assert.deepEqual(tables[2].rows[0], ['TS 01', '1.5', '2.5']);
  assert.deepEqual(tables[2].lines, [17, 19, 20]);
  assert.deepEqual(tables[2].rows[2], ['multi-line\ntext field', '5', '6']);
});

test('a quoted "loop_" or "_label" is a value, not a keyword', () => {
  const [table] = parseStar('data_\nloop_\n_a\n_b\n"loop_" "_b"\n', 'q.star');
  assert.deepEqual(table.rows, [['loop_', '_b']]);
});

test('rejects rows that do not fill the columns, naming file and line', () => {
  assert.throws(() => parseStar('data_\nloop_\n_a\n_b\n1 2\n3\n', 'bad.star'), /bad\.star: line 6: row has 1 values but the loop has 2 columns/);
});

test('rejects values outside loops and labels before any data_ block', () => {
  assert.throws(() => parseStar('data_\n_a 1\nstray\n', 'v.star'), /v\.star: line 3: unexpected value "stray"/);
  assert.throws(() => parseStar('_a 1\n', 'w.star'), /w\.star: line 1: "_a" before the first data_ block/);
  assert.throws(() => parseStar('data_\n_a "open\n', 'u.star'), /line 2: unclosed quote/);
});

test('writes a loop that reads back identically, quoting what needs quotes', () => {
  const rows = [
    ['TS 1', '1.5', ''],
    ['_odd', '#hash', 'plain'],
  ];
  const text = formatStarLoop('particles', ['rlnTomoName', 'rlnCoordinateX', 'rlnNote'], rows);
  assert.match(text, /data_particles\n\nloop_\n_rlnTomoName #1\n_rlnCoordinateX #2\n_rlnNote #3\n/);
  const [table] = parseStar(text);
  assert.equal(table.block, 'particles');
  assert.deepEqual(table.columns, ['rlnTomoName', 'rlnCoordinateX', 'rlnNote']);
  assert.deepEqual(table.rows, rows);
});
