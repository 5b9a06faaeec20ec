import RE2 from 're2';
import { describe, expect, it } from 'vitest';
import { checkCode, checkPattern, normaliseCommandWords } from '../command-rules.js';
import { TEMPLATES, templateById, templateView } from './catalog.js';

const HANGUL = /[가-힣]/;

/** What the dispatcher hands the code for a room text (command-resolver.ts): the pattern's groups ('' when unmatched), else the words after the command. */
function parametersFor(pattern: string | null, command: string, text: string): string[] | null {
  if (pattern === null) return text.split(/\s+/u).filter(Boolean).slice(command.split(' ').length);
  const m = new RE2(pattern, 'u').exec(text);
  return m ? m.slice(1).map((g) => g ?? '') : null;
}

describe('template catalog', () => {
  it('has at least the six kinds the issue asks for, each id once', () => {
    const ids = TEMPLATES.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['weather', 'exchange-rate', 'order-lookup', 'stock-check', 'news-headlines', 'countdown-timer']));
    expect(TEMPLATES.length).toBeGreaterThanOrEqual(6);
  });

  it.each(TEMPLATES.map((t) => [t.id, t] as const))('%s: every field filled, in Korean, savable as a command', (_id, t) => {
    expect(t.id).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
    expect(t.name).toMatch(HANGUL);
    expect(t.description).toMatch(HANGUL);
    expect(t.expect.length).toBeGreaterThan(0);
    expect(typeof t.liveOutput).toBe('boolean');
    // What POST /commands would accept unchanged.
    expect(normaliseCommandWords(t.command)).toBe(t.command);
    expect(checkPattern(t.pattern)).toBe(t.pattern);
    expect(() => checkCode(t.code)).not.toThrow();
  });

  it.each(TEMPLATES.map((t) => [t.id, t] as const))('%s: the test input is what the room text would give', (_id, t) => {
    expect(t.testInput.command).toBe(t.command);
    expect(t.testInput.raw_text.startsWith(t.command)).toBe(true);
    expect(parametersFor(t.pattern, t.command, t.testInput.raw_text)).toEqual(t.testInput.parameters);
    // The bare command matches too (the code then answers with a default or a hint).
    expect(parametersFor(t.pattern, t.command, t.command)).not.toBeNull();
  });

  it.each(TEMPLATES.map((t) => [t.id, t] as const))('%s: the code is a handler, offline by default', (_id, t) => {
    expect(t.code).toMatch(/^def handle_command\(params\):$/m);
    expect(t.code).not.toContain('\t');
    // Templates that would call an API keep sample data and the live call behind a flag that starts off.
    if (/\bimport requests\b/.test(t.code)) {
      expect(t.code).toMatch(/^USE_LIVE_API = False$/m);
      expect(t.code).toMatch(/^SAMPLE_[A-Z_]+ = /m);
      expect(t.code).toContain('os.environ.get(');
    }
  });

  it("answers `날씨 화도읍` through the weather template's pattern", () => {
    const weather = templateById('weather')!;
    expect(weather.command).toBe('날씨');
    expect(parametersFor(weather.pattern, weather.command, '날씨 화도읍')).toEqual(['화도읍']);
    expect(weather.testInput.parameters).toEqual(['화도읍']);
  });

  it('streams output from the timer only, and keeps the expectation out of the view', () => {
    expect(TEMPLATES.filter((t) => t.liveOutput).map((t) => t.id)).toEqual(['countdown-timer']);
    expect(templateById('countdown-timer')!.code).toContain('flush=True');
    const view = templateView(templateById('weather')!);
    expect(view).not.toHaveProperty('expect');
    expect(Object.keys(view).sort()).toEqual(['code', 'command', 'description', 'id', 'liveOutput', 'name', 'pattern', 'testInput']);
    expect(templateById('nope')).toBeUndefined();
  });
});
