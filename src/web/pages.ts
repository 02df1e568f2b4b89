// The few pages a member sees in their browser during Sign in with Roblox. Plain HTML, no scripts.

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function page(title: string, paragraphs: string[], form?: { action: string; fields: Record<string, string>; buttons: { name: string; value: string; label: string }[] }): string {
  const body = paragraphs.map((p) => `<p>${escape(p)}</p>`).join('\n');
  const formHtml = form
    ? `<form method="post" action="${escape(form.action)}">${Object.entries(form.fields)
        .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
        .join('')}${form.buttons.map((b) => `<button type="submit" name="${escape(b.name)}" value="${escape(b.value)}">${escape(b.label)}</button>`).join(' ')}</form>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · gatepass</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}button{font:inherit;padding:.5rem 1rem;margin-right:.5rem;cursor:pointer}</style>
</head><body><h1>${escape(title)}</h1>
${body}
${formHtml}
</body></html>`;
}
