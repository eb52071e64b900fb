// Start the fake Consul agent of pytest-consul-events as a child process, and talk to its
// control API. Only documented behaviour is used: the --json line, and routes under /_fake/.

"use strict";

const { spawn } = require("node:child_process");
const { once } = require("node:events");

const PYTHON = process.env.PYTHON || "python3";
const START_TIMEOUT_MS = 30_000;

/**
 * Run `python -m pytest_consul_events --port 0 --json ...args` and resolve once it printed
 * its JSON line: { agents: [{ node_name, datacenter, server, address, url, control }],
 * seed, control, cluster, version, pid }. Rejects with its stderr if it exits first.
 */
async function startFakeConsul(args = []) {
  const child = spawn(PYTHON, ["-m", "pytest_consul_events", "--port", "0", "--json", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  // However this process ends (a failed hook, the test runner's time-out), the fake ends too.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.removeListener("exit", killOnExit));
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  child.stdout.setEncoding("utf8");
  const line = await new Promise((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no JSON line within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      const end = buffered.indexOf("\n");
      if (end >= 0) {
        clearTimeout(timer);
        resolve(buffered.slice(0, end));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${PYTHON} -m pytest_consul_events exited with ${code}: ${stderr}`));
    });
  });
  const info = JSON.parse(line);
  return new FakeConsul(child, info, () => stderr);
}

class FakeConsul {
  constructor(child, info, stderr) {
    this.child = child;
    this.info = info;
    this.stderr = stderr;
  }

  /** The agent named `node` (the first one by default): its url, address, datacenter... */
  agent(node) {
    const found = node ? this.info.agents.find((a) => a.node_name === node) : this.info.agents[0];
    if (!found) throw new Error(`no agent named ${node}`);
    const [host, port] = [found.address.slice(0, found.address.lastIndexOf(":")), found.address.slice(found.address.lastIndexOf(":") + 1)];
    return { ...found, host, port: Number(port) };
  }

  /**
   * One control API call: `path` is relative to /_fake/ (for example "reset" or
   * "events?node=web-1"). Resolves to { status, body } whatever the status.
   */
  async control(method, path, body) {
    const response = await fetch(this.info.control + path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }

  /** A control call that must answer 200; resolves to its body. */
  async ok(method, path, body) {
    const { status, body: answer } = await this.control(method, path, body);
    if (status !== 200) {
      throw new Error(`${method} /_fake/${path} answered ${status}: ${JSON.stringify(answer)}`);
    }
    return answer;
  }

  /** SIGTERM, and the exit code (0 after a clean stop). */
  async stop() {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = once(this.child, "exit");
    this.child.kill("SIGTERM");
    const [code] = await exited;
    return code;
  }
}

module.exports = { startFakeConsul };
