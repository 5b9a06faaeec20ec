/**
 * Reads a tenant API's answer (the seed's REST standard, or a bare
 * `{text}`) into what the room should get. Pure, so every accepted shape is
 * unit-tested.
 */
export interface Button {
  label: string;
  url: string;
}

/**
 * The answer before it is flattened for a KakaoTalk room: the text without
 * the button lines, the buttons, the image's URL. Only present when there is
 * something a channel that draws buttons and images (the Kakao channel
 * skill) would draw differently from the room's text: buttons, or an image
 * given by URL.
 */
export interface AnswerParts {
  text: string;
  buttons: Button[];
  imageUrl: string | null;
}

export type RestAnswer =
  | { kind: 'text'; text: string; parts?: AnswerParts }
  | { kind: 'image'; caption: string; url: string; parts?: AnswerParts }
  | { kind: 'image'; caption: string; base64: string; format: string | null; parts?: AnswerParts }
  /** Nothing to say (empty text, no buttons). */
  | { kind: 'silent' }
  /** `success: false`: the tenant's own error text, if it gave one. */
  | { kind: 'failed'; text: string | null; error: string }
  | { kind: 'invalid'; reason: string };

const MAX_BUTTONS = 20;

export function readRestAnswer(body: unknown): RestAnswer {
  if (!isObject(body)) return { kind: 'invalid', reason: 'response is not a JSON object' };
  if (typeof body.response === 'string' && body.success !== false) {
    return body.response === '' ? { kind: 'silent' } : { kind: 'text', text: body.response };
  }
  const inner = isObject(body.response) ? body.response : body;

  const text = optionalString(inner.text);
  if (text === undefined) return { kind: 'invalid', reason: 'response.text is not a string' };

  if (body.success === false) {
    return { kind: 'failed', text: text === '' ? null : text, error: describeError(body.error) };
  }
  if (!isObject(body.response) && !('text' in body)) return { kind: 'invalid', reason: 'neither response nor text' };

  const buttons = readButtons(inner.buttons);
  if (buttons === undefined) return { kind: 'invalid', reason: 'response.buttons is not a list of {label, url}' };
  const full = renderButtons(text, buttons);

  if (inner.type === 'image') {
    const url = optionalString(inner.url);
    const data = optionalString(inner.image_base64);
    if (data) return { kind: 'image', caption: full, base64: data, format: optionalString(inner.format) || null, ...partsOf(text, buttons, null) };
    if (url) return { kind: 'image', caption: full, url, ...partsOf(text, buttons, url) };
    return { kind: 'invalid', reason: 'image response without url or image_base64' };
  }
  return full === '' ? { kind: 'silent' } : { kind: 'text', text: full, ...partsOf(text, buttons, null) };
}

/** `{parts}` when buttons or an image URL make the answer more than its room text, else nothing. */
function partsOf(text: string, buttons: Button[], imageUrl: string | null): { parts?: AnswerParts } {
  return buttons.length > 0 || imageUrl !== null ? { parts: { text, buttons, imageUrl } } : {};
}

/** Buttons become `label: url` lines under the text (KakaoTalk has no buttons). */
export function renderButtons(text: string, buttons: Button[]): string {
  const lines = buttons.map((b) => (b.label ? `${b.label}: ${b.url}` : b.url));
  return [text, ...lines].filter((l) => l !== '').join('\n');
}

function readButtons(raw: unknown): Button[] | undefined {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) return undefined;
  const out: Button[] = [];
  for (const b of raw.slice(0, MAX_BUTTONS)) {
    if (!isObject(b)) return undefined;
    const label = optionalString(b.label);
    const url = optionalString(b.url);
    if (label === undefined || url === undefined) return undefined;
    if (url === '') continue;
    out.push({ label, url });
  }
  return out;
}

/** '' for absent/null, the string itself, numbers as text, undefined for anything else. */
function optionalString(v: unknown): string | undefined {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function describeError(err: unknown): string {
  if (err === undefined || err === null) return 'success: false';
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return 'success: false';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
