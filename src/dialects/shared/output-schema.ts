// Checks a client's JSON schema for structured output before a CLI process is started with it. The
// CLI compiles the schema with Ajv (draft-07, strict keywords, formats not enforced) and exits when it
// cannot: checking the same way here turns that into a clear 400 naming the field, not a 502.
import { Ajv } from 'ajv';
import { clip, GatewayError } from '../../errors.js';
import { depthExceeds, MAX_SCHEMA_DEPTH } from '../../engine/tool-requests.js';

const ajv = new Ajv({ validateFormats: false, logger: false });

export function checkOutputSchema(schema: unknown, param: string): Record<string, unknown> {
  const fail = (why: string) => new GatewayError('invalid_request', `The JSON schema in '${param}' cannot be used: ${clip(why, 200)}`, { param, code: 'invalid_schema' });
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) throw fail('it must be a JSON object.');
  // Ajv recurses: a schema nested past the limit is refused before it sees it.
  if (depthExceeds(schema, MAX_SCHEMA_DEPTH)) throw fail(`it nests deeper than ${MAX_SCHEMA_DEPTH} levels.`);
  const s = { ...(schema as Record<string, unknown>) };
  // Claude Code delivers structured output as a tool call, and tool inputs are JSON objects.
  if (s.type !== 'object') throw fail('the root must be an object schema ("type": "object"); wrap other values in a property.');
  // The CLI's Ajv knows draft-07 only; 2019-09/2020-12 schemas are mostly draft-07 compatible, and
  // keywords only the newer drafts know still fail the compile below.
  delete s.$schema;
  try {
    ajv.compile(s);
  } catch (e) {
    throw fail((e as Error).message);
  } finally {
    ajv.removeSchema();
  }
  return s;
}
