import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Our MessengerBot R bridge script (bridge-script/ at the repository root), as the web app hands it out. */
export const BRIDGE_SCRIPT_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../bridge-script/domaeka-bridge.js');

/** The file name a download carries (what the phone app's editor expects to hold). */
export const BRIDGE_SCRIPT_FILE = 'domaeka-bridge.js';

/** The five values a downloaded script comes pre-filled with. */
export interface BridgeSettings {
  host: string;
  port: number;
  botName: string;
  secretKey: string;
  salt: string;
}

let template: string | null = null;

/** The unfilled script, read once (it ships with the platform and changes only with a new release). */
export function bridgeTemplate(): string {
  template ??= readFileSync(BRIDGE_SCRIPT_PATH, 'utf8');
  return template;
}

/**
 * The script with its settings filled in (bridge-script/README.md, "Pre-fill
 * contract"): each `"__DOMAEKA_…__"` literal, quotes included, becomes the
 * JSON string of the value, so keys holding quotes, backslashes or `$&` stay
 * intact (split/join, never a replacement string); U+2028/U+2029, valid in
 * JSON but line ends in an ES5 string literal (Rhino), are escaped too. A template missing one
 * of the literals is a release error, not a phone's problem: it throws.
 */
export function fillBridgeScript(templateText: string, s: BridgeSettings): string {
  const values: Record<string, string> = {
    SERVER_HOST: s.host,
    SERVER_PORT: String(s.port),
    BOT_NAME: s.botName,
    SECRET_KEY: s.secretKey,
    SALT: s.salt,
  };
  let out = templateText;
  for (const [name, value] of Object.entries(values)) {
    const literal = `"__DOMAEKA_${name}__"`;
    if (!out.includes(literal)) throw new Error(`the script has no ${literal}`);
    out = out.split(literal).join(jsLiteral(value));
  }
  return out;
}

/** JSON.stringify, with the two characters JSON leaves raw that end an ES5 string literal escaped. */
function jsLiteral(value: string): string {
  return JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
