/**
 * Amazon ECR's and STS's control planes, on loopback, speaking their real wire protocols so the real AWS SDK
 * talks to them (through `AWS_ENDPOINT_URL_ECR` / `AWS_ENDPOINT_URL_STS`):
 * - ECR: JSON 1.1, `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Action>`, errors as `__type`;
 *   ECR Public (`SpencerFrontendService.<Action>`, GetAuthorizationToken only) on the same server;
 * - STS: the query protocol, form-encoded `Action=...`, XML answers and `<ErrorResponse>` errors.
 * Requests must carry a valid Signature Version 4 from a key the fake knows (except
 * AssumeRoleWithWebIdentity, which AWS takes unsigned), so a wrong secret or an expired session fails as it
 * would at AWS. Every request is recorded: action, parameters, and the access key that signed it.
 *
 * GetAuthorizationToken answers base64("AWS:<password>") where the password is a real login of a real
 * registry (startRegistry with htpasswd), so the token logs in for real.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export const ACCOUNT_ID = "123456789012";

export interface FakeAwsKey {
  secretAccessKey: string;
  sessionToken?: string;
  /** Who the key belongs to: a user or an assumed role's ARN. */
  principal: string;
  /** The session has expired (ExpiredTokenException). */
  expired?: boolean;
}

export interface FakeRole {
  /** AssumeRole must carry this ExternalId. */
  externalId?: string;
}

export interface FakeAwsOptions {
  /** The registry the ECR token logs in to: its URL (the proxyEndpoint) and a real login. */
  registry: { url: string; username: string; password: string };
  /** Long-term keys (access key id -> secret), e.g. the keys a test passes as PLUGIN_ACCESS_KEY. */
  users?: Record<string, string>;
  /** Roles that can be assumed, by ARN. */
  roles?: Record<string, FakeRole>;
  /** OIDC tokens AssumeRoleWithWebIdentity accepts. */
  webIdentityTokens?: string[];
  /** Repositories that exist already. */
  repositories?: string[];
  /** The role of the "instance" whose keys the metadata service hands out. */
  instanceRole?: string;
}

export interface AwsRequestRecord {
  service: "ecr" | "ecr-public" | "sts" | "imds";
  action: string;
  params: Record<string, unknown>;
  /** The access key id in the request's signature; undefined when unsigned. */
  accessKeyId?: string;
  /** The region in the signature's scope. */
  region?: string;
  /** What the fake answered: "ok" or the error code. */
  outcome: string;
}

export interface FakeRepository {
  name: string;
  scanOnPush: boolean;
  lifecyclePolicyText?: string;
  policyText?: string;
}

export interface FakeAws {
  ecrUrl: string;
  stsUrl: string;
  /** The EC2 instance metadata service (IMDSv2), answering with keys of `instanceRole`. */
  imdsUrl: string;
  /** Environment that points the AWS SDK at the fakes. */
  env: Record<string, string>;
  requests: AwsRequestRecord[];
  /** Requests of one action. */
  calls(action: string): AwsRequestRecord[];
  repositories: Map<string, FakeRepository>;
  /** Every key the fake knows, by access key id (issued ones included). */
  keys: Map<string, FakeAwsKey>;
  /** ECR actions refused to every caller with AccessDeniedException (a policy that does not allow them). */
  deny: Set<string>;
  /** Adds a temporary key, e.g. an expired session for the default chain's environment. */
  addKey(accessKeyId: string, key: FakeAwsKey): void;
  stop(): Promise<void>;
}

class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Checks a request's Signature Version 4
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). Returns the signer's key id.
 */
function verifySignature(
  request: IncomingMessage,
  body: Buffer,
  keys: Map<string, FakeAwsKey>,
  service: string,
): { accessKeyId: string; region: string } {
  const authorization = request.headers.authorization ?? "";
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!match) throw new AwsError("MissingAuthenticationTokenException", "Missing Authentication Token", 403);
  const [, accessKeyId = "", date = "", region = "", signedService = "", signedHeaders = "", signature = ""] =
    match;
  const key = keys.get(accessKeyId);
  if (!key) {
    throw new AwsError(
      service === "sts" ? "InvalidClientTokenId" : "UnrecognizedClientException",
      "The security token included in the request is invalid.",
      403,
    );
  }
  if (key.sessionToken !== undefined && request.headers["x-amz-security-token"] !== key.sessionToken) {
    throw new AwsError(
      service === "sts" ? "InvalidClientTokenId" : "UnrecognizedClientException",
      "The security token included in the request is invalid.",
      403,
    );
  }
  if (key.expired)
    throw new AwsError("ExpiredTokenException", "The security token included in the request is expired", 403);
  const url = new URL(request.url ?? "/", "http://fake");
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .sort()
    .join("&");
  const headerNames = signedHeaders.split(";");
  const canonicalHeaders = headerNames
    .map((name) => {
      const value = request.headers[name];
      const text = Array.isArray(value) ? value.join(",") : (value ?? "");
      return `${name}:${text.trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
  const payloadHash = (request.headers["x-amz-content-sha256"] as string | undefined) ?? sha256(body);
  const canonicalPath = url.pathname
    .split("/")
    .map((segment) => encode(encode(decodeURIComponent(segment))))
    .join("/");
  const canonicalRequest = [
    request.method,
    canonicalPath,
    query,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join("\n");
  const amzDate = String(request.headers["x-amz-date"] ?? "");
  const scope = `${date}/${region}/${signedService}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  let signingKey = hmac(`AWS4${key.secretAccessKey}`, date);
  for (const part of [region, signedService, "aws4_request"]) signingKey = hmac(signingKey, part);
  const expected = createHmac("sha256", signingKey).update(stringToSign).digest();
  const given = Buffer.from(signature, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AwsError(
      service === "sts" ? "SignatureDoesNotMatch" : "InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
      403,
    );
  }
  return { accessKeyId, region };
}

/** The access key id a request claims to be signed with, valid or not. */
function signingKeyId(request: IncomingMessage): string | undefined {
  return /Credential=([^/]+)\//.exec(request.headers.authorization ?? "")?.[1];
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(`http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`);
    });
  });
}

function xmlEscape(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Starts the fakes. Stop them when done. */
export async function startFakeAws(options: FakeAwsOptions): Promise<FakeAws> {
  const keys = new Map<string, FakeAwsKey>();
  for (const [id, secret] of Object.entries(options.users ?? {})) {
    keys.set(id, { secretAccessKey: secret, principal: `arn:aws:iam::${ACCOUNT_ID}:user/${id}` });
  }
  const repositories = new Map<string, FakeRepository>();
  for (const name of options.repositories ?? []) repositories.set(name, { name, scanOnPush: false });
  const requests: AwsRequestRecord[] = [];
  const deny = new Set<string>();

  const issueKeys = (principal: string) => {
    const accessKeyId = `ASIA${randomBytes(8).toString("hex").toUpperCase()}`;
    const key: FakeAwsKey = {
      secretAccessKey: randomBytes(20).toString("base64"),
      sessionToken: randomBytes(32).toString("base64"),
      principal,
    };
    keys.set(accessKeyId, key);
    return { accessKeyId, ...key };
  };

  const ecrAction = (action: string, params: Record<string, unknown>): unknown => {
    const repositoryName = String(params.repositoryName ?? "");
    const repository = repositories.get(repositoryName);
    const notFound = () =>
      new AwsError(
        "RepositoryNotFoundException",
        `The repository with name '${repositoryName}' does not exist in the registry with id '${ACCOUNT_ID}'`,
      );
    const describe = (r: FakeRepository) => ({
      repositoryName: r.name,
      repositoryArn: `arn:aws:ecr:us-east-1:${ACCOUNT_ID}:repository/${r.name}`,
      registryId: ACCOUNT_ID,
      repositoryUri: `${new URL(options.registry.url).host}/${r.name}`,
      imageScanningConfiguration: { scanOnPush: r.scanOnPush },
    });
    switch (action) {
      case "GetAuthorizationToken": {
        const token = Buffer.from(`${options.registry.username}:${options.registry.password}`).toString(
          "base64",
        );
        return {
          authorizationData: [
            {
              authorizationToken: token,
              expiresAt: Date.now() / 1000 + 12 * 3600,
              proxyEndpoint: options.registry.url,
            },
          ],
        };
      }
      case "DescribeRepositories": {
        const names = (params.repositoryNames as string[] | undefined) ?? [...repositories.keys()];
        const found = names.map((name) => repositories.get(name));
        if (found.some((r) => !r)) {
          throw new AwsError(
            "RepositoryNotFoundException",
            `The repository with name '${names.find((n) => !repositories.has(n))}' does not exist in the registry with id '${ACCOUNT_ID}'`,
          );
        }
        return { repositories: found.map((r) => describe(r as FakeRepository)) };
      }
      case "CreateRepository": {
        if (repository) {
          throw new AwsError(
            "RepositoryAlreadyExistsException",
            `The repository with name '${repositoryName}' already exists in the registry with id '${ACCOUNT_ID}'`,
          );
        }
        const scanning = params.imageScanningConfiguration as { scanOnPush?: boolean } | undefined;
        const created = { name: repositoryName, scanOnPush: Boolean(scanning?.scanOnPush) };
        repositories.set(repositoryName, created);
        return { repository: describe(created) };
      }
      case "PutImageScanningConfiguration": {
        if (!repository) throw notFound();
        repository.scanOnPush = Boolean(
          (params.imageScanningConfiguration as { scanOnPush?: boolean })?.scanOnPush,
        );
        return {
          registryId: ACCOUNT_ID,
          repositoryName,
          imageScanningConfiguration: { scanOnPush: repository.scanOnPush },
        };
      }
      case "PutLifecyclePolicy": {
        if (!repository) throw notFound();
        repository.lifecyclePolicyText = String(params.lifecyclePolicyText);
        return {
          registryId: ACCOUNT_ID,
          repositoryName,
          lifecyclePolicyText: repository.lifecyclePolicyText,
        };
      }
      case "SetRepositoryPolicy": {
        if (!repository) throw notFound();
        repository.policyText = String(params.policyText);
        return { registryId: ACCOUNT_ID, repositoryName, policyText: repository.policyText };
      }
      default:
        throw new AwsError("UnknownOperationException", `the fake does not implement ${action}`);
    }
  };

  const ecrPublicAction = (action: string): unknown => {
    if (action !== "GetAuthorizationToken") {
      throw new AwsError("UnknownOperationException", `the fake does not implement ECR Public ${action}`);
    }
    const token = Buffer.from(`${options.registry.username}:${options.registry.password}`).toString("base64");
    return { authorizationData: { authorizationToken: token, expiresAt: Date.now() / 1000 + 12 * 3600 } };
  };

  const ecr = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readBody(request);
    const target = String(request.headers["x-amz-target"] ?? "");
    const isPublic = target.startsWith("SpencerFrontendService.");
    const action = target.replace(/^(AmazonEC2ContainerRegistry_V20150921|SpencerFrontendService)\./, "");
    const record: AwsRequestRecord = {
      service: isPublic ? "ecr-public" : "ecr",
      action,
      params: {},
      outcome: "ok",
    };
    requests.push(record);
    try {
      record.params = body.length > 0 ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>) : {};
      record.accessKeyId = signingKeyId(request);
      const signer = verifySignature(request, body, keys, "ecr");
      record.accessKeyId = signer.accessKeyId;
      record.region = signer.region;
      if (deny.has(action)) {
        throw new AwsError(
          "AccessDeniedException",
          `User: ${keys.get(signer.accessKeyId)?.principal} is not authorized to perform: ecr:${action} on resource: arn:aws:ecr:${signer.region}:${ACCOUNT_ID}:repository/${String(record.params.repositoryName ?? "*")} because no identity-based policy allows the ecr:${action} action`,
        );
      }
      const answer = isPublic ? ecrPublicAction(action) : ecrAction(action, record.params);
      response.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      response.end(JSON.stringify(answer));
    } catch (error) {
      const e = error instanceof AwsError ? error : new AwsError("ServerException", String(error), 500);
      record.outcome = e.code;
      response.writeHead(e.status, {
        "content-type": "application/x-amz-json-1.1",
        "x-amzn-errortype": e.code,
      });
      response.end(JSON.stringify({ __type: e.code, message: e.message }));
    }
  });

  const stsAction = (action: string, params: Record<string, string>, signer?: string): string => {
    const roleArn = params.RoleArn ?? "";
    const role = options.roles?.[roleArn];
    const credentialsXml = (principal: string) => {
      const issued = issueKeys(principal);
      const expiration = new Date(Date.now() + 3600_000).toISOString();
      return `<Credentials><AccessKeyId>${issued.accessKeyId}</AccessKeyId><SecretAccessKey>${xmlEscape(issued.secretAccessKey)}</SecretAccessKey><SessionToken>${xmlEscape(issued.sessionToken ?? "")}</SessionToken><Expiration>${expiration}</Expiration></Credentials>`;
    };
    const roleUser = `<AssumedRoleUser><AssumedRoleId>AROAFAKE:${xmlEscape(params.RoleSessionName ?? "")}</AssumedRoleId><Arn>${xmlEscape(roleArn)}/${xmlEscape(params.RoleSessionName ?? "")}</Arn></AssumedRoleUser>`;
    switch (action) {
      case "AssumeRole": {
        const caller = signer ? keys.get(signer)?.principal : undefined;
        if (!role || (role.externalId !== undefined && params.ExternalId !== role.externalId)) {
          throw new AwsError(
            "AccessDenied",
            `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
            403,
          );
        }
        return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>${credentialsXml(roleArn)}${roleUser}</AssumeRoleResult><ResponseMetadata><RequestId>${randomBytes(8).toString("hex")}</RequestId></ResponseMetadata></AssumeRoleResponse>`;
      }
      case "AssumeRoleWithWebIdentity": {
        if (!(options.webIdentityTokens ?? []).includes(params.WebIdentityToken ?? "")) {
          throw new AwsError(
            "InvalidIdentityToken",
            "Couldn't retrieve verification key from your identity provider",
            400,
          );
        }
        if (!role) {
          throw new AwsError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403);
        }
        return `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>${credentialsXml(roleArn)}${roleUser}<SubjectFromWebIdentityToken>ci</SubjectFromWebIdentityToken><Provider>fake-oidc</Provider><Audience>sts.amazonaws.com</Audience></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>${randomBytes(8).toString("hex")}</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`;
      }
      case "GetCallerIdentity": {
        const principal = signer ? keys.get(signer)?.principal : "";
        return `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${xmlEscape(principal ?? "")}</Arn><UserId>FAKE</UserId><Account>${ACCOUNT_ID}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
      }
      default:
        throw new AwsError("InvalidAction", `Could not find operation ${action}`, 400);
    }
  };

  const sts = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readBody(request);
    const params = Object.fromEntries(new URLSearchParams(body.toString("utf8")));
    const action = params.Action ?? "";
    const record: AwsRequestRecord = { service: "sts", action, params, outcome: "ok" };
    requests.push(record);
    try {
      let signer: string | undefined;
      record.accessKeyId = signingKeyId(request);
      if (action !== "AssumeRoleWithWebIdentity" || request.headers.authorization) {
        const verified = verifySignature(request, body, keys, "sts");
        signer = verified.accessKeyId;
        record.accessKeyId = signer;
        record.region = verified.region;
      }
      const xml = stsAction(action, params, signer);
      response.writeHead(200, { "content-type": "text/xml" });
      response.end(xml);
    } catch (error) {
      const e = error instanceof AwsError ? error : new AwsError("InternalFailure", String(error), 500);
      record.outcome = e.code;
      response.writeHead(e.status, { "content-type": "text/xml" });
      response.end(
        `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${e.code}</Code><Message>${xmlEscape(e.message)}</Message></Error><RequestId>${randomBytes(8).toString("hex")}</RequestId></ErrorResponse>`,
      );
    }
  });

  // IMDSv2 (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html): a session
  // token from PUT /latest/api/token, then the role's name and its temporary keys.
  const imdsToken = randomBytes(16).toString("hex");
  const instanceRole = options.instanceRole ?? `arn:aws:iam::${ACCOUNT_ID}:role/instance`;
  const roleName = instanceRole.split("/").pop() ?? "instance";
  const imds = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = request.url ?? "/";
    const record: AwsRequestRecord = {
      service: "imds",
      action: `${request.method} ${path}`,
      params: {},
      outcome: "ok",
    };
    requests.push(record);
    if (request.method === "PUT" && path === "/latest/api/token") {
      response.writeHead(200, { "content-type": "text/plain" });
      return response.end(imdsToken);
    }
    if (request.headers["x-aws-ec2-metadata-token"] !== imdsToken) {
      record.outcome = "Unauthorized";
      response.writeHead(401);
      return response.end();
    }
    const base = "/latest/meta-data/iam/security-credentials/";
    if (path === base) {
      response.writeHead(200, { "content-type": "text/plain" });
      return response.end(roleName);
    }
    if (path === `${base}${roleName}`) {
      const issued = issueKeys(instanceRole);
      response.writeHead(200, { "content-type": "application/json" });
      return response.end(
        JSON.stringify({
          Code: "Success",
          Type: "AWS-HMAC",
          AccessKeyId: issued.accessKeyId,
          SecretAccessKey: issued.secretAccessKey,
          Token: issued.sessionToken,
          Expiration: new Date(Date.now() + 3600_000).toISOString(),
          LastUpdated: new Date().toISOString(),
        }),
      );
    }
    record.outcome = "NotFound";
    response.writeHead(404);
    response.end();
  });

  const ecrUrl = await listen(ecr);
  const stsUrl = await listen(sts);
  const imdsUrl = await listen(imds);
  return {
    ecrUrl,
    stsUrl,
    imdsUrl,
    env: { AWS_ENDPOINT_URL_ECR: ecrUrl, AWS_ENDPOINT_URL_ECR_PUBLIC: ecrUrl, AWS_ENDPOINT_URL_STS: stsUrl },
    requests,
    calls: (action) => requests.filter((r) => r.action === action),
    repositories,
    keys,
    deny,
    addKey: (id, key) => keys.set(id, key),
    async stop() {
      for (const server of [ecr, sts, imds]) server.closeAllConnections();
      await Promise.all([ecr, sts, imds].map((server) => new Promise((r) => server.close(r))));
    },
  };
}
