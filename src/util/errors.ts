// Base class for every error this project throws on purpose. Each layer subclasses it with its
// own code set, so callers can tell a rejected input from a bug (a bare Error/TypeError).
export class IbakedError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}
