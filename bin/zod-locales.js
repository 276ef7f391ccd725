// zod re-exports its translations of error messages (64 modules, `z.locales`) from every entry
// point, whatever is used; Sealbox uses none of them (its messages are zod's English, which zod
// imports apart). Loading them took ~20 ms of a `sealbox search`. So the commands resolve that one
// re-export, made by zod's own files only, to an empty module: `z.locales` is empty in them, and
// everything else in zod is as published.
import nodeModule from 'node:module';

const ZOD_FILE = /\/node_modules\/zod\/v4\/(core|classic|mini)\/[\w-]+\.js$/;

export function skipZodLocales() {
  nodeModule.registerHooks?.({
    resolve(specifier, context, next) {
      if (specifier === '../locales/index.js' && ZOD_FILE.test(context.parentURL ?? '')) {
        return { url: 'data:text/javascript,', format: 'module', shortCircuit: true };
      }
      return next(specifier, context);
    },
  });
}
