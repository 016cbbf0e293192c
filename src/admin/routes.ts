// The admin API (the admin key, or the /auth page's session): app keys and usage.
//   POST   /admin/keys        create a key; the answer holds the key, this once (201)
//   GET    /admin/keys        every key with its usage today and this month (UTC)
//   DELETE /admin/keys/:id    revoke a key (200; unknown id 404)
//   GET    /admin/usage       aggregates per day, key and model: ?from&to (YYYY-MM-DD, UTC), key, model,
//                             by_dialect=1, format=json|csv
import type { Hono } from 'hono';
import { z } from 'zod';
import { GatewayError } from '../errors.js';
import { readJson, validate } from '../http/body.js';
import type { ModelCatalog } from '../engine/models.js';
import type { Admin } from './admin.js';
import { createKeySchema, type AppKey } from './app-keys.js';
import { dayOf, daysBetween } from './periods.js';
import { usageCsv } from './usage.js';

const BODY_LIMIT = 64 * 1024;
const MAX_DAYS = 400;

const day = z.iso.date({ message: 'must be a date as YYYY-MM-DD' });
const usageQuerySchema = z
  .object({
    from: day.optional(),
    to: day.optional(),
    key: z.string().min(1).max(100).optional(),
    model: z.string().min(1).max(200).optional(),
    by_dialect: z.enum(['0', '1', 'true', 'false']).optional(),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();

/** A key as lists show it: everything but the hash it is stored under. */
export const publicKey = (k: AppKey) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  models: k.models,
  rpm: k.rpm,
  tpm: k.tpm,
  daily_tokens: k.daily_tokens,
  monthly_tokens: k.monthly_tokens,
  expires_at: k.expires_at,
  created_at: k.created_at,
  revoked_at: k.revoked_at,
});

export function registerAdminRoutes(app: Hono, admin: Admin, catalog: () => ModelCatalog | undefined): void {
  app.post('/admin/keys', async (c) => {
    const input = validate(createKeySchema, await readJson(c, BODY_LIMIT));
    const known = catalog();
    const unknown = known && input.models?.find((m) => !known.get(m));
    if (unknown) throw new GatewayError('invalid_request', `models: '${unknown}' is not a model this gateway serves (see GET /v1/models).`, { param: 'models' });
    const { key, record } = await admin.keys.create(input);
    const { revoked_at: _r, ...shown } = publicKey(record);
    return c.json({ ...shown, key }, 201);
  });

  app.get('/admin/keys', async (c) => {
    const keys = await admin.listKeys();
    return c.json({ data: keys.map((k) => ({ ...publicKey(k), usage: k.usage })) });
  });

  app.delete('/admin/keys/:id', async (c) => {
    const key = await admin.keys.revoke(c.req.param('id'));
    return c.json({ id: key.id, revoked_at: key.revoked_at });
  });

  app.get('/admin/usage', async (c) => {
    const q = validate(usageQuerySchema, c.req.query());
    const today = dayOf(Date.now());
    const to = q.to ?? today;
    const from = q.from ?? dayOf(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000);
    if (from > to) throw new GatewayError('invalid_request', `from (${from}) is after to (${to}).`, { param: 'from' });
    if (daysBetween(from, to).length > MAX_DAYS) throw new GatewayError('invalid_request', `At most ${MAX_DAYS} days at once.`, { param: 'from' });
    const byDialect = q.by_dialect === '1' || q.by_dialect === 'true';
    const rows = await admin.usage.query({ from, to, key: q.key, model: q.model, byDialect });
    if (q.format === 'csv') {
      return c.body(usageCsv(rows, byDialect), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="usage-${from}-${to}.csv"` });
    }
    return c.json({ from, to, data: rows });
  });
}
