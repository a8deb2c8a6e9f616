/**
 * Extracts the user data scripts instances actually run from synthesized CloudFormation
 * templates, so shellcheck sees the rendered script rather than its source files.
 *
 * UserData is `Fn::Base64` of a string, or of an `Fn::Join` / `Fn::Sub` mixing literal text
 * with deploy-time values (`Ref`, `Fn::GetAtt`, ...). Deploy-time values become shell-safe
 * placeholders (`CFN_REF_MySecret`), which is how they appear to the shell: one word.
 * A multipart MIME body (cloud-init) is split into its shell-script parts.
 *
 * Files the script writes through heredocs (plain, or base64 / gzip+base64 encoded to fit EC2's
 * 16 KiB limit) are decoded too, so the scripts as they land on the instance get checked.
 */
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface ExtractedUserData {
  /** Logical id of the resource carrying the user data. */
  readonly logicalId: string;
  readonly resourceType: string;
  /** Index of the script within a multipart body; 0 for a plain script. */
  readonly part: number;
  readonly script: string;
}

function placeholder(kind: string, name: string): string {
  return `CFN_${kind}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** Renders a CloudFormation value to the text the instance would see, with placeholders for deploy-time values. */
export function intrinsicToText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(intrinsicToText).join(',');
  if (typeof value !== 'object') return String(value);
  const [fn] = Object.keys(value);
  const arg = (value as Record<string, unknown>)[fn];
  switch (fn) {
    case 'Fn::Base64':
      return intrinsicToText(arg);
    case 'Fn::Join': {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map(intrinsicToText).join(separator);
    }
    case 'Ref':
      return placeholder('REF', String(arg));
    case 'Fn::GetAtt':
      return placeholder('ATT', Array.isArray(arg) ? arg.join('_') : String(arg));
    case 'Fn::Sub': {
      const [template, variables] = (Array.isArray(arg) ? arg : [arg, {}]) as [string, Record<string, unknown>];
      // `${!Literal}` is Fn::Sub's escape for a literal `${Literal}`, which is how bash variables survive it.
      return template.replace(/\$\{(!?)([^}]+)\}/g, (_whole, bang: string, name: string) => {
        if (bang) return `\${${name}}`;
        if (name in variables) return intrinsicToText(variables[name]);
        return placeholder('SUB', name);
      });
    }
    default:
      return placeholder('VALUE', fn.replace(/^Fn::/, ''));
  }
}

/** Splits a cloud-init multipart MIME body into its parts; a non-multipart body is one part. */
export function shellScriptsIn(text: string): string[] {
  const boundary = /^Content-Type:\s*multipart\/[a-z-]+;\s*boundary="?([^"\s;]+)"?/im.exec(text)?.[1];
  if (!boundary) return text.startsWith('#cloud-config') ? [] : [text];
  const scripts: string[] = [];
  for (const chunk of text.split(`--${boundary}`).slice(1)) {
    if (chunk.startsWith('--')) break;
    const separator = chunk.search(/\r?\n\r?\n/);
    if (separator < 0) continue;
    const headers = chunk.slice(0, separator);
    const body = chunk
      .slice(separator)
      .replace(/^\r?\n\r?\n/, '')
      .replace(/\r?\n$/, '');
    if (/Content-Type:\s*text\/x-shellscript/i.test(headers) || body.startsWith('#!')) scripts.push(body);
  }
  return scripts;
}

/** Every user data script in a template: launch templates, launch configurations, instances. */
export function extractUserData(template: {
  Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
}): ExtractedUserData[] {
  const found: ExtractedUserData[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const properties = resource.Properties ?? {};
    const launchTemplateData = properties.LaunchTemplateData as Record<string, unknown> | undefined;
    const userData = launchTemplateData?.UserData ?? properties.UserData;
    if (userData === undefined) continue;
    shellScriptsIn(intrinsicToText(userData)).forEach((script, part) => {
      found.push({ logicalId, resourceType: resource.Type ?? 'unknown', part, script });
    });
  }
  return found;
}

export interface EmbeddedFile {
  /** Where the user data writes the file, as written in the script (variables left in). */
  readonly target: string;
  readonly content: string;
}

/** Decodes heredoc payloads: base64 (optionally gzip) when the text is base64, else the text itself. */
function decodePayload(body: string): string {
  const compact = body.replace(/\s+/g, '');
  if (compact.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return body;
  const bytes = Buffer.from(compact, 'base64');
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return gunzipSync(bytes).toString('utf8');
  return bytes.toString('utf8');
}

/** Files a user data script writes with `... <<'DELIM' ... >target`, decoded. */
export function embeddedFiles(script: string): EmbeddedFile[] {
  const files: EmbeddedFile[] = [];
  const heredoc = /^(.*)<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2(.*)\n([\s\S]*?)\n\3$/gm;
  for (const match of script.matchAll(heredoc)) {
    const command = `${match[1]} ${match[4]}`;
    const target = /(?:^|[^0-9&])>\s*"?([^"\s;|&]+)"?\s*$/.exec(command.trim())?.[1];
    if (!target) continue;
    files.push({ target, content: decodePayload(match[5]) });
  }
  return files;
}

/** Whether an embedded file is a shell script: a `.sh` name or a sh/bash shebang. */
export function isShellScript(file: EmbeddedFile): boolean {
  return basename(file.target).endsWith('.sh') || /^#!\s*\/(usr\/)?bin\/(env\s+)?(ba)?sh\b/.test(file.content);
}
