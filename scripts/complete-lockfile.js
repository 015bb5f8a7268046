#!/usr/bin/env node
// Complete package-lock.json for npm 11 `npm ci`, which insists on an entry for every optional platform package
// of rollup (npm/cli#9846); `npm install` leaves out those its registry lacks. Adds version, os, cpu and libc derived
// from the package name (no integrity: npm checks it on download). Idempotent. Run after changing dependencies.
import { readFileSync, writeFileSync } from 'node:fs';
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const rollup = lock.packages['node_modules/rollup'];
const missing = Object.keys(rollup.optionalDependencies).filter((n) => n.startsWith('@rollup/') && !lock.packages[`node_modules/${n}`]);
const cpus = { arm: 'arm', 'arm-eabi': 'arm', arm64: 'arm64', x64: 'x64', ia32: 'ia32', loong64: 'loong64', ppc64: 'ppc64', riscv64: 'riscv64', s390x: 's390x' };
for (const name of missing) {
  const parts = name.replace('@rollup/rollup-', '').split('-'); // e.g. linux-arm64-musl, android-arm-eabi, win32-x64-msvc
  const os = parts[0];
  const cpu = cpus[parts[1]];
  if (!cpu) throw new Error(name);
  const abi = parts[2];
  const entry = { version: rollup.optionalDependencies[name], cpu: [cpu], dev: true };
  if (os === 'linux') entry.libc = [abi?.startsWith('musl') ? 'musl' : 'glibc'];
  Object.assign(entry, { license: 'MIT', optional: true, os: [os] });
  lock.packages[`node_modules/${name}`] = entry;
}
const [root, ...rest] = Object.keys(lock.packages);
const sorted = { [root]: lock.packages[root] };
for (const k of rest.sort((a, b) => a.localeCompare(b, 'en'))) sorted[k] = lock.packages[k];
lock.packages = sorted;
writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
console.log('added', missing.join(' '));
