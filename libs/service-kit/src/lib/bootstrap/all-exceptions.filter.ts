import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { ErrorResponse } from '@personai/contracts';
import type { FastifyReply } from 'fastify';
import { STATUS_CODES } from 'node:http';

/** Renders every error as `{ statusCode, error, message }`; never a stack trace, path or query. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const body = toErrorResponse(exception);
    if (!(exception instanceof HttpException) && body.statusCode >= 500) {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    host.switchToHttp().getResponse<FastifyReply>().status(body.statusCode).send(body);
  }
}

/** The contract's error body for any thrown value (HttpException, Fastify error or anything else). */
export function toErrorResponse(exception: unknown): ErrorResponse {
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'string') return { statusCode, error: reason(statusCode), message: response };
    const r = response as { error?: unknown; message?: unknown; details?: unknown };
    if (r.details && typeof r.error === 'object' && r.error !== null) {
      // A failed Terminus check (e.g. /health/ready): name what is down and why.
      const failing = Object.entries(r.error as Record<string, { message?: unknown; status?: unknown }>).map(([name, c]) => `${name}: ${String(c.message ?? c.status)}`);
      return { statusCode, error: reason(statusCode), message: `not ready: ${failing.join('; ')}` };
    }
    const message = typeof r.message === 'string' || Array.isArray(r.message) ? (r.message as string | string[]) : exception.message;
    return { statusCode, error: typeof r.error === 'string' ? r.error : reason(statusCode), message };
  }
  const fastifyStatus = (exception as { statusCode?: unknown })?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    return { statusCode: fastifyStatus, error: reason(fastifyStatus), message: clientErrorMessage(exception as Error, fastifyStatus) };
  }
  return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, error: reason(500), message: 'Internal server error' };
}

function clientErrorMessage(err: Error, status: number): string {
  if (status === 413) return 'request body is too large';
  if (err instanceof SyntaxError || /JSON/i.test(err.message)) return 'request body is not valid JSON';
  return err.message;
}

function reason(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}
