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
