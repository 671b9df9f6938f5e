// A mistake in the server's set-up that a person fixes before it can start: its message is one
// line that names the setting and what to do, printed without a stack trace.
export class SetupError extends Error {
  override readonly name = 'SetupError';
}
