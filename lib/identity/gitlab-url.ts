/**
 * Which GitLab URLs a token may be sent to: https only. Pure, shared by the GitLab client, the
 * Lambdas' handler configuration and the constructs, so a URL the config schema would reject
 * cannot reach a token through the exported constructs or a hand-edited handler-config.json.
 *
 * The one exception is plain http to the loopback interface (127.0.0.0/8, [::1], localhost):
 * a request there never leaves the machine, and it is how the tests run real HTTP against the
 * fake GitLab. Constructs, which always describe a remote GitLab, do not take it.
 */

/** Loopback hosts as URL.hostname spells them. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Why `url` must not receive a GitLab token, or undefined when it may.
 * @param allowLoopbackHttp accept `http://` to a loopback host (the client and Lambdas; not constructs)
 */
export function gitlabUrlProblem(url: string, allowLoopbackHttp = false): string | undefined {
  if (!URL.canParse(url)) return `"${url}" is not a URL; expected e.g. https://gitlab.example.com`;
  const parsed = new URL(url);
  if (parsed.protocol === 'https:') return undefined;
  if (allowLoopbackHttp && parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)) return undefined;
  return `"${url}" is not an https:// URL; GitLab tokens are only sent over TLS`;
}
