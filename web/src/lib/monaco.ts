import type * as Monaco from 'monaco-editor/editor/editor.api';

export type MonacoApi = typeof Monaco;

let loading: Promise<MonacoApi> | null = null;

/**
 * Monaco, loaded once and only when an editor mounts (STYLE.md): the core
 * API, the Python tokenizer and the editor worker as a `?worker` import
 * (Vite bundles it as its own chunk). Not the `monaco-editor` index, which
 * pulls in every language and the TypeScript/JSON/CSS/HTML services.
 */
export function loadMonaco(): Promise<MonacoApi> {
  loading ??= (async () => {
    const [{ default: EditorWorker }, monaco] = await Promise.all([
      import('monaco-editor/editor/editor.worker?worker'),
      import('monaco-editor/editor/editor.api'),
      import('monaco-editor/languages/definitions/python/register'),
    ]);
    self.MonacoEnvironment = { getWorker: () => new EditorWorker() };
    return monaco;
  })();
  return loading;
}
