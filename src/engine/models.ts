// The model catalog, read from the CLI (supportedModels()), never hard-coded: model ids change
// between CLI versions. Clients may name an alias the CLI knows (sonnet, opus, haiku, ...), a full
// id one of them resolves to, or an alias from the gateway's configuration.
import type { ModelInfo } from '@anthropic-ai/claude-agent-sdk';
import { clip, GatewayError } from '../errors.js';

export interface ModelEntry {
  /** The name clients use. */
  id: string;
  /** What the CLI is given (--model). */
  cliModel: string;
  /** The wire id it resolves to, when known. */
  resolved: string;
  displayName: string;
  description: string;
  kind: 'alias' | 'model';
}

export class ModelCatalog {
  private readonly byId = new Map<string, ModelEntry>();

  constructor(models: ModelInfo[], configAliases: Record<string, string> = {}) {
    for (const m of models) {
      const resolved = m.resolvedModel ?? m.value;
      this.add({ id: m.value, cliModel: m.value, resolved, displayName: m.displayName, description: m.description, kind: resolved === m.value ? 'model' : 'alias' });
      if (!this.byId.has(resolved)) {
        this.add({ id: resolved, cliModel: resolved, resolved, displayName: m.displayName, description: m.description, kind: 'model' });
      }
    }
    for (const [alias, target] of Object.entries(configAliases)) {
      const t = this.byId.get(target);
      if (!t) throw new Error(`model alias "${alias}" points at "${target}", which the CLI does not offer (known: ${[...this.byId.keys()].join(', ')})`);
      this.add({ ...t, id: alias, kind: 'alias', description: `Alias for ${target}` });
    }
  }

  private add(e: ModelEntry): void {
    this.byId.set(e.id, e);
  }

  list(): ModelEntry[] {
    return [...this.byId.values()];
  }

  get(id: string): ModelEntry | undefined {
    return this.byId.get(id);
  }

  resolve(id: string): ModelEntry {
    const e = this.byId.get(id);
    if (!e) {
      throw new GatewayError('model_not_found', `The model '${clip(id)}' does not exist. Known models: ${[...this.byId.keys()].join(', ')}.`, {
        param: 'model',
        code: 'model_not_found',
      });
    }
    return e;
  }
}
