// Transaction building and reply checking; the error replies are captured
// from a real ovsdb-server (test/fixtures/ovsdb-transact-errors.json).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeOptional, decodeSet, decodeStringMap, decodeUuidSet, namedUuid, ovsMap, ovsSet, uuid } from '../../src/host/ovsdb/datum.js';
import { OvsdbProtocolError, OvsdbTransactionError } from '../../src/host/ovsdb/errors.js';
import { checkTransactReply, eq, insertOp, mutateOp, transact, waitOp, type Operation } from '../../src/host/ovsdb/transact.js';

const errors = JSON.parse(readFileSync(new URL('../fixtures/ovsdb-transact-errors.json', import.meta.url), 'utf8')) as Record<string, unknown[]>;

describe('datum encoding', () => {
  it('encodes sets, maps and uuids as RFC 7047 does', () => {
    expect(ovsMap({ 'iface-id': 'a', 'vm-uuid': 'b' })).toEqual(['map', [['iface-id', 'a'], ['vm-uuid', 'b']]]);
    expect(ovsMap(new Map([['k', 'v']]))).toEqual(['map', [['k', 'v']]]);
    expect(ovsSet([uuid('u1'), namedUuid('p0')])).toEqual(['set', [['uuid', 'u1'], ['named-uuid', 'p0']]]);
  });
  it('decodes bare atoms as one-element sets, empty optionals as null', () => {
    expect(decodeSet(['uuid', 'x'])).toEqual([['uuid', 'x']]);
    expect(decodeUuidSet(['set', [['uuid', 'a'], ['uuid', 'b']]])).toEqual(['a', 'b']);
    expect(decodeOptional(['set', []], 'number')).toBeNull();
    expect(decodeOptional(7, 'number')).toBe(7);
    expect(decodeStringMap(['map', [['a', 'b']]])).toEqual({ a: 'b' });
    expect(() => decodeStringMap('x')).toThrow(TypeError);
  });
});

describe('checkTransactReply', () => {
  const insertOps: Operation[] = [
    insertOp('Interface', { name: 'tapa' }, 'i1'),
    insertOp('Port', { name: 'tapa', interfaces: namedUuid('i1') }, 'p1'),
    mutateOp('Bridge', [eq('name', 'br-test')], [['ports', 'insert', ovsSet([namedUuid('p1')])]]),
  ];

  it('returns the results of a committed transaction', () => {
    expect(checkTransactReply([insertOp('Interface', { name: 'x' })], [{ uuid: ['uuid', 'u'] }])).toEqual([{ uuid: ['uuid', 'u'] }]);
  });

  it('reports a commit-time constraint violation (extra result after the ops)', () => {
    const err = (() => {
      try {
        checkTransactReply(insertOps, errors.constraintViolation);
      } catch (e) {
        return e;
      }
    })() as OvsdbTransactionError;
    expect(err).toBeInstanceOf(OvsdbTransactionError);
    expect(err.code).toBe('OVSDB_TRANSACTION_FAILED');
    expect(err.failures).toEqual([
      expect.objectContaining({ index: 3, op: undefined, table: undefined, error: 'constraint violation', details: expect.stringContaining('identical values (tapa)') }),
    ]);
    expect(err.message).toMatch(/commit \(op 3\): constraint violation/u);
  });

  it('reports a failed wait guard with its op and table, code OVSDB_WAIT_FAILED', () => {
    const ops = [waitOp('Port', [eq('name', 'tapa')], { columns: ['name'], until: '==', rows: [], timeoutMs: 0 }), insertOp('Interface', { name: 'zz' })];
    expect(() => checkTransactReply(ops, errors.waitFailed)).toThrow(
      expect.objectContaining({ code: 'OVSDB_WAIT_FAILED', failures: [expect.objectContaining({ index: 0, op: 'wait', table: 'Port', error: 'timed out' })] }),
    );
  });

  it('reports a syntax error with the offending syntax', () => {
    expect(() => checkTransactReply([insertOp('Interface', { nme: 'zz' })], errors.unknownColumn)).toThrow(
      expect.objectContaining({ failures: [expect.objectContaining({ error: 'unknown column', syntax: '{"nme":"zz"}', details: 'No column nme in table Interface.' })] }),
    );
  });

  it('rejects a non-array reply', () => {
    expect(() => checkTransactReply([], { oops: 1 })).toThrow(OvsdbProtocolError);
  });

  it('transact() sends [db, ...ops] as the params', async () => {
    const sent: unknown[] = [];
    const client = {
      request: async <T>(method: string, params: unknown[]): Promise<T> => {
        sent.push(method, params);
        return [{ count: 1 }] as T;
      },
    };
    const op = mutateOp('Open_vSwitch', [], [['next_cfg', '+=', 1]]);
    await expect(transact(client, [op])).resolves.toEqual([{ count: 1 }]);
    expect(sent).toEqual(['transact', ['Open_vSwitch', op]]);
  });
});
