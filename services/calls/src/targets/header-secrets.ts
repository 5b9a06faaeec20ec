/** A tenant's secrets opened: name -> value. Never logged. */
export type TenantSecrets = Readonly<Record<string, string>>;

/** `{{secret:NAME}}` in a header value; spaces inside the braces are forgiven. */
const PLACEHOLDER = /\{\{\s*secret:\s*([^{}]*?)\s*\}\}/g;
const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
/** What Node's HTTP client accepts in a header value (anything else throws mid-call). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export type HeaderFill =
  | { ok: true; headers: Record<string, string> }
  | { ok: false; code: 'KB_ERR_SECRET_MISSING' | 'KB_ERR_SECRET_INVALID'; message: string };

/**
 * The command's headers with every `{{secret:NAME}}` replaced by the
 * tenant's secret, at call time (a secret set or deleted applies to the
 * next call). An unknown name fails the call rather than sending the
 * placeholder or an empty credential. Error messages name the secret and
 * the header, never a value.
 */
export function fillSecretHeaders(headers: Record<string, string>, secrets: TenantSecrets): HeaderFill {
  let filled: Record<string, string> | null = null;
  for (const [header, value] of Object.entries(headers)) {
    if (!value.includes('{{')) continue;
    let out = '';
    let last = 0;
    for (const m of value.matchAll(PLACEHOLDER)) {
      const name = m[1]!;
      if (!SECRET_NAME.test(name) || !Object.hasOwn(secrets, name)) {
        return { ok: false, code: 'KB_ERR_SECRET_MISSING', message: `header "${header}" names secret "${name.slice(0, 80)}", which is not set` };
      }
      const secret = secrets[name]!;
      if (!HEADER_VALUE.test(secret)) {
        return {
          ok: false,
          code: 'KB_ERR_SECRET_INVALID',
          message: `secret "${name}" cannot go in header "${header}": it holds line breaks, control or non-Latin-1 characters`,
        };
      }
      out += value.slice(last, m.index) + secret;
      last = m.index + m[0].length;
    }
    filled ??= { ...headers };
    filled[header] = out + value.slice(last);
  }
  return { ok: true, headers: filled ?? headers };
}
