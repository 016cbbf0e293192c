// What a request's turn looks like to a CLI process (its shape: model, system prompt, effort,
// limits, schema, tools) and to a conversation (model, system prompt, tools: a turn whose limits or
// effort differ still extends the same conversation; only its process differs).
import type { ModelEntry } from './models.js';
import type { TurnShape } from './process-factory.js';
import type { ToolDefinition, TurnRequest } from './types.js';

export const NEUTRAL_SYSTEM_PROMPT = 'You are a helpful assistant. Answer the user directly.';

export interface ShapedTurn {
  shape: TurnShape;
  /** Processes serve only turns of their own shape (warm pool, live conversations). */
  shapeKey: string;
  /** Histories are compared only within one conversation key. */
  conversationKey: string;
}

export function shapeTurn(req: TurnRequest, model: ModelEntry, tools: ToolDefinition[] | undefined): ShapedTurn {
  const shape: TurnShape = {
    model: model.cliModel,
    system: req.system?.trim() ? req.system : NEUTRAL_SYSTEM_PROMPT,
    effort: req.effort,
    thinking: req.thinking,
    maxOutputTokens: req.maxOutputTokens,
    outputSchema: req.outputSchema,
    tools,
  };
  return { shape, shapeKey: JSON.stringify(shape), conversationKey: JSON.stringify({ model: shape.model, system: shape.system, tools }) };
}
