// Reading a scripted upstream's script from a Messages request: the [[markers]] of the user text that
// set it (fake-upstream.ts lists them), the rounds of tool results since, and the gateway's flattened
// <conversation_record> of a rebuilt history.

export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((b: any) => {
      if (b?.type === 'text') return b.text as string;
      if (b?.type === 'tool_result') return textOf(b.content);
      return '';
    })
    .join('\n');
}

/** The text of the last user message that is not a pure system reminder. */
export function lastUserText(messages: any[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role !== 'user') continue;
    const t = textOf(m.content);
    if (t.includes('[[') || i === 0) return t;
    if (Array.isArray(m.content) && m.content.some((b: any) => b.type === 'tool_result')) return t;
  }
  return messages.map((m) => textOf(m.content)).join('\n');
}

/** The gateway's rebuilt history record in a prompt: its user texts, and the tool results it ends with. */
export function recordOf(text: string): { userText: string; rounds: number; lastResults?: string[] } | undefined {
  const m = /<conversation_record>\n(.*)\n<\/conversation_record>/s.exec(text);
  if (!m) return undefined;
  let entries: any[];
  try {
    entries = JSON.parse(m[1]);
  } catch {
    return undefined;
  }
  const resultsOf = (e: any): string[] => (e?.content ?? []).filter((c: any) => c?.tool_result).map((c: any) => String(c.tool_result.content));
  const last = entries[entries.length - 1];
  const userText = entries
    .filter((e) => e.role === 'user')
    .flatMap((e) => e.content.filter((c: unknown) => typeof c === 'string'))
    .join('\n');
  const rounds = entries.filter((e) => e.role === 'user' && resultsOf(e).length).length;
  return { userText, rounds, lastResults: last?.role === 'user' && resultsOf(last).length ? resultsOf(last) : undefined };
}

/** How many rounds of tool results came back after the last user message that set the script. */
export function roundsSinceScript(messages: any[]): number {
  let n = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role !== 'user' || !Array.isArray(m.content)) continue;
    if (m.content.some((b: any) => b?.type === 'text' && b.text.includes('[['))) return n;
    if (m.content.some((b: any) => b?.type === 'tool_result')) n++;
  }
  return n;
}

/** The text of the last user message with markers, tool results left out (the prompt that set the script). */
export function scriptText(messages: any[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role !== 'user') continue;
    const t = typeof m.content === 'string' ? m.content : (Array.isArray(m.content) ? m.content : []).filter((b: any) => b?.type === 'text').map((b: any) => b.text).join('\n');
    if (t.includes('[[')) return t;
  }
  return '';
}

export function allMarkers(text: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`\\[\\[${name}(?::((?:(?!\\]\\]).)*))?\\]\\]`, 'gs');
  for (const m of text.matchAll(re)) out.push(m[1] ?? '');
  return out;
}
export function marker(text: string, name: string): string | undefined {
  const all = allMarkers(text, name);
  return all.length ? all[all.length - 1] : undefined;
}
