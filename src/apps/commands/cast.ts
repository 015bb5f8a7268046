/**
 * `pvsync cast`: casts an IOC's records to a RecCaster bridge as the reccaster module would, read from its startup
 * script with the uploader's parser — for IOCs built without reccaster, and for the demo's bridges.
 */
import { basename, dirname, resolve } from 'node:path';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { nodeFileSource } from '../../adapters/fs/file-source.js';
import { Caster } from '../../adapters/reccaster/caster.js';
import { parseStartup } from '../../core/dbfile/startup.js';
import { DEFAULT_ANNOUNCE_PORT, encodeAddInfo, encodeAddRecord, encodeUploadDone } from '../../core/reccaster/messages.js';
import { rootLogger } from '../logger.js';
import { PORT, numberOption } from '../option-values.js';

// The IOC-wide variables reccaster sends (domain.md §3), EPICS_VERSION first.
const CAST_ENV = ['HOSTNAME', 'EPICS_BASE', 'TOP', 'ARCH', 'IOC', 'EPICS_CA_ADDR_LIST', 'EPICS_CA_AUTO_ADDR_LIST',
  'EPICS_CA_MAX_ARRAY_BYTES', 'RSRV_SERVER_PORT', 'PVAS_SERVER_PORT', 'PWD', 'EPICS_HOST_ARCH', 'IOCNAME', 'ENGINEER', 'LOCATION'];

/** Register `pvsync cast` on the program. */
export function register(program: Command): void {
  program.command('cast')
    .description('cast an IOC\'s records (read from its st.cmd) to a RecCaster bridge, as the reccaster module would')
    .requiredOption('--st-cmd <path>', 'the IOC\'s startup script')
    .addOption(numberOption('--announce-port <port>', 'UDP port to hear bridges on', PORT, { fallback: DEFAULT_ANNOUNCE_PORT }))
    .action(async (opts: { stCmd: string; announcePort: number }) => {
      const log = rootLogger('pvsync-cast');
      const port = opts.announcePort;
      const stCmd = resolve(opts.stCmd);
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
      const parsed = parseStartup(stCmd, { files: nodeFileSource(), env });
      const ioc = { ...parsed.env };
      ioc['IOCNAME'] ??= ioc['IOC'] ?? basename(dirname(stCmd));
      ioc['HOSTNAME'] ??= hostname();
      const frames: Uint8Array[] = [encodeAddInfo(0, 'EPICS_VERSION', ioc['EPICS_VERSION'] ?? 'EPICS 7.0')];
      for (const k of CAST_ENV) if (ioc[k] !== undefined) frames.push(encodeAddInfo(0, k, ioc[k]));
      let recid = 1;
      for (const r of parsed.records) {
        const id = recid++;
        frames.push(encodeAddRecord(id, false, r.type, r.name));
        for (const a of r.aliases) frames.push(encodeAddRecord(id, true, '', a));
        for (const [k, v] of Object.entries(r.infos)) if (v !== '') frames.push(encodeAddInfo(id, k, v));
        const desc = r.fields['DESC'];
        if (desc !== undefined) frames.push(encodeAddInfo(id, 'recordDesc', desc));
      }
      frames.push(encodeUploadDone());
      log.info({ ioc: ioc['IOCNAME'], records: parsed.records.length, announcePort: port }, 'listening for a bridge');
      const caster = new Caster({ frames, announcePort: port, log });
      process.on('SIGTERM', () => caster.stop());
      process.on('SIGINT', () => caster.stop());
      await caster.run();
    });
}
