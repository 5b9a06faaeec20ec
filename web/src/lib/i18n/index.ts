/**
 * The UI's words: Korean first (the tenants are Korean shop owners),
 * English as an option (`localStorage['kb-lang'] = 'en'`, the switch in the
 * nav). A missing English word falls back to Korean.
 */
import { en } from './en';
import { ko, type Key } from './ko';

export type { Key };

export type Lang = 'ko' | 'en';

export function currentLang(): Lang {
  if (typeof localStorage === 'undefined') return 'ko';
  return localStorage.getItem('kb-lang') === 'en' ? 'en' : 'ko';
}

export function setLang(lang: Lang): void {
  localStorage.setItem('kb-lang', lang);
}

export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const text = (currentLang() === 'en' ? en[key] : undefined) ?? ko[key];
  return text.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? `{${k}}`));
}
