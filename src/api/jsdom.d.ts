// The one part of jsdom Sealbox uses (a window for DOMPurify on the server). Its own type
// package pulls the DOM library into every file's types, which clashes with Node's.
declare module 'jsdom' {
  export class JSDOM {
    constructor(html?: string);
    readonly window: unknown;
  }
}
