// Builders of directory events for the unit tests.
import type { DirectoryEvent } from '../../../src/core/directory/events.js';
import type { IocInfo, StoredRecord } from '../../../src/core/model.js';

export function info(iocId: string, over: Partial<IocInfo> = {}): DirectoryEvent {
  const [iocName = '', hostName = ''] = iocId.split('@');
  const value: IocInfo = {
    schema: 1, iocId, iocName, hostName, env: {}, uploadId: 'u1', state: 'complete', records: 0,
    updatedAt: '2024-01-01T00:00:00.000Z', writer: 'writer-1', ...over,
  };
  return { kind: 'iocInfo', iocId, value };
}

export function noInfo(iocId: string): DirectoryEvent {
  return { kind: 'iocInfo', iocId, value: null };
}

export function alive(iocId: string, up = true): DirectoryEvent {
  return { kind: 'alive', iocId, value: up ? { uploadId: 'u1', since: '2024-01-01T00:00:00.000Z', writer: 'w' } : null };
}

export function rec(iocId: string, name: string, over: Partial<StoredRecord> = {}): DirectoryEvent {
  return { kind: 'record', iocId, name, value: { name, type: 'ai', infos: {}, aliases: [], ...over } };
}

export function noRec(iocId: string, name: string): DirectoryEvent {
  return { kind: 'record', iocId, name, value: null };
}
