import { describe, expect, it } from 'vitest';
import { gitlabUrlProblem } from '../../lib/identity/gitlab-url';

describe('gitlabUrlProblem: where a GitLab token may be sent', () => {
  it('accepts https', () => {
    expect(gitlabUrlProblem('https://gitlab.example.com')).toBeUndefined();
  });

  it.each(['http://gitlab.example.com', 'http://127.0.0.1:8080', 'ws://gitlab.example.com'])('refuses %s by default', (url) => {
    expect(gitlabUrlProblem(url)).toBe(`"${url}" is not an https:// URL; GitLab tokens are only sent over TLS`);
  });

  it.each(['http://127.0.0.1:8080', 'http://127.1.2.3', 'http://localhost', 'http://[::1]:9'])(
    'accepts loopback http %s only when asked to',
    (url) => {
      expect(gitlabUrlProblem(url, true)).toBeUndefined();
    },
  );

  it.each(['http://127.0.0.1.example.com', 'http://localhost.example.com', 'http://10.0.0.1'])(
    'does not mistake %s for loopback',
    (url) => {
      expect(gitlabUrlProblem(url, true)).toMatch(/is not an https:\/\/ URL/);
    },
  );

  it('says when the value is not a URL at all', () => {
    expect(gitlabUrlProblem('gitlab.example.com')).toMatch(/is not a URL; expected e\.g\. https:\/\/gitlab\.example\.com/);
  });
});
