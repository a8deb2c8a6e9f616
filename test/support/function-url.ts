/**
 * A Lambda function URL on 127.0.0.1: turns each HTTP request into the payload-2.0 event a
 * function URL delivers (lower-case headers, base64 for binary bodies) and writes the handler's
 * result back, so webhook handlers are tested over real HTTP.
 */
import type { IncomingMessage } from 'node:http';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { startLoopbackServer, type LoopbackServer } from './loopback-server';

export type FunctionUrlHandler = (event: LambdaFunctionURLEvent) => Promise<LambdaFunctionURLResult>;

export async function startFunctionUrl(handler: FunctionUrlHandler): Promise<LoopbackServer> {
  return startLoopbackServer((req, res) => {
    void readBody(req).then(async (body) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[key.toLowerCase()] = value;
      const text = body.toString('utf8');
      const binary = Buffer.from(text, 'utf8').compare(body) !== 0;
      const event = {
        version: '2.0',
        routeKey: '$default',
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        requestContext: {
          http: { method: req.method ?? 'GET', path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: '' },
        },
        body: binary ? body.toString('base64') : text,
        isBase64Encoded: binary,
      } as unknown as LambdaFunctionURLEvent;
      const result = await handler(event);
      const out = typeof result === 'string' ? { statusCode: 200, body: result, headers: {} } : result;
      res.writeHead(out.statusCode ?? 200, out.headers as Record<string, string>).end(out.body ?? '');
    });
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}
