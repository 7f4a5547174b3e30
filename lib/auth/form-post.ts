/**
 * One HTTPS POST of a form to a token endpoint (Azure AD, ACR's /oauth2/exchange), with a deadline on the
 * whole exchange and a limit on the answer's size: the trust boundaries of design.md (every wait has a
 * deadline, every body read a limit) for endpoints that are handed secrets. https only, no redirects:
 * a secret in a form goes to the URL it was meant for, verified, or nowhere.
 *
 * Node's https module, as the registry transport uses (lib/registry/transport.ts): fetch would load undici.
 */
import type { IncomingMessage } from "node:http";
import { StepFailure } from "../errors.js";

/** The default deadline of one POST, connection to last byte. */
const FORM_POST_TIMEOUT_MS = 30_000;
/** Token answers are a few kilobytes; anything this large is not one. */
const FORM_POST_MAX_BYTES = 1024 * 1024;

interface FormPostOptions {
  /** What the endpoint is, for messages: `Azure AD`, `the registry's token exchange`. */
  what: string;
  /** Deadline of the whole exchange (default FORM_POST_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Largest answer read (default FORM_POST_MAX_BYTES). */
  maxBytes?: number;
  /** CAs to trust instead of Node's (which NODE_EXTRA_CA_CERTS extends). */
  ca?: string[];
  /** Verify the server's certificate (default true). */
  verify?: boolean;
  /** What to do when the server's certificate is not trusted: which setting gives its CA. */
  tlsHint?: string;
}

export interface FormPostAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** `POST url` with `form` (application/x-www-form-urlencoded); resolves to any HTTP answer, rejects with StepFailure. */
export function postForm(url: URL, form: URLSearchParams, options: FormPostOptions): Promise<FormPostAnswer> {
  const endpoint = `POST ${url.origin}${url.pathname}`;
  if (url.protocol !== "https:") {
    return Promise.reject(
      new StepFailure(`${options.what} (${endpoint}) is not https: refusing to send credentials`),
    );
  }
  const timeoutMs = options.timeoutMs ?? FORM_POST_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? FORM_POST_MAX_BYTES;
  const body = Buffer.from(form.toString(), "utf8");
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outgoing.destroy();
      reject(new StepFailure(`${options.what} (${endpoint}): ${message}`));
    };
    const outgoing = process.getBuiltinModule("node:https").request(
      url,
      {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "content-length": String(body.length),
          accept: "application/json",
          "user-agent": "buildx-step",
        },
        // A fresh connection: no agent keeps a socket to a token endpoint alive past this one answer.
        agent: false,
        ...(options.ca ? { ca: options.ca } : {}),
        rejectUnauthorized: options.verify ?? true,
      },
      (response: IncomingMessage) => {
        const declared = Number(response.headers["content-length"] ?? Number.NaN);
        if (declared > maxBytes) {
          fail(`the answer is ${declared} bytes, more than the ${maxBytes} a token answer may be`);
          return;
        }
        const parts: Buffer[] = [];
        let size = 0;
        response.on("data", (part: Buffer) => {
          size += part.length;
          if (size > maxBytes) {
            fail(`the answer is more than the ${maxBytes} bytes a token answer may be`);
            return;
          }
          parts.push(part);
        });
        response.on("error", (error) => fail(`the answer broke off (${(error as Error).message})`));
        response.on("end", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers["content-type"] ?? ""),
            body: Buffer.concat(parts).toString("utf8"),
          });
        });
      },
    );
    const timer = setTimeout(
      () => fail(`no complete answer within ${Number((timeoutMs / 1000).toFixed(1))} s`),
      timeoutMs,
    );
    outgoing.on("error", (error: NodeJS.ErrnoException) => {
      const code = error.code ? `${error.code}: ` : "";
      const untrusted = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(error.code ?? "");
      const hint = untrusted && options.tlsHint ? `; ${options.tlsHint}` : "";
      fail(`could not be reached (${code}${error.message})${hint}`);
    });
    outgoing.end(body);
  });
}

/** The JSON object of an answer, or undefined when the body is not one. */
export function jsonObjectOf(answer: FormPostAnswer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(answer.body);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
