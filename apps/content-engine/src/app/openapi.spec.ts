import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServiceTestApp, tempDir } from '@personai/service-kit/testing';
import { loadContentEngineConfig } from '../config/content-engine.config';
import { AppModule } from './app.module';

interface Document {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, { required?: string[]; properties?: Record<string, unknown> }> };
}

describe('content-engine API docs', () => {
  let app: NestFastifyApplication;
  let dir: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    dir = tempDir('content-engine-docs');
    app = await createServiceTestApp(AppModule.forConfig(loadContentEngineConfig({ DATA_DIR: dir.path, LOG_LEVEL: 'error' })));
  });
  afterAll(async () => {
    await app.close();
    dir.remove();
  });

  it('documents POST /content: its body, its answer and the shared error answer', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<Document>();
    expect([doc.openapi, doc.info.title]).toEqual(['3.1.0', 'content-engine']);
    const post = doc.paths['/content']['post'];
    expect(post.requestBody).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateContentDto' } } } });
    expect(doc.components.schemas['CreateContentDto'].required).toEqual(['brief_id', 'user_id']);
    expect(Object.keys(doc.components.schemas['CreateContentDto'].properties ?? {})).toEqual(['brief_id', 'user_id', 'sources', 'prompt']);
    expect(post.responses['201'].content?.['application/json'].schema).toEqual({ $ref: '#/components/schemas/GeneratedContent' });
    expect(doc.components.schemas['GeneratedContent'].required).toEqual(['id', 'brief_id', 'text', 'model', 'tokens']);
    expect(post.responses['4XX'].content?.['application/json'].schema).toEqual({ $ref: '#/components/schemas/ErrorResponse' });
    expect(doc.paths['/health']['get'].responses['503'].content?.['application/json'].schema).toMatchObject({ additionalProperties: false, required: expect.arrayContaining(['status', 'checks']) });
    expect(doc.paths['/__faults/database']).toBeUndefined(); // fault injection is off
  });

  it('serves Swagger UI at /docs under its own content security policy', async () => {
    const docs = await app.inject({ method: 'GET', url: '/docs' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger-ui');
    expect(docs.headers['content-security-policy']).toContain("script-src 'self'");
    const api = await app.inject({ method: 'GET', url: '/health/live' });
    expect(api.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
  });
});
