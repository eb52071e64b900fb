"""No ACL token secret leaks into what the fake shows: reprs, request records, reports, logs.

Tokens reach the agent in every way Consul reads them (``?token=``, ``X-Consul-Token``,
``Authorization: Bearer``), valid and unknown, on fires, lists, blocking lists and the ACL API.
Requests with a token in the URL go out through ``http.client``, which logs nothing, so what
``caplog`` holds is the fake's own logging.
"""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Iterator, Sequence

import pytest

from pytest_consul_events.cluster import FakeConsulCluster
from pytest_consul_events.fake import FakeConsulAgent
from pytest_consul_events.http.requestlog import RequestRecord

ROOT = "root-secret-xyz"
DEPLOYER = "deployer-secret-abc"
AUDITOR = "auditor-secret-def"
UNKNOWN = "unknown-secret-ghi"
SECRETS = (ROOT, DEPLOYER, AUDITOR, UNKNOWN)
TOKENS = {
    DEPLOYER: 'event "deploy" { policy = "write" }',
    AUDITOR: 'event_prefix "" { policy = "read" }',
}
ACL = {"acl": "deny", "management_token": ROOT, "tokens": TOKENS}


def call(
    agent: FakeConsulAgent,
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(agent.host, agent.port, timeout=10)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def send_tokens_every_way(agent: FakeConsulAgent) -> list[int]:
    """Requests carrying secrets in every place Consul reads them; returns their statuses."""
    statuses = []
    for method, target, headers in [
        ("PUT", f"/v1/event/fire/deploy?token={DEPLOYER}", []),
        ("PUT", "/v1/event/fire/deploy", [("X-Consul-Token", DEPLOYER)]),
        ("PUT", "/v1/event/fire/deploy", [("Authorization", f"Bearer {DEPLOYER}")]),
        ("PUT", "/v1/event/fire/deploy", [("authorization", f"bearer {DEPLOYER}")]),
        ("PUT", f"/v1/event/fire/deploy?dc=dc1&token={DEPLOYER}&node=.*", []),
        ("PUT", f"/v1/event/fire/deploy?token={AUDITOR}", []),  # 403: may not write
        ("PUT", f"/v1/event/fire/deploy?token={UNKNOWN}", []),  # 500: ACL not found
        ("PUT", f"/v1/event/fire/deploy?token={ROOT}&token={UNKNOWN}", []),
        ("PUT", f"/v1/event/fire/deploy?token={ROOT}", [("X-Consul-Token", UNKNOWN)]),
        ("GET", f"/v1/event/list?token={AUDITOR}", []),
        ("GET", "/v1/event/list", [("X-Consul-Token", AUDITOR)]),
        ("GET", "/v1/event/list", [("Authorization", f"Bearer {AUDITOR}")]),
        ("GET", f"/v1/event/list?token={UNKNOWN}", []),  # 403
        ("GET", f"/v1/event/list?name=deploy&token={ROOT}&pretty", []),
        ("GET", "/v1/event/list?index=INDEX&wait=5ms&token=" + AUDITOR, []),  # blocks, times out
        ("GET", "/v1/event/list?index=abc&token=" + AUDITOR, []),  # 400 Invalid index
        ("GET", f"/v1/event/list?token={ROOT}", [("X-Consul-Token", DEPLOYER)]),
        ("GET", "/v1/acl/token/self", [("X-Consul-Token", ROOT)]),
        ("GET", f"/v1/acl/tokens?token={ROOT}", []),
        ("GET", "/v1/acl/token/self", [("X-Consul-Token", UNKNOWN)]),  # 403 ACL not found
        ("GET", f"/v1/agent/self?token={ROOT}", []),
        ("GET", f"/v1/kv/anything?token={ROOT}", []),  # 404, not served by the fake
    ]:
        index = agent.list_events(token=AUDITOR).index  # the current one: the list blocks
        statuses.append(call(agent, method, target.replace("INDEX", str(index)), headers)[0])
    return statuses


def assert_no_secret_in(text: str, where: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert leaked == [], f"{where} shows {leaked}:\n{text}"


@pytest.fixture
def acl_agent() -> Iterator[FakeConsulAgent]:
    with FakeConsulAgent(**ACL) as agent:
        yield agent


def test_secrets_sent_every_way_never_show(
    acl_agent: FakeConsulAgent, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    statuses = send_tokens_every_way(acl_agent)
    # The requests did what Consul does with these tokens, so the secrets were really used.
    assert statuses == [
        *[200, 200, 200, 200, 200, 403, 500, 200, 200],
        *[200, 200, 200, 403, 200, 200, 400, 200],
        *[200, 200, 404, 200, 404],
    ]
    acl_agent.fire("deploy", b"from python", token=DEPLOYER)
    listing = acl_agent.list_events(token=AUDITOR)
    assert len(listing.events) == 8  # seven fires over HTTP, one from Python

    records = list(acl_agent.requests)
    assert len(records) == 22
    assert [record.token for record in records] == [True] * 22
    for record in records:
        assert_no_secret_in(str(record), "str(record)")
        assert_no_secret_in(repr(record), "repr(record)")
    assert_no_secret_in(repr(acl_agent), "repr(agent)")
    assert_no_secret_in(str(acl_agent), "str(agent)")
    assert_no_secret_in("\n".join(acl_agent.failure_report()), "the failure report")
    assert_no_secret_in(caplog.text, "the log")
    assert_no_secret_in(repr(caplog.records), "the log records")


def test_secrets_sent_by_py_consul_never_show(
    acl_agent: FakeConsulAgent, caplog: pytest.LogCaptureFixture
) -> None:
    # py-consul sends its token as X-Consul-Token (urllib3 logs request lines, not headers);
    # its event.list sends none, so the deny policy hides every event from it.
    caplog.set_level(logging.DEBUG)
    deployer, auditor = acl_agent.client(token=DEPLOYER), acl_agent.client(token=AUDITOR)
    try:
        deployer.event.fire("deploy", "v1")
        index, events = auditor.event.list()
        auditor.event.list(index=index, wait="5ms")
        root = acl_agent.client(token=ROOT)
        try:
            assert root.acl.token.read_self()["SecretID"] == ROOT
        finally:
            root.http.session.close()
    finally:
        deployer.http.session.close()
        auditor.http.session.close()
    assert events == []
    assert [record.token for record in acl_agent.requests] == [True, False, False, True]
    for record in acl_agent.requests:
        assert_no_secret_in(f"{record} {record!r}", "a request record")
    assert_no_secret_in("\n".join(acl_agent.failure_report()), "the failure report")
    assert_no_secret_in(caplog.text, "the log")


def test_cluster_reports_show_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    agents = ["node1", "node2", {"node_name": "db-1", "datacenter": "dc2"}]
    with FakeConsulCluster(agents, **ACL) as cluster:
        for agent in cluster:
            statuses = send_tokens_every_way(agent)
            assert statuses[:5] == [200] * 5
        cluster.settle()
        assert_no_secret_in(cluster.report(), "the cluster report")
        assert_no_secret_in("\n".join(cluster.failure_report()), "the cluster failure report")
        assert_no_secret_in(repr(cluster), "repr(cluster)")
        for agent in cluster:
            assert_no_secret_in(repr(agent), "repr(agent)")
            assert_no_secret_in("\n".join(agent.failure_report()), "an agent's failure report")
            for record in agent.requests:
                assert_no_secret_in(f"{record} {record!r}", "a request record")
        assert_no_secret_in(repr(cluster.trace), "the gossip trace")
    assert_no_secret_in(caplog.text, "the log")


def test_a_failing_test_report_shows_no_secret(pytester: pytest.Pytester) -> None:
    # What a user sees: the report section of a failed test that sent tokens every way. The
    # secrets are built at run time so that the test's own source (shown in the traceback)
    # does not contain them.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_inner_token_report=f"""
        import http.client
        import pytest

        ROOT = "-".join({ROOT.split("-")!r})
        DEPLOYER = "-".join({DEPLOYER.split("-")!r})

        @pytest.mark.consul_agent(acl="deny", management_token=ROOT, tokens={{
            DEPLOYER: 'event "deploy" {{ policy = "write" }}',
        }})
        def test_fires_then_fails(consul_agent, consul_client):
            for target, headers in [
                ("/v1/event/fire/deploy?token=" + DEPLOYER, {{}}),
                ("/v1/event/fire/deploy", {{"X-Consul-Token": DEPLOYER}}),
                ("/v1/event/fire/deploy", {{"Authorization": "Bearer " + ROOT}}),
                ("/v1/event/list?token=" + ROOT, {{}}),
            ]:
                conn = http.client.HTTPConnection(consul_agent.host, consul_agent.port)
                conn.request("PUT" if "fire" in target else "GET", target, headers=headers)
                assert conn.getresponse().status == 200
                conn.close()
            consul_client.token = ROOT
            consul_client.event.list()
            pytest.fail("boom")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "consul agent" in output
    assert "PUT /v1/event/fire/deploy?token=<redacted> -> 200" in output
    assert_no_secret_in(output, "pytest's output")


@pytest.mark.parametrize(
    "target",
    [
        f"/v1/event/fire/deploy?%74oken={DEPLOYER}",
        f"/v1/event/fire/deploy?tok%65n={DEPLOYER}",
        f"/v1/event/list?x=1;token={ROOT}",
    ],
    ids=["escaped-t", "escaped-e", "after-semicolon"],
)
def test_escaped_token_parameters_are_redacted(acl_agent: FakeConsulAgent, target: str) -> None:
    status, _ = call(acl_agent, "PUT" if "fire" in target else "GET", target)
    assert status in (200, 500)  # 200: the escaped key is the token; 500: Go rejects ';'
    [record] = list(acl_agent.requests)
    assert record.token is True
    assert_no_secret_in(f"{record} {record!r}", "the request record")
    assert_no_secret_in("\n".join(acl_agent.failure_report()), "the failure report")


def test_secret_in_an_acl_token_body_is_not_recorded(acl_agent: FakeConsulAgent) -> None:
    secret = "6b2e1a5e-0c0d-4e5f-8a9b-0123456789ab"
    body = json.dumps({"SecretID": secret, "Description": "made by the code under test"})
    status, answer = call(
        acl_agent, "PUT", "/v1/acl/token", [("X-Consul-Token", ROOT)], body.encode()
    )
    assert (status, json.loads(answer)["SecretID"]) == (200, secret)
    assert call(acl_agent, "GET", "/v1/event/list", [("X-Consul-Token", secret)])[0] == 200
    records: list[RequestRecord] = list(acl_agent.requests)
    assert len(records) == 2
    shown = "\n".join([*(f"{r} {r!r}" for r in records), *acl_agent.failure_report()])
    assert secret not in shown


def test_token_in_a_service_registration_is_not_recorded(acl_agent: FakeConsulAgent) -> None:
    body = json.dumps({"Name": "web", "Port": 80, "Token": ROOT}).encode()
    status, _ = call(
        acl_agent, "PUT", "/v1/agent/service/register", [("X-Consul-Token", ROOT)], body
    )
    assert status == 200
    assert list(acl_agent.services) == ["web"]
    [record] = list(acl_agent.requests)
    assert_no_secret_in(f"{record} {record!r}", "the request record")
    assert_no_secret_in("\n".join(acl_agent.failure_report()), "the failure report")
