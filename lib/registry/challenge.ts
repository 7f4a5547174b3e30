/**
 * The registry's auth challenge: the `WWW-Authenticate` header of a 401 (RFC 7235), as the distribution
 * token spec uses it: https://distribution.github.io/distribution/spec/auth/token/
 */
export type Challenge =
  | { scheme: "none" }
  | { scheme: "basic"; realm?: string }
  | { scheme: "bearer"; realm: string; service?: string; scope?: string; error?: string };

/** Parses `auth-param`s (`key=token` or `key="quoted \"string\""`) separated by commas. */
function parseParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  let i = 0;
  const skipSpaceAndCommas = () => {
    while (i < text.length && /[\s,]/.test(text[i] ?? "")) i++;
  };
  skipSpaceAndCommas();
  while (i < text.length) {
    const keyMatch = /^([!#$%&'*+.^_`|~\w-]+)\s*=\s*/.exec(text.slice(i));
    if (!keyMatch?.[1]) break;
    const key = keyMatch[1].toLowerCase();
    i += keyMatch[0].length;
    let value = "";
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      i++; // closing quote
    } else {
      const token = /^[^\s,]*/.exec(text.slice(i))?.[0] ?? "";
      value = token;
      i += token.length;
    }
    params[key] = value;
    skipSpaceAndCommas();
  }
  return params;
}

/**
 * The challenge in a `WWW-Authenticate` value. Bearer wins over Basic when a registry offers both;
 * a header this client cannot use is `none` (requests then go without credentials).
 */
export function parseChallenge(header: string | string[] | undefined): Challenge {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  let basic: Challenge | undefined;
  for (const value of values) {
    const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(value);
    if (!match?.[1]) continue;
    const scheme = match[1].toLowerCase();
    const params = parseParams(match[2] ?? "");
    if (scheme === "bearer" && params.realm) {
      return {
        scheme: "bearer",
        realm: params.realm,
        service: params.service,
        scope: params.scope,
        error: params.error,
      };
    }
    if (scheme === "basic") basic = { scheme: "basic", realm: params.realm };
  }
  return basic ?? { scheme: "none" };
}
