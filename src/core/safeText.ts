/**
 * Characters that change how text is shown rather than what it says: bidi
 * controls (U+202A–U+202E, U+2066–U+2069, the marks U+200E, U+200F, U+061C)
 * can make a run called "‮gnp.exe" read as "exe.png". They are shown as
 * visible escapes wherever run-provided text is shown: in a terminal, the
 * tree, the panels and the snapshot commit message.
 */
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

/** Run-provided text with its bidi controls made visible as `\u202e`; other characters untouched. */
export function visibleBidi(text: string): string {
  return text.replace(BIDI, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Run-provided text for a terminal: control characters shown as \xNN and bidi controls as \uNNNN, never executed or obeyed. */
export function safeText(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  // eslint-disable-next-line no-control-regex
  return visibleBidi(text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => (ch === '\t' ? ' ' : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)));
}
