// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
  namespace App {
    interface Error {
      message: string;
      code?: string;
    }
  }
  interface Window {
    /** performance.now() when the code editor was mounted and editable (e2e timing, issue 5). */
    __kbEditorReady?: number;
  }
}

export {};
