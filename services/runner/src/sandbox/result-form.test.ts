import { describe, expect, it } from 'vitest';
import { notNormalForm } from './run-outcome.js';

describe('notNormalForm: only results the runtime produces pass (a forged frame cannot carry more)', () => {
  it('accepts the normal forms', () => {
    expect(notNormalForm({ type: 'text', text: 'hi' })).toBeNull();
    expect(notNormalForm({ type: 'text', text: 'hi', buttons: [{ label: 'a', url: 'https://e.example/' }] })).toBeNull();
    expect(notNormalForm({ type: 'image', text: '', image_base64: 'AAAA', format: 'png' })).toBeNull();
  });

  it('refuses what normalising would not give', () => {
    expect(notNormalForm({ type: 'text', text: 'x'.repeat(64 * 1024 + 1) })).toBe('text');
    expect(notNormalForm({ type: 'text', text: 'hi', evil: 1 })).toMatch(/unknown key/);
    expect(notNormalForm({ type: 'html', text: 'hi' })).toBe('type');
    expect(notNormalForm({ type: 'text', text: 'hi', buttons: [] })).toBe('buttons');
    expect(notNormalForm({ type: 'text', text: 'hi', buttons: Array(21).fill({ label: 'a', url: 'u' }) })).toBe('buttons');
    expect(notNormalForm({ type: 'text', text: 'hi', buttons: [{ label: 'a', url: 'u', onclick: 'x' }] })).toBe('buttons');
    expect(notNormalForm({ type: 'text', text: 1 })).toBe('text');
  });
});
