/**
 * A real HTTP proxy for tests: Debian's tinyproxy, one per test on a free loopback port, with its own
 * configuration and log file (scripts/setup.sh installs it). Its log shows what went through it:
 * `CONNECT host:port` for tunnels, `GET http://host:port/...` for plain-http requests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { onFreePort, PortTaken } from "./free-port.js";
import { tempDir } from "./tmp.js";

export interface Tinyproxy {
  /** http://127.0.0.1:port */
  url: string;
  port: number;
  /** The requests the proxy logged: `CONNECT vm:5000 HTTP/1.1`, `GET http://vm:5000/v2/ HTTP/1.1`. */
  requests(): string[];
  stop(): Promise<void>;
}

export interface TinyproxyOptions {
  /** Ports CONNECT may reach (tinyproxy refuses others than 443 and 563 unless listed). */
  connectPorts: number[];
  /** Proxy credentials it requires (BasicAuth). */
  basicAuth?: { username: string; password: string };
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      if (/Could not create listening sockets/.test(log())) throw new PortTaken(port, log());
      throw new Error(`tinyproxy exited: ${log()}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`tinyproxy did not listen on ${port}: ${log()}`);
}

export async function startTinyproxy(options: TinyproxyOptions): Promise<Tinyproxy> {
  return onFreePort((port) => startTinyproxyOn(port, options));
}

async function startTinyproxyOn(port: number, options: TinyproxyOptions): Promise<Tinyproxy> {
  const dir = await tempDir("buildx-step-tinyproxy-");
  const logFile = join(dir.path, "tinyproxy.log");
  const lines = [
    `Port ${port}`,
    "Listen 127.0.0.1",
    "Timeout 60",
    `LogFile "${logFile}"`,
    "LogLevel Info",
    "MaxClients 50",
    "Allow 127.0.0.1",
    "DisableViaHeader Yes",
    ...options.connectPorts.map((p) => `ConnectPort ${p}`),
    ...(options.basicAuth ? [`BasicAuth ${options.basicAuth.username} ${options.basicAuth.password}`] : []),
  ];
  const config = join(dir.path, "tinyproxy.conf");
  writeFileSync(config, `${lines.join("\n")}\n`);
  writeFileSync(logFile, "");
  let output = "";
  const child = spawn("tinyproxy", ["-d", "-c", config], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  });
  child.stderr?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  });
  const log = () => readFileSync(logFile, "utf8");
  try {
    await waitForPort(port, child, () => `${output}\n${log()}`);
  } catch (error) {
    child.kill("SIGKILL");
    await dir.remove();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: () =>
      log()
        .split("\n")
        .map((line) => /Request \(file descriptor \d+\): (.*)$/.exec(line)?.[1])
        .filter((request): request is string => request !== undefined),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      await dir.remove();
    },
  };
}
