/**
 * Text that came from a server (an error message, an in-band error, the quoted start of a body), made
 * safe to show on one line of a terminal, a log or a report: line breaks are folded into a visible
 * "\n" (so a message cannot fake a second line or a traceback), and every other control character,
 * C1 control and bidirectional override is escaped, so no ANSI or OSC sequence reaches the terminal
 * (ECMA-48; Unicode UAX #9 for the overrides). Records keep the text as it came, JSON-escaped.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE = /\r\n|[\r\n]|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escaped(c: string): string {
  if (c === "\r\n" || c === "\n" || c === "\r") return "\\n";
  const code = c.codePointAt(0) ?? 0;
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

export function shownText(text: string): string {
  return text.replace(/\t/g, " ").replace(UNSAFE, escaped);
}
