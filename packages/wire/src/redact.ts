/**
 * A NATS URL (or a comma-separated list of them, as nats.js accepts) fit to print: a password
 * becomes `***` (`nats://u:***@host:4222`), and so does userinfo without a colon, a token
 * (`nats://***@host:4222`). Everything else is kept; a URL without credentials is returned as is.
 */
export function redactUrl(url: string): string {
  return url
    .split(',')
    .map((part) =>
      // userinfo runs to the last '@' before the path: a raw '@' in a password stays hidden
      part.replace(/^(\s*(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/)?)([^/?#]*)@/, (_m, scheme: string, userinfo: string) => {
        const colon = userinfo.indexOf(':');
        return `${scheme}${colon >= 0 ? `${userinfo.slice(0, colon)}:***` : '***'}@`;
      }),
    )
    .join(',');
}
