/**
 * A NATS URL (or a comma-separated list of them, as nats.js accepts) fit to print: a password
 * becomes `***` (`nats://u:***@host:4222`), and so does userinfo without a colon, a token
 * (`nats://***@host:4222`). Everything else is kept; a URL without credentials is returned as is.
 */
export function redactUrl(url: string): string {
  return mapUserinfo(url, (userinfo) => {
    const colon = userinfo.indexOf(':');
    return `${colon >= 0 ? `${userinfo.slice(0, colon)}:***` : '***'}@`;
  });
}

/** The URL (or list) with no credentials at all (`nats://u:p@host:4222` -> `nats://host:4222`): what a host that brings its own user may be told. */
export function withoutCredentials(url: string): string {
  return mapUserinfo(url, () => '');
}

/** The user and password of a single NATS URL (`nats://u:p@host:4222`), decoded; undefined without them (or for a list or a token). */
export function urlCredentials(url: string): { user: string; password: string } | undefined {
  try {
    const u = new URL(url);
    return u.username && u.password ? { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } : undefined;
  } catch {
    return undefined;
  }
}

/** A host as a URL writes it: an IPv6 address in brackets (nats-server's `-a` and listen() take it bare). */
export function hostInUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Each URL of a comma-separated list with its userinfo (and the '@') replaced by `f(userinfo)`. */
function mapUserinfo(url: string, f: (userinfo: string) => string): string {
  return url
    .split(',')
    .map((part) =>
      // userinfo runs to the last '@' before the path: a raw '@' in a password stays hidden
      part.replace(/^(\s*(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/)?)([^/?#]*)@/, (_m, scheme: string, userinfo: string) => `${scheme}${f(userinfo)}`),
    )
    .join(',');
}
