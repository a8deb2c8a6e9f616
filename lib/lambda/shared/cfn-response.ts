/**
 * Answering CloudFormation from a Lambda-backed custom resource: a PUT of the response document
 * to the pre-signed S3 URL of the request, retried a few times, since CloudFormation otherwise
 * waits an hour for an answer that never comes.
 */
import { errorMessage } from './log';

/** PUTs `body` to the pre-signed response URL; throws after three failed attempts. */
export async function putCloudFormationResponse(
  url: string,
  body: string,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      // The pre-signed S3 URL is signed without a content type, so none is sent.
      const response = await fetch(url, { method: 'PUT', body, headers: { 'content-type': '' }, signal: AbortSignal.timeout(10_000) });
      if (response.ok) return;
      throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      if (attempt >= 3) throw new Error(`could not answer CloudFormation: ${errorMessage(error)}`);
      await sleep(500 * attempt);
    }
  }
}

/** What a Lambda-backed custom resource answers CloudFormation. */
export interface CustomResourceResult {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly Data?: Readonly<Record<string, string>>;
}

/** The identity of the request an answer belongs to. */
export interface CustomResourceRequest {
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
}

/** CloudFormation keeps about 4 KB of a response's reason; ours stay well under. */
const MAX_REASON_CHARS = 3500;

/**
 * The result of `work`, or `onTimeout()` once the function has only `marginMs` left (unless
 * `remainingMs` is unknown): the handler must answer before Lambda kills it, or CloudFormation
 * waits an hour for an answer that never comes.
 */
export async function settleBeforeTimeout<T>(
  work: Promise<T>,
  remainingMs: number | undefined,
  marginMs: number,
  onTimeout: () => T,
): Promise<T> {
  if (remainingMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), Math.max(0, remainingMs - marginMs));
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The response document for a request: the result, its reason shortened, and `extra` fields (such as NoEcho). */
export function responseDocument(
  request: CustomResourceRequest,
  result: CustomResourceResult,
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    ...result,
    Reason: result.Reason?.slice(0, MAX_REASON_CHARS),
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
    ...extra,
  });
}
