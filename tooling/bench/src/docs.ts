/**
 * Replaces what lies between `<!-- name:start -->` and `<!-- name:end -->` in a Markdown page (the
 * markers stay). A page without both markers is answered unchanged: the bench then leaves it alone.
 */
export function replaceBetweenMarkers(page: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = page.indexOf(start);
  const to = page.indexOf(end, from + start.length);
  if (from < 0 || to < 0) return page;
  return `${page.slice(0, from + start.length)}\n${content}\n${page.slice(to)}`;
}
