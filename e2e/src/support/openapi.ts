import Ajv2020 from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv';

/** An OpenAPI 3.1 document as far as the check needs it. */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
  components?: { schemas?: Record<string, unknown> };
}

interface Operation {
  path: string;
  method: string;
  pattern: RegExp;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

/** `/briefs/{id}` → a regex for concrete paths. */
const templateToRegex = (path: string) => new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);

/**
 * Checks live answers against the OpenAPI document the service itself publishes at /openapi.json: the
 * schema documented for the operation and status (or its 4XX/5XX range). A JSON answer to a path no
 * operation documents must still be the documented error shape.
 */
export class OpenApiConformance {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  private readonly documents = new Map<string, Promise<{ id: string; operations: Operation[] }>>();
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly fetchDocument: (base: string) => Promise<OpenApiDocument>) {}

  /** The schema errors of `body` (empty when it conforms or nothing JSON is documented for it). */
  async errors(base: string, method: string, path: string, status: number, body: unknown): Promise<string[]> {
    const { id, operations } = await this.document(base);
    const operation = operations.find((o) => o.method === method.toLowerCase() && o.pattern.test(path));
    if (!operation) return status >= 400 ? this.validate(`${id}#/components/schemas/ErrorResponse`, body) : [`no operation documents ${method} ${path}`];
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => operation.responses[k]);
    if (!key) return [`${method} ${operation.path} documents no ${status} answer (it documents ${Object.keys(operation.responses).join(', ')})`];
    const json = operation.responses[key].content?.['application/json'];
    if (!json?.schema) return [];
    const pointer = ['paths', operation.path, operation.method, 'responses', key, 'content', 'application/json', 'schema'].map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
    return this.validate(`${id}#/${pointer}`, body);
  }

  private validate(ref: string, body: unknown): string[] {
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, validate);
    }
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
  }

  private document(base: string): Promise<{ id: string; operations: Operation[] }> {
    let loaded = this.documents.get(base);
    if (!loaded) {
      loaded = this.fetchDocument(base).then((doc) => {
        const id = `openapi:${base}`;
        this.ajv.addSchema({ ...doc, $id: id });
        const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
          Object.entries(methods).map(([method, op]) => ({ path, method, pattern: templateToRegex(path), responses: op.responses ?? {} })),
        );
        return { id, operations };
      });
      this.documents.set(base, loaded);
    }
    return loaded;
  }
}
