import { BadRequestException, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { toErrorResponse } from './all-exceptions.filter';

describe('toErrorResponse', () => {
  it('keeps the validation messages of a 400', () => {
    expect(toErrorResponse(new BadRequestException(['user_id must be a string']))).toEqual({ statusCode: 400, error: 'Bad Request', message: ['user_id must be a string'] });
  });

  it('renders a string HttpException', () => {
    expect(toErrorResponse(new NotFoundException('no brief'))).toEqual({ statusCode: 404, error: 'Not Found', message: 'no brief' });
  });

  it('names the failing checks of a Terminus 503', () => {
    const result = { status: 'error', info: {}, error: { shutdown: { status: 'down', message: 'shutting down' }, database: { status: 'down' } }, details: {} };
    expect(toErrorResponse(new ServiceUnavailableException(result))).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'not ready: shutdown: shutting down; database: down' });
  });

  it('never reveals an unexpected error', () => {
    const body = toErrorResponse(new Error('SELECT * FROM secrets at /srv/app/main.js:12'));
    expect(body).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' });
  });

  it('maps Fastify client errors (body too large) to their status', () => {
    expect(toErrorResponse(Object.assign(new Error('Request body is too large'), { statusCode: 413 }))).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'request body is too large' });
  });
});
