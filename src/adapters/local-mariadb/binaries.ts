/**
 * Finding Debian's MariaDB server programs (`mariadbd`, `mariadb-install-db`, from the `mariadb-server` package that
 * scripts/install-deps.sh installs). A missing program is a PVS_MARIADB error saying what to install.
 */
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { PvsError } from '../../core/errors.js';

/** Absolute paths of the two programs a local server needs. */
export interface MariadbBinaries {
  readonly mariadbd: string;
  readonly installDb: string;
}

/** The programs on `searchPath` (plus /usr/sbin, /usr/bin, /usr/local/bin), or a PVS_MARIADB error naming the missing one. */
export async function findMariadb(searchPath: string): Promise<MariadbBinaries> {
  const dirs = [...searchPath.split(delimiter).filter((d) => d !== ''), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  const find = async (name: string): Promise<string> => {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      try {
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here; try the next directory
      }
    }
    throw new PvsError('PVS_MARIADB', `${name} is not installed: install MariaDB 10.6+ (Debian: run scripts/install-deps.sh `
      + 'as root, or `apt-get install mariadb-server`) or put it on PATH');
  };
  return { mariadbd: await find('mariadbd'), installDb: await find('mariadb-install-db') };
}
