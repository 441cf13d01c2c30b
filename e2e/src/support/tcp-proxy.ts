import { AddressInfo, connect, createServer, Server, Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream?: Socket;
  /** Bytes read just as the partition began, delivered when it heals. */
  toUpstream: Buffer[];
  toClient: Buffer[];
}

/**
 * A TCP proxy in front of a real server, for partitions as an incident makes them: `freeze()` stops
 * forwarding bytes in both directions while every connection stays open (new ones are accepted and held),
 * so peers see silence, not a refusal; `heal()` forwards again, queued bytes included.
 */
export class TcpProxy {
  private server?: Server;
  private frozen = false;
  private readonly pairs = new Set<Pair>();
  private readonly held: Pair[] = [];

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  get port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  async start(): Promise<number> {
    this.server = createServer((client) => {
      const pair: Pair = { client, toUpstream: [], toClient: [] };
      this.pairs.add(pair);
      client.on('error', () => undefined);
      client.on('close', () => (pair.upstream?.destroy(), this.pairs.delete(pair)));
      client.on('data', (chunk) => (this.frozen || !pair.upstream ? pair.toUpstream.push(chunk) : pair.upstream.write(chunk)));
      if (this.frozen) {
        client.pause();
        this.held.push(pair);
      } else this.open(pair);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this.port;
  }

  /** The partition: no byte moves either way, and no connection closes. */
  freeze(): void {
    this.frozen = true;
    for (const pair of this.pairs) {
      pair.client.pause();
      pair.upstream?.pause();
    }
  }

  heal(): void {
    this.frozen = false;
    this.held.splice(0).forEach((pair) => this.open(pair));
    for (const pair of this.pairs) {
      if (pair.upstream) pair.toUpstream.splice(0).forEach((chunk) => pair.upstream?.write(chunk));
      pair.toClient.splice(0).forEach((chunk) => pair.client.write(chunk));
      pair.client.resume();
      pair.upstream?.resume();
    }
  }

  async stop(): Promise<void> {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream?.destroy();
    }
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private open(pair: Pair): void {
    if (pair.client.destroyed) return;
    const upstream = connect(this.targetPort, this.targetHost);
    pair.upstream = upstream;
    upstream.on('error', () => pair.client.destroy());
    upstream.on('close', () => pair.client.destroy());
    upstream.on('data', (chunk) => (this.frozen ? pair.toClient.push(chunk) : pair.client.write(chunk)));
    upstream.once('connect', () => {
      pair.toUpstream.splice(0).forEach((chunk) => upstream.write(chunk));
      pair.client.resume();
    });
  }
}
