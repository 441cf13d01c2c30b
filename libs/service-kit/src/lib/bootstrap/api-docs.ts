import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ERROR_SCHEMA } from '@personai/contracts';

/** Where every service publishes its API. */
export const OPENAPI_JSON_PATH = '/openapi.json';
export const API_DOCS_PATH = '/docs';

const ERROR_RESPONSE = { $ref: '#/components/schemas/ErrorResponse' };

/**
 * The service's OpenAPI 3.1 document from its controllers (@nestjs/swagger): every operation also
 * documents the shared JSON error answer for 4XX and 5XX (AllExceptionsFilter gives no other shape).
 */
export function apiDocument(app: INestApplication, info: { title: string; version: string }): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle(info.title)
    .setVersion(info.version)
    .setDescription(`${info.title}: its own API and the monitoring endpoints every Person.ai service serves (/health, /metrics, /audit).`)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'MONITORING_TOKEN, when set (/audit*)' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  const { $id: _id, ...errorSchema } = ERROR_SCHEMA;
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ErrorResponse: errorSchema as object } };
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations) as { responses?: Record<string, unknown> }[]) {
      if (typeof operation !== 'object' || !operation || !('responses' in operation)) continue;
      const responses = (operation.responses ??= {});
      for (const range of ['4XX', '5XX']) {
        responses[range] ??= { description: 'the JSON error answer: status, error and a message naming what was wrong', content: { 'application/json': { schema: ERROR_RESPONSE } } };
      }
    }
  }
  return document;
}

/**
 * Serves the document at /openapi.json and Swagger UI at /docs (set up before the app listens). The
 * document is built on its first request, not at start-up (about 120 ms a service on this machine).
 */
export function publishApiDocs(app: INestApplication, info: { title: string; version: string }): void {
  SwaggerModule.setup(API_DOCS_PATH.slice(1), app, () => apiDocument(app, info), { jsonDocumentUrl: OPENAPI_JSON_PATH.slice(1), raw: ['json'] });
}
