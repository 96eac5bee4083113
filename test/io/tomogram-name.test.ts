import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tomogramName } from '../../src/io/tomogram-name.js';

test('file names, coordinate-file columns and RELION names of one tomogram give one name', () => {
  for (const name of [
    'TS_01',
    'TS_01.mrc',
    'tomograms/TS_01.mrc.gz',
    '/data/run1/TS_01.rec.bz2',
    'C:\\data\\TS_01.mrc',
    'TS_01.tomostar',
    'TS_01.mrc:mrc',
    'TS_01.MRC',
    'TS_01.map',
    'TS_01.st',
    'TS_01.mrcs',
    'TS_01.ccp4',
    'TS_01.star',
    'TS_01.tomostar.mrc',
  ]) {
    assert.equal(tomogramName(name), 'TS_01', name);
  }
});

test('other dots and extensions stay part of the name', () => {
  assert.equal(tomogramName('run.1/TS_01.ali'), 'TS_01.ali');
  assert.equal(tomogramName('TS_01.denoised.mrc'), 'TS_01.denoised');
  assert.equal(tomogramName('tomo.gz.mrc'), 'tomo.gz', 'the compression suffix only at the end');
  assert.equal(tomogramName('TS_01.mrc.gz.gz'), 'TS_01.mrc.gz', 'one compression suffix');
  assert.equal(tomogramName('1'), '1');
});

test('a name that is only an extension is kept, never emptied', () => {
  assert.equal(tomogramName('.mrc'), '.mrc');
  assert.equal(tomogramName('dir/.mrc.gz'), '.mrc');
  assert.equal(tomogramName(''), '');
});
