// GET /v1/models and /v1/models/{id} in OpenAI's shape, from the catalog the CLI reported.
import type { Context } from 'hono';
import type { ModelEntry } from '../../engine/models.js';

export function openAIModel(m: ModelEntry) {
  return { id: m.id, object: 'model', created: 0, owned_by: 'anthropic', display_name: m.displayName, resolved_model: m.resolved };
}

export function openAIModelList(c: Context, models: ModelEntry[]): Response {
  return c.json({ object: 'list', data: models.map(openAIModel) });
}
