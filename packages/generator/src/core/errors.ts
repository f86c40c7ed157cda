/**
 * A failure the user can act on: `message` says what went wrong and where
 * (file, object or values path), `hint` says the way out.
 */
export class KfcError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'KfcError';
  }

  /** One human-readable block: the message, then the way out. */
  format(): string {
    return this.hint ? `${this.message}\n  -> ${this.hint}` : this.message;
  }
}

export function isKfcError(e: unknown): e is KfcError {
  return e instanceof KfcError;
}
