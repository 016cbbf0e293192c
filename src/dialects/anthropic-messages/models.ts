// GET /v1/models and /v1/models/{id} in Anthropic's shape, from the catalog the CLI reported.
import type { Context } from 'hono';
import type { ModelEntry } from '../../engine/models.js';

export function anthropicModel(m: ModelEntry) {
  return {
    type: 'model',
    id: m.id,
    display_name: m.displayName,
    // The CLI does not report release dates.
    created_at: '1970-01-01T00:00:00Z',
    capabilities: null,
    deprecated_at: null,
    lifecycle: 'active',
    line: null,
    max_input_tokens: null,
    max_tokens: null,
    retires_at: null,
    /** Extension: the model id an alias resolves to. */
    resolved_model: m.resolved,
  };
}

export function anthropicModelList(c: Context, models: ModelEntry[]): Response {
  const data = models.map(anthropicModel);
  return c.json({ data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null });
}
