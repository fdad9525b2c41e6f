// Prettier formats the TypeScript and JavaScript (and JSON); clang-format does the C++ (`npm run format`).
// `npm run format:ts` writes, `npm run lint` checks. The options keep the code's existing style: single
// quotes, trailing commas wherever a list spans lines, and 130 columns (the code's long lines are
// table-like rows and messages that read better whole).
export default {
  printWidth: 130,
  singleQuote: true,
  trailingComma: 'all',
  arrowParens: 'always',
  endOfLine: 'lf',
};
