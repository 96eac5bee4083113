import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';

test('every command with progress output takes the same -q/--quiet switch', async () => {
  for (const command of [['pick'], ['segment'], ['simulate'], ['eval'], ['info'], ['demo'], ['models', 'pull']]) {
    const { code, stdout } = await runCli([...command, '--help']);
    assert.equal(code, 0, command.join(' '));
    assert.match(stdout, /-q, --quiet/, `${command.join(' ')} --help lists -q, --quiet`);
  }
});
