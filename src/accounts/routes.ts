// /auth/accounts: the pool on the HTTP API and the /auth page's forms, behind the /auth guard (the
// gateway key or the page's session with its CSRF token). Secrets go in, never out.
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { openAIErrorBody } from '../dialects/shared/openai-error.js';
import { GatewayError } from '../errors.js';
import { clientAbort } from '../http/context.js';
import type { Flash } from '../auth/web-session.js';
import type { AccountAdmin } from './manage.js';
import { roleSchema } from './store.js';

export interface AccountRouteHelpers {
  /** A form post gets a redirect back to /auth with a message; an API call the JSON. */
  reply(c: Context, flash: Flash | undefined, json: object, status?: 200 | 400 | 404 | 409): Response;
  body<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>>;
}

const addSchema = z.object({
  name: z.string().trim().min(1, 'Name the credential.').max(64),
  token: z.string().trim().min(1, 'Paste a token or an API key.').max(4096),
  // Forms send strings: a number or its digits.
  priority: z.union([z.number().int(), z.string().trim().regex(/^-?\d{1,6}$/, 'priority is a whole number').transform(Number), z.literal('').transform(() => undefined)]).optional(),
  role: z.union([roleSchema, z.literal('').transform(() => undefined)]).optional(),
});

export function registerAccountRoutes(app: Hono, admin: AccountAdmin, h: AccountRouteHelpers): void {
  /** A refusal of the pool's own (unknown name, duplicate, failed verification): the page shows it, the API gets it in the OpenAI shape. */
  const failed = (c: Context, e: unknown): Response => {
    if (!(e instanceof GatewayError)) throw e;
    return h.reply(c, { kind: 'error', message: e.message }, openAIErrorBody(e), e.status === 404 ? 404 : 400);
  };

  app.get('/auth/accounts', (c) => c.json({ accounts: admin.list() }));

  app.post('/auth/accounts', async (c) => {
    const { name, token, priority, role } = await h.body(c, addSchema);
    try {
      const account = await admin.add({ name, token, priority, role }, clientAbort(c).signal);
      return h.reply(c, { kind: 'ok', message: `Added '${account.name}': a test request with it succeeded.` }, { account });
    } catch (e) {
      return failed(c, e);
    }
  });

  for (const [action, disabled] of [['disable', true], ['enable', false]] as const) {
    app.post(`/auth/accounts/:name/${action}`, async (c) => {
      try {
        const account = await admin.setDisabled(c.req.param('name'), disabled);
        return h.reply(c, { kind: 'ok', message: `'${account.name}' is ${disabled ? 'disabled' : 'enabled'}.` }, { account });
      } catch (e) {
        return failed(c, e);
      }
    });
  }

  const remove = async (c: Context) => {
    const name = c.req.param('name')!;
    try {
      await admin.remove(name);
      return h.reply(c, { kind: 'ok', message: `Removed '${name}' from the pool.` }, { removed: name });
    } catch (e) {
      return failed(c, e);
    }
  };
  app.delete('/auth/accounts/:name', remove);
  // The page's forms can only post.
  app.post('/auth/accounts/:name/remove', remove);
}
