// API_TOKEN: every write and the admin pages need `Authorization: Bearer <token>`; reads stay open.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { useTestDatabase, useTestRedis } from '@tally/test-support';
import { authorWithBooks, useApps } from './helpers.js';

const db = useTestDatabase();
const redis = useTestRedis();
const buildApi = useApps(db, redis);

const TOKEN = 'a-long-enough-secret-token';

describe('the token guard', () => {
  it('refuses every write without the token (401, nothing written) and accepts it with the token', async () => {
    const api = await buildApi({ API_TOKEN: TOKEN });
    const { id, bookIds } = await authorWithBooks(db.pool, 'Ann', 2);
    const other = await authorWithBooks(db.pool, 'Bob', 0);
    const writes = [
      { method: 'POST', url: '/authors', payload: { name: 'New' }, ok: 201 },
      { method: 'PATCH', url: `/authors/${id}`, payload: { name: 'Renamed' }, ok: 200 },
      { method: 'POST', url: '/books', payload: { author_id: id, title: 'New' }, ok: 201 },
      { method: 'PATCH', url: `/books/${bookIds[0]}`, payload: { author_id: other.id }, ok: 200 },
      { method: 'DELETE', url: `/books/${bookIds[1]}`, ok: 204 },
      { method: 'DELETE', url: `/authors/${other.id}`, ok: 204 },
    ] as const;
    for (const write of writes) {
      const label = `${write.method} ${write.url}`;
      const request = { method: write.method, url: write.url, ...('payload' in write ? { payload: write.payload } : {}) };
      const before = await db.pool.query('SELECT (SELECT json_agg(a ORDER BY id) FROM author a) AS a, (SELECT json_agg(b ORDER BY id) FROM book b) AS b');

      const missing = await api.inject(request);
      expect(missing.statusCode, label).toBe(401);
      expect(missing.json(), label).toEqual({ detail: 'Authentication credentials were not provided.' });
      expect(missing.headers['www-authenticate'], label).toMatch(/^Bearer/);
      for (const authorization of [`Bearer ${TOKEN}x`, 'Bearer ', `Bearer ${TOKEN.slice(1)}`, 'Bearer wrong']) {
        const wrong = await api.inject({ ...request, headers: { authorization } });
        expect(wrong.statusCode, `${label} with ${authorization}`).toBe(401);
        expect(wrong.json(), label).toEqual({ detail: 'Invalid token.' });
      }
      const otherScheme = await api.inject({ ...request, headers: { authorization: `Basic ${TOKEN}` } });
      expect(otherScheme.statusCode, label).toBe(401);
      const after = await db.pool.query('SELECT (SELECT json_agg(a ORDER BY id) FROM author a) AS a, (SELECT json_agg(b ORDER BY id) FROM book b) AS b');
      expect(after.rows, label).toEqual(before.rows);

      const allowed = await api.inject({ ...request, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(allowed.statusCode, label).toBe(write.ok);
    }
  });

  it('keeps every read open', async () => {
    const api = await buildApi({ API_TOKEN: TOKEN });
    const { id, bookIds } = await authorWithBooks(db.pool, 'Ann', 2);
    for (const url of ['/authors', `/authors/${id}`, `/authors/${id}/books`, '/books', `/books?author=${id}`, `/books/${bookIds[0]}`, '/health', '/docs/json']) {
      expect((await api.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
  });

  it('guards the queue dashboard', async () => {
    const api = await buildApi({ API_TOKEN: TOKEN });
    const page = await api.inject({ method: 'GET', url: '/admin/queues' });
    expect(page.statusCode).toBe(401);
    const api2 = await api.inject({ method: 'GET', url: '/admin/queues/api/queues' });
    expect(api2.statusCode).toBe(401);
    const allowed = await api.inject({ method: 'GET', url: '/admin/queues', headers: { authorization: `bearer ${TOKEN}` } });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.headers['content-type']).toMatch(/text\/html/);
  });

  it('warns at start that writes are open when no token is set', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const api = await buildApi({}, { logger: { level: 'warn', stream } });
    expect(lines.join('')).toContain('API_TOKEN is not set');
    const created = await api.inject({ method: 'POST', url: '/authors', payload: { name: 'Open' } });
    expect(created.statusCode).toBe(201);
  });
});
