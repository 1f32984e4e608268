// Types for the one file of Handlebars that src/template/parse.ts imports: its
// parser (the package's own types cover only its main entry, which would load
// the compiler and runtime too).
declare module 'handlebars/dist/cjs/handlebars/compiler/base.js' {
  const base: {
    parse(text: string): unknown;
    parser: { lexer?: { yylloc?: { first_line: number; first_column: number } } };
  };
  export default base;
}
