import { describe, expect, it } from 'vitest';
import { publishedCommand } from '../../../src/core/election/records.js';

describe('publishedCommand', () => {
  it.each([
    ["archiver-sim --db 'mariadb://pvsync:s3cr#t@127.0.0.1:3306/' --port 1", "archiver-sim --db 'mariadb://pvsync:***@127.0.0.1:3306/' --port 1"],
    ['x --db mariadb://u:p@h/db --other https://a:b@c/d', 'x --db mariadb://u:***@h/db --other https://a:***@c/d'],
    ['curl "http://op:pw@arch:17665/mgmt/bpl/ping"', 'curl "http://op:***@arch:17665/mgmt/bpl/ping"'],
    ['systemctl start archappl', 'systemctl start archappl'],
    ['x --db mariadb://user@h/db http://h:17665/mgmt', 'x --db mariadb://user@h/db http://h:17665/mgmt'],
    ['x "$DB_URL"', 'x "$DB_URL"'],
  ])('%s', (cmd, published) => {
    expect(publishedCommand(cmd)).toBe(published);
  });
});
