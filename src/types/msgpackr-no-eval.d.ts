// Types for msgpackr's no-eval build (DESIGN §6, security.md top-10 #8): the package ships the
// build as a bare CommonJS subpath export without declarations; its API is the main build's.
declare module 'msgpackr/index-no-eval' {
  export { Packr, Unpackr } from 'msgpackr';
}
