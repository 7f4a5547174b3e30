/**
 * The engine's JSON message stream (`/images/load`, `/images/{name}/push`): one JSON object per line.
 * The engine answers 200 before the work starts, so a failure arrives inside the stream as a message
 * with `error`/`errorDetail`; docker's own client turns that into an error the same way:
 * https://github.com/moby/moby/blob/v26.1.5/pkg/jsonmessage/jsonmessage.go (DisplayJSONMessagesStream)
 */
export interface JsonMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  aux?: Record<string, unknown>;
  error?: string;
  errorDetail?: { code?: number; message?: string };
}

/** The message's failure, if it reports one: `errorDetail.message` first, as docker prints it. */
export function messageError(message: JsonMessage): string | undefined {
  const detail = message.errorDetail?.message?.trim();
  if (detail) return detail;
  if (typeof message.error === "string" && message.error.trim()) return message.error.trim();
  if (message.errorDetail) return "the engine reported an error without a message";
  return undefined;
}

/** An `error`/`errorDetail` message of the engine's stream. */
export class EngineStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EngineStreamError";
  }
}

/** Splits chunks of the stream into messages; keeps only the unfinished last line between chunks. */
export class JsonMessageSplitter {
  private rest = "";
  private readonly decoder = new TextDecoder();

  /** The complete messages in `chunk` (and before it). */
  push(chunk: Uint8Array | string): JsonMessage[] {
    this.rest += typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    const lines = this.rest.split("\n");
    this.rest = lines.pop() ?? "";
    return lines.flatMap((line) => parseLine(line));
  }

  /** The last message, if the stream did not end with a newline. */
  end(): JsonMessage[] {
    const last = this.rest + this.decoder.decode();
    this.rest = "";
    return parseLine(last);
  }
}

function parseLine(line: string): JsonMessage[] {
  const text = line.trim();
  if (!text) return [];
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" ? [value as JsonMessage] : [];
  } catch {
    // Not JSON (an old engine, a proxy's page): keep it as text so that it still reaches the user.
    return [{ stream: text }];
  }
}

/**
 * Reads the whole stream, calling `onMessage` for each message, and rejects with {@link EngineStreamError}
 * at the first message that reports an error (the rest of the stream is dropped).
 */
export async function readJsonMessages(
  stream: NodeJS.ReadableStream,
  onMessage: (message: JsonMessage) => void,
): Promise<void> {
  const splitter = new JsonMessageSplitter();
  const handle = (messages: JsonMessage[]) => {
    for (const message of messages) {
      const failure = messageError(message);
      if (failure !== undefined) throw new EngineStreamError(failure);
      onMessage(message);
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) handle(splitter.push(chunk));
    handle(splitter.end());
  } finally {
    // An early error leaves the response half read: drop the connection rather than drain it.
    const destroy = (stream as unknown as { destroy?: () => void }).destroy;
    if (typeof destroy === "function") destroy.call(stream);
  }
}
