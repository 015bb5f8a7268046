/**
 * The parser against the real thing: every fixture IOC under test/fixtures/iocs is loaded into EPICS Base's softIoc
 * (built by scripts/build-softioc.sh) and read by parseStartup; both must hold the same records, types, DESC,
 * info tags and aliases. The IOC's state at iocInit is the reference (see test/support/softioc.ts).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFileSource } from '../../src/adapters/fs/file-source.js';
import { parseStartup } from '../../src/core/dbfile/startup.js';
import type { ParseResult } from '../../src/core/model.js';
import { findSoftIoc, listIocFixtures, runSoftIoc, softIocCacheDir, type SoftIocDump } from '../support/softioc.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'iocs');
const fixtures = listIocFixtures(FIXTURES);
const build = findSoftIoc();
const NO_BUILD = `no softIoc in ${softIocCacheDir()}: run scripts/build-softioc.sh first (as root; about a minute)`;

/** One comparable view of an IOC's contents: sorted lines, so a mismatch reads as a diff. */
interface Listing {
  records: string[];
  aliases: string[];
  infos: string[];
}

function fromIoc(dump: SoftIocDump): Listing {
  return {
    records: dump.records.map((r) => `${r.name}  ${r.type}  ${JSON.stringify(r.desc)}`).sort(),
    aliases: dump.aliases.map((a) => `${a.alias} -> ${a.record}`).sort(),
    infos: dump.infos.map((i) => `${i.record}  info(${i.key}, ${JSON.stringify(i.value)})`).sort(),
  };
}

function fromParser(result: ParseResult): Listing {
  return {
    records: result.records.map((r) => `${r.name}  ${r.type}  ${JSON.stringify(r.fields['DESC'] ?? '')}`).sort(),
    aliases: result.records.flatMap((r) => r.aliases.map((a) => `${a} -> ${r.name}`)).sort(),
    infos: result.records
      .flatMap((r) => Object.entries(r.infos).map(([k, v]) => `${r.name}  info(${k}, ${JSON.stringify(v)})`))
      .sort(),
  };
}

describe('parseStartup reads fixture IOCs as EPICS Base softIoc 7.0.3.1 loads them', () => {
  it('has the reference softIoc built and a corpus of fixture IOCs', () => {
    expect(build, NO_BUILD).toBeDefined();
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
  });

  for (const fixture of fixtures) {
    it(`${fixture.name}: same records, types, DESC, info tags and aliases`, async () => {
      if (build === undefined) throw new Error(NO_BUILD);
      const ioc = await runSoftIoc(build, fixture.stCmd, { env: fixture.env });
      expect(ioc.records.length, `softIoc loaded no records:\n${ioc.stdout}\n${ioc.stderr}`).toBeGreaterThan(0);
      const parsed = parseStartup(fixture.stCmd, {
        files: nodeFileSource(),
        env: { EPICS_BASE: build.epicsBase, ...fixture.env },
      });
      const context = `${fixture.about}\n--- softIoc messages:\n${ioc.messages.join('\n')}\n--- parser diagnostics:\n${
        parsed.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`).join('\n')}`;
      expect(fromParser(parsed), context).toEqual(fromIoc(ioc));
    });
  }
});
