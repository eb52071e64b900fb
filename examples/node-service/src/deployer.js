// A small service that rolls out versions announced by Consul user events.
//
// `triggerDeploy` announces a version: it fires a `deploy` event whose payload names the
// service and the version, filtered to the agents that run that service.
//
// `DeployAgent` runs beside each instance: it watches `deploy` events on its local agent
// (a blocking `GET /v1/event/list?name=deploy`, through the npm `consul` client's watch),
// applies each new version, and acknowledges it with a `deployed` event whose payload names
// its node and the version.
//
// Consul's gossip gives no order: an agent may receive the deploy of 1.1 after that of 1.2.
// The event list is the agent's whole buffer, seen again on every change, and its index is a
// hash that goes up and down (the client's watch then emits the same list twice). So the
// agent handles each event ID once, and ignores a deploy older (by Lamport time) than the one
// it runs: it never rolls back.

"use strict";

const { EventEmitter, once } = require("node:events");
const Consul = require("consul");

/**
 * A Consul client for the agent at host:port (127.0.0.1:8500 by default).
 */
function connect({ host = "127.0.0.1", port = 8500, token } = {}) {
  return new Consul({ host, port, defaults: token ? { token } : {} });
}

/**
 * Announce `version` of `service`: one `deploy` event for the agents that run it.
 * Resolves to the event as Consul answered it; rejects with the client's error (a 403 when
 * the token may not fire `deploy`).
 */
async function triggerDeploy(consul, { service, version }) {
  return consul.event.fire({
    name: "deploy",
    payload: JSON.stringify({ service, version }),
    service: `^${service}$`,
  });
}

/**
 * The text of an event's payload as the client's watch hands it over: the list exactly as
 * Consul sent it, so the payload is still base64 (`consul.event.list` called alone decodes
 * it; inside a watch it leaves it as it is).
 */
function payloadText(payload) {
  return Buffer.isBuffer(payload) ? payload.toString() : Buffer.from(payload, "base64").toString();
}

class DeployAgent extends EventEmitter {
  /**
   * `consul` is a client bound to the local agent, `node` the name this instance reports.
   */
  constructor(consul, { node }) {
    super();
    this.consul = consul;
    this.node = node;
    this.version = null;
    this.seen = new Set();
    this.appliedLTime = 0;
    this.queue = Promise.resolve();
    this.watch = null;
  }

  /**
   * Start watching; resolves once the first list came back (the watch is in place).
   */
  async start() {
    this.watch = this.consul.watch({
      method: this.consul.event.list,
      options: { name: "deploy", wait: "30s" },
      backoffFactor: 50,
      backoffMax: 1000,
    });
    this.watch.on("change", (events) => {
      this.queue = this.queue.then(() => this.handle(events)).catch((error) => {
        this.emit("error", error);
      });
    });
    this.watch.on("error", (error) => this.emit("watch-error", error));
    await once(this.watch, "change");
  }

  async handle(events) {
    for (const event of events) {
      if (this.seen.has(event.ID)) continue; // the list is the whole buffer, every time
      this.seen.add(event.ID);
      if (event.LTime <= this.appliedLTime) continue; // older than what runs: no rollback
      this.appliedLTime = event.LTime;
      const { version } = JSON.parse(payloadText(event.Payload));
      this.version = version;
      await this.consul.event.fire({
        name: "deployed",
        payload: JSON.stringify({ node: this.node, version }),
      });
      this.emit("deployed", version);
    }
  }

  /**
   * Stop watching (the blocked list request is cancelled) and finish what was received.
   */
  async stop() {
    if (this.watch) this.watch.end();
    await this.queue;
  }
}

module.exports = { connect, triggerDeploy, DeployAgent };
