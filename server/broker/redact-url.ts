/** A broker or database URL fit for logs and answers: `mqtt://user:pass@host` becomes `mqtt://***@host`. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/]*@/, '//***@');
}
