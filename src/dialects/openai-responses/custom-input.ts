// Streams the raw text of a custom tool call while the model's JSON input ({"input": "..."}) arrives
// in pieces: the string value is decoded as far as it is complete, so the client gets
// response.custom_tool_call_input.delta events with plain text, as from OpenAI. When the JSON has
// another shape, nothing is streamed and the whole text comes with the end (see finish()).
import { customText } from './tools.js';

const OPENING = /^\s*\{\s*"input"\s*:\s*"/;
const SIMPLE: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

export class CustomInputStream {
  private json = '';
  /** Where the string value starts in `json`, once known; -1 when the JSON has another shape. */
  private start: number | undefined;
  /** How far into `json` the value is decoded. */
  private pos = 0;
  private closed = false;
  /** The text handed out so far. */
  streamed = '';

  /** Takes the next piece of JSON; returns the newly decoded text ('' when none). */
  push(piece: string): string {
    this.json += piece;
    if (this.start === undefined) {
      const m = OPENING.exec(this.json);
      if (m) this.start = this.pos = m[0].length;
      else if (!'{"input":"'.startsWith(this.json.replace(/\s+/g, ''))) this.start = -1;
      else return '';
    }
    if (this.start < 0 || this.closed) return '';
    let out = '';
    while (this.pos < this.json.length) {
      const c = this.json[this.pos];
      if (c === '"') {
        this.closed = true;
        break;
      }
      if (c !== '\\') {
        // A raw high surrogate waits for its low half, as an escaped one does.
        if (this.pos === this.json.length - 1 && c >= '\uD800' && c < '\uDC00') break;
        out += c;
        this.pos++;
        continue;
      }
      const e = this.json[this.pos + 1];
      if (e === undefined) break; // the escape continues in the next piece
      if (e === 'u') {
        const hex = this.json.slice(this.pos + 2, this.pos + 6);
        if (hex.length < 4) break;
        const code = parseInt(hex, 16);
        // A high surrogate waits for its low half, so a delta never splits a character.
        if (code >= 0xd800 && code < 0xdc00) {
          const low = this.json.slice(this.pos + 6, this.pos + 12);
          if (low.length < 6) break;
          out += String.fromCharCode(code, parseInt(low.slice(2), 16));
          this.pos += 12;
        } else {
          out += String.fromCharCode(code);
          this.pos += 6;
        }
        continue;
      }
      out += SIMPLE[e] ?? e;
      this.pos += 2;
    }
    this.streamed += out;
    return out;
  }

  /** The whole text once the JSON is complete, and what of it was not streamed yet. */
  finish(): { text: string; rest: string } {
    const text = this.json.trim() ? customText(this.json) : '';
    const rest = text.startsWith(this.streamed) ? text.slice(this.streamed.length) : '';
    return { text, rest };
  }
}
