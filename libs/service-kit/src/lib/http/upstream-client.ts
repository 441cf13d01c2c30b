import { HttpException, HttpStatus, Injectable, Logger } from '@nestjs/common';
import { REQUEST_ID_HEADER } from './request-id';

export interface UpstreamCallOptions {
  /** Name used in errors and logs, e.g. `openai_api`. */
  upstream: string;
  method?: 'GET' | 'POST';
  body?: unknown;
  requestId?: string;
  /** Bearer token sent to the upstream. */
  token?: string;
  /** @default 5000 */
  timeoutMs?: number;
}

/** An upstream that failed (502) or did not answer in time (504), with the reason. */
export class UpstreamError extends HttpException {
  constructor(
    readonly upstream: string,
    readonly reason: 'timeout' | 'unreachable' | 'bad_status' | 'bad_body',
    detail: string,
  ) {
    const status = reason === 'timeout' ? HttpStatus.GATEWAY_TIMEOUT : HttpStatus.BAD_GATEWAY;
    super({ statusCode: status, error: status === HttpStatus.GATEWAY_TIMEOUT ? 'Gateway Timeout' : 'Bad Gateway', message: `${upstream}: ${detail}` }, status);
  }
}

/** JSON (or binary) calls to an upstream with a timeout and the request id propagated. */
@Injectable()
export class UpstreamClient {
  private readonly logger = new Logger(UpstreamClient.name);

  async json<T>(url: string, options: UpstreamCallOptions): Promise<T> {
    const res = await this.send(url, options);
    try {
      return (await res.json()) as T;
    } catch {
      throw new UpstreamError(options.upstream, 'bad_body', 'answered with a body that is not JSON');
    }
  }

  async bytes(url: string, options: UpstreamCallOptions): Promise<Buffer> {
    const res = await this.send(url, options);
    return Buffer.from(await res.arrayBuffer());
  }

  private async send(url: string, options: UpstreamCallOptions): Promise<Response> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.requestId) headers[REQUEST_ID_HEADER] = options.requestId;
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new UpstreamError(options.upstream, 'timeout', `no answer within ${timeoutMs} ms`);
      throw new UpstreamError(options.upstream, 'unreachable', e.cause?.code ?? 'connection failed');
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      this.logger.warn(`${options.upstream} answered ${res.status} to ${url}: ${text.slice(0, 200)}`);
      throw new UpstreamError(options.upstream, 'bad_status', `answered HTTP ${res.status}`);
    }
    return res;
  }
}
