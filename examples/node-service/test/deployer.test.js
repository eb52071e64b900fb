// The deploy service's tests, with node's own test runner, against the fake Consul agent.
//
// The fake runs as a child process (PYTHON names the interpreter, python3 by default); each
// test starts it over with POST /_fake/reset, drives the service, and asserts only through
// the control API (what was fired, what each agent holds, what gossip delivered where).

"use strict";

const { describe, test, before, after, beforeEach } = require("node:test");
const assert = require("node:assert/strict");
const { connect, triggerDeploy, DeployAgent } = require("../src/deployer");
const { startFakeConsul } = require("../support/fake-consul");

const DEPLOYER_RULES = 'event "deploy" { policy = "write" }\nevent "deployed" { policy = "write" }\nevent_prefix "" { policy = "read" }';

describe("one agent", () => {
  let fake;
  let services = [];

  before(async () => {
    fake = await startFakeConsul(["--node", "web-1", "--service", "web", "--seed", "7"]);
  });
  after(async () => {
    try {
      await Promise.all(services.map((s) => s.stop()));
    } finally {
      assert.equal(await fake.stop(), 0);
    }
  });
  beforeEach(async () => {
    await Promise.all(services.map((s) => s.stop()));
    services = [];
    await fake.ok("POST", "reset");
  });

  async function startService(options = {}) {
    const { host, port } = fake.agent();
    const service = new DeployAgent(connect({ host, port, ...options }), { node: "web-1" });
    await service.start();
    services.push(service);
    return service;
  }

  test("a deploy is applied and acknowledged", async () => {
    await startService();
    const trigger = connect(fake.agent());
    const fired = await triggerDeploy(trigger, { service: "web", version: "1.4.2" });

    const { event } = await fake.ok("POST", "wait", {
      name: "deployed",
      json: { node: "web-1", version: "1.4.2" },
      timeout: 10,
    });
    assert.equal(event.Name, "deployed");
    const order = await fake.ok("POST", "assert/fired-in-order", {
      events: [{ name: "deploy", json: { service: "web", version: "1.4.2" }, service: "^web$" }, "deployed"],
    });
    assert.equal(order.events[0].ID, fired.ID);
  });

  test("each deploy is acknowledged once, though the watch sees the list again", async () => {
    const service = await startService();
    const trigger = connect(fake.agent());
    for (const version of ["1.0", "1.1", "1.2"]) {
      await triggerDeploy(trigger, { service: "web", version });
      await fake.ok("POST", "wait", { name: "deployed", json: { node: "web-1", version }, timeout: 10 });
    }
    await service.stop();
    const acks = await fake.ok("POST", "assert/fired", { name: "deployed", count: 3 });
    assert.deepEqual(
      acks.events.map((e) => JSON.parse(Buffer.from(e.Payload, "base64")).version),
      ["1.0", "1.1", "1.2"],
    );
  });

  test("a deploy for another service never reaches this agent", async () => {
    await startService();
    await triggerDeploy(connect(fake.agent()), { service: "api", version: "9.9" });

    const waited = await fake.control("POST", "wait", { name: "deploy", timeout: 0.5 });
    assert.equal(waited.status, 408);
    assert.deepEqual((await fake.ok("GET", "events")).events, []);
    assert.equal((await fake.ok("GET", "fired?name=deploy")).fired.length, 1);
    await fake.ok("POST", "assert/not-fired", { name: "deployed" });
  });

  test("with ACLs, the trigger needs a token allowed to fire deploy", async () => {
    await fake.ok("POST", "configure", {
      acl: "deny",
      tokens: { deployer: DEPLOYER_RULES },
      default_token: "deployer", // the service's own requests
    });
    await startService();
    const anonymous = connect({ ...fake.agent(), token: "anonymous" });
    const refused = await triggerDeploy(anonymous, { service: "web", version: "2.0" }).then(
      () => null,
      (error) => error,
    );
    assert.ok(refused, "the anonymous token may not fire deploy");
    const { requests } = await fake.ok("GET", "requests");
    // The client sends its token as a header: the log says one was sent, never which.
    assert.deepEqual(
      requests.map((r) => [r.method, r.path, r.query, r.status, r.token]).filter((r) => r[0] === "PUT"),
      [["PUT", "/v1/event/fire/deploy", "service=%5Eweb%24", 403, true]],
    );
    await fake.ok("POST", "assert/not-fired", { name: "deploy" });

    await triggerDeploy(connect({ ...fake.agent(), token: "deployer" }), { service: "web", version: "2.0" });
    await fake.ok("POST", "wait", { name: "deployed", json: { node: "web-1", version: "2.0" }, timeout: 10 });
    await fake.ok("POST", "assert/fired", { name: "deploy", count: 1 });
  });

  test("the requests the service made are in the request log, the control calls are not", async () => {
    await startService();
    await triggerDeploy(connect(fake.agent()), { service: "web", version: "3.0" });
    await fake.ok("POST", "wait", { name: "deployed", source: "fired", timeout: 10 });
    const { requests } = await fake.ok("GET", "requests");
    assert.ok(requests.every((r) => r.path.startsWith("/v1/event/")));
    assert.ok(requests.some((r) => r.method === "PUT" && r.path === "/v1/event/fire/deploy"));
    assert.equal((await fake.ok("GET", "requests?implemented=false")).requests.length, 0);
  });
});

describe("a datacenter with unordered gossip", () => {
  const SEED = 42;
  let fake;
  let services = [];

  before(async () => {
    fake = await startFakeConsul([
      "--agent", "hub",
      "--agent", "web-1,service=web",
      "--agent", "web-2,service=web",
      "--unordered", "--flush-after", "60", "--seed", String(SEED),
    ]);
  });
  after(async () => {
    try {
      await Promise.all(services.map((s) => s.stop()));
    } finally {
      assert.equal(await fake.stop(), 0);
    }
  });
  beforeEach(async () => {
    await Promise.all(services.map((s) => s.stop()));
    services = [];
    await fake.ok("POST", "cluster/reset");
  });

  test("each instance ends on the newest version whatever order gossip brings", async () => {
    const trigger = connect(fake.agent("hub"));
    for (const version of ["1", "2", "3"]) {
      await triggerDeploy(trigger, { service: "web", version });
    }
    // Every deploy reaches both instances, each in its own order. The instances start once
    // gossip is done, so that their acknowledgements cannot be gossiped (and counted) among
    // the deploys: each finds the three deploys in its agent's buffer, in arrival order.
    assert.deepEqual(await fake.ok("POST", "cluster/settle"), { delivered: 6 });
    for (const node of ["web-1", "web-2"]) {
      const { host, port } = fake.agent(node);
      const service = new DeployAgent(connect({ host, port }), { node });
      await service.start();
      services.push(service);
    }

    // What gossip delivered to each instance, in order: the seed makes it the same every run.
    const { seed, trace } = await fake.ok("GET", "cluster/trace");
    assert.equal(seed, SEED);
    const arrivals = (node) =>
      trace.filter((s) => s.kind === "deliver" && s.target === node && s.name === "deploy");
    const order = (node) => arrivals(node).map((s) => s.ltime);
    assert.notDeepEqual(order("web-1"), order("web-2"), "unordered: each agent its own order");

    for (const node of ["web-1", "web-2"]) {
      // Expected acknowledgements: each delivery newer than every earlier one.
      const expected = [];
      let newest = 0;
      for (const ltime of order(node)) {
        if (ltime > newest) {
          newest = ltime;
          expected.push(String(ltime - 1)); // versions 1, 2, 3 were stamped 2, 3, 4
        }
      }
      assert.equal(expected.at(-1), "3");
      await fake.ok("POST", `wait?node=${node}`, {
        name: "deployed",
        source: "fired",
        json: { node, version: "3" },
        timeout: 10,
      });
      const { fired } = await fake.ok("GET", `fired?node=${node}&name=deployed`);
      const acknowledged = fired.map((e) => JSON.parse(Buffer.from(e.Payload, "base64")).version);
      assert.deepEqual(acknowledged, expected, `${node} received ltimes ${order(node)}`);
    }
    await fake.ok("POST", "assert/not-fired?node=hub", { name: "deployed" });
  });

  test("a partitioned instance catches up when the partition heals", async () => {
    await fake.ok("POST", "cluster/configure", { unordered: false });
    const { host, port } = fake.agent("web-2");
    const service = new DeployAgent(connect({ host, port }), { node: "web-2" });
    await service.start();
    services.push(service);
    await fake.ok("POST", "cluster/partition", { groups: [["hub", "web-1"], ["web-2"]] });
    await triggerDeploy(connect(fake.agent("hub")), { service: "web", version: "5" });

    assert.deepEqual((await fake.ok("GET", "events?node=web-2")).events, []);
    assert.deepEqual(await fake.ok("POST", "cluster/heal"), { delivered: 1 });
    await fake.ok("POST", "wait?node=web-2", {
      name: "deployed",
      source: "fired",
      json: { node: "web-2", version: "5" },
      timeout: 10,
    });
  });
});
