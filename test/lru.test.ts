import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLru } from '../src/lru.js';

test('ByteLru evicts the least recently used (a get counts as a use) until the bytes fit', () => {
  const lru = new ByteLru<string>(30);
  lru.set('a', 'A', 10);
  lru.set('b', 'B', 10);
  lru.set('c', 'C', 10);
  assert.equal(lru.get('a'), 'A'); // a is now the most recent: b is the oldest
  lru.set('d', 'D', 10);
  assert.equal(lru.get('b'), undefined);
  assert.deepEqual(['a', 'c', 'd'].map((k) => lru.get(k)), ['A', 'C', 'D']);
  lru.set('e', 'E', 25); // needs a, c and d gone
  assert.deepEqual(['a', 'c', 'd', 'e'].map((k) => lru.get(k)), [undefined, undefined, undefined, 'E']);
});

test('ByteLru keeps the entry just set however large, and replacing or deleting a key frees its bytes', () => {
  const lru = new ByteLru<number>(10);
  lru.set('a', 1, 5);
  lru.set('big', 2, 100);
  assert.equal(lru.get('a'), undefined);
  assert.equal(lru.get('big'), 2);
  lru.set('big', 3, 4); // replaced: 4 bytes held
  lru.set('b', 4, 6);
  assert.deepEqual([lru.get('big'), lru.get('b')], [3, 4]);
  lru.delete('big');
  lru.set('c', 5, 4);
  assert.deepEqual([lru.get('b'), lru.get('c')], [4, 5]);
});
