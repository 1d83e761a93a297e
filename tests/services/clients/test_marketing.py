"""Marketing campaigns (R30) over a real clients process (real gRPC, NATS, SQLite and, with
TEST_DATABASE_URL, PostgreSQL): consent respected, the shared file as audience, campaigns
invisible from another establishment, sending once whatever the races, every message
recorded, and the messages really delivered: e-mail into the mailbox folder and to a local
SMTP server (aiosmtpd), SMS into the SMS folder and to a local HTTP endpoint.

The clients service reads its mail and SMS settings from the environment (SALON_SMTP_HOST,
SALON_SMS_URL...), set before it starts."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time as clock
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from launcher.nats_server import NatsServer
from launcher.stack import free_port
from salon.clients.v1 import (
    clients_pb2,
    clients_pb2_grpc,
    events_pb2,
    marketing_pb2,
    marketing_pb2_grpc,
)
from salon.common.v1 import privacy_pb2
from services.clients.domain import marketing
from services.clients.domain.marketing import Audience, CampaignStatus, Channel, MessageStatus
from services.clients.domain.model import check_new
from services.clients.marketing.sender import CLAIM, CampaignSender
from services.clients.service import SPEC as CLIENTS
from services.clients.settings import MarketingSettings
from services.clients.store import marketing_repository as store
from services.clients.store import repository
from services.clients.store.marketing_tables import campaign_messages
from services.clients.store.tables import outbox, processed_events
from services.common import migrations
from services.common.db import Database, utcnow
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.runtime import ServiceContext
from services.common.scope import Role
from services.common.settings import ServiceSettings
from tests.support.services import Metadata, metadata, running

POLL = "0.05"
EMAIL = marketing_pb2.CHANNEL_EMAIL
SMS = marketing_pb2.CHANNEL_SMS
ORGANIZATION = marketing_pb2.AUDIENCE_ORGANIZATION
ESTABLISHMENT = marketing_pb2.AUDIENCE_ESTABLISHMENT
M = marketing_pb2


# -- a local SMTP server and a local SMS endpoint -------------------------------------------


@dataclass
class Inbox:
    """The aiosmtpd handler: keeps every message; refuses RCPT for the `refuse` addresses."""

    received: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(parsed)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@dataclass
class SmsEndpoint:
    """A local SMS provider: records each POST; answers 503 once for `flaky` numbers and
    400 for `invalid` ones."""

    url: str = ""
    received: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)
    flaky: set[str] = field(default_factory=set)
    invalid: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def sms_endpoint() -> Iterator[SmsEndpoint]:
    endpoint = SmsEndpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with endpoint.lock:
                endpoint.received.append((body, dict(self.headers)))
                if body["to"] in endpoint.flaky:
                    endpoint.flaky.discard(body["to"])
                    status = 503
                elif body["to"] in endpoint.invalid:
                    status = 400
                else:
                    status = 202
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield endpoint
    server.shutdown()
    server.server_close()


# -- the service --------------------------------------------------------------------------


@dataclass
class Service:
    clients: clients_pb2_grpc.ClientsServiceStub
    marketing: marketing_pb2_grpc.MarketingServiceStub
    db: Database
    mailbox: Path
    sms_dir: Path


Env = Callable[..., None]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Env:
    """The clients service's mail and SMS settings, before it starts."""

    def configure(smtp_host: str = "", smtp_port: int = 25, sms_url: str = "") -> None:
        monkeypatch.setenv("SALON_SMTP_HOST", smtp_host)
        monkeypatch.setenv("SALON_SMTP_PORT", str(smtp_port))
        monkeypatch.setenv("SALON_SMTP_TIMEOUT_SECONDS", "3")
        monkeypatch.setenv("SALON_MAILBOX_DIR", str(tmp_path / "mailbox"))
        monkeypatch.setenv("SALON_SMS_URL", sms_url)
        monkeypatch.setenv("SALON_SMS_TOKEN", "sms-secret" if sms_url else "")
        monkeypatch.setenv("SALON_SMS_DIR", str(tmp_path / "sms"))
        monkeypatch.setenv("SALON_MAIL_POLL_SECONDS", POLL)

    return configure


async def _start(url: str, nats_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    async with running(nats_url, {"clients": url}, {"clients": CLIENTS}) as s:
        db = Database(url)
        try:
            yield Service(
                clients_pb2_grpc.ClientsServiceStub(s.channel("clients")),
                marketing_pb2_grpc.MarketingServiceStub(s.channel("clients")),
                db,
                tmp_path / "mailbox",
                tmp_path / "sms",
            )
        finally:
            await db.dispose()


@pytest.fixture
async def s(
    database_url: str, nats_server: NatsServer, tmp_path: Path, env: Env
) -> AsyncIterator[Service]:
    """Mailbox folder and SMS folder: the embedded defaults."""
    env()
    async for s in _start(database_url, nats_server.url, tmp_path):
        yield s


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'clients.db'}"


# -- helpers ------------------------------------------------------------------------------


def _id() -> str:
    return secrets.token_hex(16)


def _manager(org: str, est: str) -> Metadata:
    return metadata(org, est, user_id="u-manager", role=Role.MANAGER)


def _owner(org: str, est: str) -> Metadata:
    return metadata(org, est, user_id="u-owner", role=Role.OWNER)


async def _error(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = from_rpc_error(caught.value)
    assert error is not None, caught.value
    return error


async def _client(s: Service, md: Metadata, first: str, **fields: Any) -> clients_pb2.Client:
    return await s.clients.CreateClient(
        clients_pb2.CreateClientRequest(first_name=first, last_name="Test", **fields),
        metadata=md,
        timeout=5,
    )


async def _campaign(
    s: Service,
    md: Metadata,
    channel: int = EMAIL,
    audience: int = ORGANIZATION,
    name: str = "Spring",
) -> M.Campaign:
    return await s.marketing.CreateCampaign(
        M.CreateCampaignRequest(
            name=name,
            channel=channel,
            subject="Spring offer for {{firstName}}" if channel == EMAIL else "",
            body="Hello {{firstName}}, 20% off colour in April.",
            audience=audience,
        ),
        metadata=md,
        timeout=5,
    )


async def _until_sent(s: Service, md: Metadata, campaign_id: str, seconds: float = 20) -> None:
    deadline = clock.monotonic() + seconds
    while clock.monotonic() < deadline:
        reply = await s.marketing.GetCampaigns(
            M.GetCampaignsRequest(ids=[campaign_id]), metadata=md, timeout=5
        )
        if reply.campaigns[0].status == M.CAMPAIGN_STATUS_SENT:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"campaign not sent: {reply.campaigns[0]}")


async def _messages(s: Service, md: Metadata, campaign_id: str) -> dict[str, M.CampaignMessage]:
    reply = await s.marketing.ListCampaignMessages(
        M.ListCampaignMessagesRequest(campaign_id=campaign_id), metadata=md, timeout=5
    )
    return {m.client_id: m for m in reply.messages}


def _status(message: M.CampaignMessage) -> str:
    return M.MessageStatus.Name(message.status).removeprefix("MESSAGE_STATUS_")


def _files(folder: Path, suffix: str) -> list[Path]:
    return sorted(folder.glob(f"*{suffix}")) if folder.exists() else []


# -- consent and audience -------------------------------------------------------------------


async def test_R30_opted_out_erased_and_clients_without_email_get_nothing(s: Service) -> None:
    org, est = _id(), _id()
    md = _manager(org, est)
    ann = await _client(s, md, "Ann", email="ann@example.com")
    bob = await _client(s, md, "Bob", email="bob@example.com")
    # Bob declines marketing e-mail later, through UpdateClient; the record shows it.
    bob = await s.clients.UpdateClient(
        clients_pb2.UpdateClientRequest(id=bob.id, marketing_email_opt_out=True),
        metadata=md,
        timeout=5,
    )
    assert bob.marketing_email_opt_out and not bob.marketing_sms_opt_out
    cas = await _client(s, md, "Cas", phone="+32470123456")  # no e-mail
    dirk = await _client(s, md, "Dirk", email="dirk@example.com")
    await s.clients.EraseClient(
        clients_pb2.EraseClientRequest(id=dirk.id), metadata=_owner(org, est), timeout=5
    )
    # Declined SMS only: e-mail still goes.
    eva = await _client(s, md, "Eva", email="eva@example.com", marketing_sms_opt_out=True)
    assert eva.marketing_sms_opt_out and not eva.marketing_email_opt_out

    campaign = await _campaign(s, md)
    assert campaign.status == M.CAMPAIGN_STATUS_DRAFT
    sent = await s.marketing.SendCampaign(M.SendCampaignRequest(id=campaign.id), metadata=md)
    assert sent.status in (M.CAMPAIGN_STATUS_SENDING, M.CAMPAIGN_STATUS_SENT)
    assert (sent.counts.pending + sent.counts.sent, sent.counts.skipped) == (2, 3)
    await _until_sent(s, md, campaign.id)

    messages = await _messages(s, md, campaign.id)
    assert {c: (_status(m), m.address, m.reason) for c, m in messages.items()} == {
        ann.id: ("SENT", "ann@example.com", ""),
        eva.id: ("SENT", "eva@example.com", ""),
        bob.id: ("SKIPPED", "", "the client declined marketing e-mail"),
        cas.id: ("SKIPPED", "", "the client has no e-mail address"),
        dirk.id: ("SKIPPED", "", "the client's personal data was erased (B11)"),
    }
    assert all(m.sent_at.seconds > 0 for m in messages.values() if _status(m) == "SENT")
    assert [messages[ann.id].attempts, messages[bob.id].attempts] == [0, 0]

    # The mails really are in the mailbox: one each for Ann and Eva, and no one else.
    mails = [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in _files(s.mailbox, ".eml")
        if p.name.startswith("campaign-")
    ]
    by_to = {str(m["To"]): m for m in mails}
    assert sorted(by_to) == ["ann@example.com", "eva@example.com"]
    assert by_to["ann@example.com"]["Subject"] == "Spring offer for Ann"
    assert "Hello Ann, 20% off colour" in by_to["ann@example.com"].get_content()
    assert by_to["ann@example.com"]["Message-ID"] == f"<{messages[ann.id].id}@salon.local>"


async def test_R30_B07_a_merged_record_gets_nothing_and_its_objection_carries_over(
    s: Service,
) -> None:
    # Given the same person twice, the second record objecting to marketing e-mail
    org, est_a, est_b = _id(), _id(), _id()
    kept = await _client(s, _manager(org, est_a), "Ann", email="ann@example.com")
    twin = await _client(
        s, _manager(org, est_b), "Ann", email="ANN@example.com", marketing_email_opt_out=True
    )
    other = await _client(s, _manager(org, est_a), "Bob", email="bob@example.com")
    # When they are merged (B07)
    merged = await s.clients.MergeClients(
        clients_pb2.MergeClientsRequest(keep_id=kept.id, merge_id=twin.id),
        metadata=_owner(org, est_a),
        timeout=5,
    )
    # Then the objection made under either record stands for the person ...
    assert merged.client.marketing_email_opt_out
    # ... and a campaign to the organization has one entry for her (skipped), none for the
    # merged record, and Bob's mail.
    campaign = await _campaign(s, _manager(org, est_a))
    await s.marketing.SendCampaign(
        M.SendCampaignRequest(id=campaign.id), metadata=_manager(org, est_a)
    )
    await _until_sent(s, _manager(org, est_a), campaign.id)
    messages = await _messages(s, _manager(org, est_a), campaign.id)
    assert {c: _status(m) for c, m in messages.items()} == {kept.id: "SKIPPED", other.id: "SENT"}


async def test_R30_the_organization_audience_reaches_the_shared_file_of_every_establishment(
    s: Service,
) -> None:
    org, est_a, est_b = _id(), _id(), _id()
    in_a = await _client(s, _manager(org, est_a), "Ann", email="ann@example.com")
    in_b = await _client(s, _manager(org, est_b), "Bea", email="bea@example.com")
    other_org = await _client(s, _manager(_id(), est_a), "Oz", email="oz@example.com")

    everyone = await _campaign(s, _manager(org, est_a), audience=ORGANIZATION)
    here_only = await _campaign(s, _manager(org, est_a), audience=ESTABLISHMENT)
    for campaign in (everyone, here_only):
        await s.marketing.SendCampaign(
            M.SendCampaignRequest(id=campaign.id), metadata=_manager(org, est_a), timeout=5
        )

    # Bea was created in B: in A's campaign to the organization (R30: the audience, the
    # shared file, is shared), not in A's campaign to its own clients.
    assert set(await _messages(s, _manager(org, est_a), everyone.id)) == {in_a.id, in_b.id}
    assert set(await _messages(s, _manager(org, est_a), here_only.id)) == {in_a.id}
    assert other_org.id not in await _messages(s, _manager(org, est_a), everyone.id)


async def test_R30_campaigns_of_one_establishment_are_invisible_from_another(s: Service) -> None:
    org, est_a, est_b = _id(), _id(), _id()
    await _client(s, _manager(org, est_a), "Ann", email="ann@example.com")
    campaign = await _campaign(s, _manager(org, est_a))

    for md in (_manager(org, est_b), _owner(org, est_b), _owner(_id(), est_a)):
        got = await s.marketing.GetCampaigns(
            M.GetCampaignsRequest(ids=[campaign.id]), metadata=md, timeout=5
        )
        assert list(got.campaigns) == []
        listed = await s.marketing.ListCampaigns(M.ListCampaignsRequest(), metadata=md, timeout=5)
        assert campaign.id not in [c.id for c in listed.campaigns]
        error = await _error(
            s.marketing.SendCampaign(M.SendCampaignRequest(id=campaign.id), metadata=md)
        )
        assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "id")
        error = await _error(
            s.marketing.ListCampaignMessages(
                M.ListCampaignMessagesRequest(campaign_id=campaign.id), metadata=md
            )
        )
        assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "campaignId")

    # Still a draft, seen in A only.
    listed = await s.marketing.ListCampaigns(
        M.ListCampaignsRequest(), metadata=_manager(org, est_a), timeout=5
    )
    assert [(c.id, c.status) for c in listed.campaigns] == [(campaign.id, M.CAMPAIGN_STATUS_DRAFT)]


async def test_R30_only_owners_and_managers_send_and_bad_input_changes_nothing(
    s: Service,
) -> None:
    org, est = _id(), _id()
    staff = metadata(org, est, user_id="u-staff", role=Role.STAFF)
    await _client(s, staff, "Ann", email="ann@example.com")
    campaign = await _campaign(s, staff)  # staff may prepare a draft

    error = await _error(
        s.marketing.SendCampaign(M.SendCampaignRequest(id=campaign.id), metadata=staff)
    )
    assert error.code is ErrorCode.FORBIDDEN
    org_wide = {"name": "x", "body": "b", "audience": ORGANIZATION}
    for fields, fieldname in (
        ({**org_wide, "channel": EMAIL}, "subject"),
        ({**org_wide, "channel": SMS, "subject": "s"}, "subject"),
        ({**org_wide, "channel": SMS, "name": " "}, "name"),
        (org_wide, "channel"),
        ({**org_wide, "channel": SMS, "audience": 0}, "audience"),
        ({**org_wide, "channel": SMS, "body": "b" * 1601}, "body"),
        ({**org_wide, "channel": EMAIL, "subject": "two\nlines"}, "subject"),
    ):
        request = M.CreateCampaignRequest(**fields)
        error = await _error(s.marketing.CreateCampaign(request, metadata=staff))
        assert (error.code, error.field) == (ErrorCode.INVALID, fieldname), request

    listed = await s.marketing.ListCampaigns(M.ListCampaignsRequest(), metadata=staff)
    assert [(c.id, c.status) for c in listed.campaigns] == [(campaign.id, M.CAMPAIGN_STATUS_DRAFT)]
    async with s.db.read(organization_id=org) as conn:
        assert (
            await conn.execute(
                select(func.count()).where(campaign_messages.c.organization_id == org)
            )
        ).scalar_one() == 0


# -- sending once -------------------------------------------------------------------------


async def test_R30_racing_send_calls_send_the_campaign_once(s: Service) -> None:
    org, est = _id(), _id()
    md = _manager(org, est)
    people = [await _client(s, md, f"P{i}", email=f"p{i}@example.com") for i in range(6)]
    campaign = await _campaign(s, md)

    answers = await asyncio.gather(
        *(
            s.marketing.SendCampaign(M.SendCampaignRequest(id=campaign.id), metadata=md)
            for _ in range(8)
        )
    )
    assert {a.id for a in answers} == {campaign.id}
    assert all(a.status != M.CAMPAIGN_STATUS_DRAFT for a in answers)
    await _until_sent(s, md, campaign.id)
    again = await s.marketing.SendCampaign(M.SendCampaignRequest(id=campaign.id), metadata=md)
    assert again.status == M.CAMPAIGN_STATUS_SENT and again.counts.sent == len(people)

    messages = await _messages(s, md, campaign.id)
    assert set(messages) == {p.id for p in people}
    assert {_status(m) for m in messages.values()} == {"SENT"}
    mails = [p for p in _files(s.mailbox, ".eml") if p.name.startswith("campaign-")]
    expected = sorted(f"campaign-{m.id}.eml" for m in messages.values())
    assert sorted(p.name for p in mails) == expected
    async with s.db.read(organization_id=org) as conn:
        events = (
            await conn.execute(
                select(outbox.c.type, outbox.c.payload).where(outbox.c.organization_id == org)
            )
        ).all()
    sent_events = [e for e in events if e.type == "salon.clients.campaign.sent.v1"]
    assert len(sent_events) == 1
    assert [e.type for e in events].count("salon.clients.campaign.created.v1") == 1
    event = events_pb2.CampaignSent.FromString(sent_events[0].payload)
    assert (event.campaign.id, event.campaign.counts.pending) == (campaign.id, len(people))


async def test_R30_two_senders_on_one_queue_send_each_message_once(
    database_url: str, nats_server: NatsServer, tmp_path: Path, env: Env
) -> None:
    """Replicas share the queue: every message is claimed by one sender only."""
    env()
    async for s in _start(database_url, nats_server.url, tmp_path):
        org, est = _id(), _id()
        md = _manager(org, est)
        for i in range(12):
            await _client(s, md, f"P{i}", email=f"p{i}@example.com")

        # Two more senders beside the process's own, each with a slow transport.
        class Slow:
            def __init__(self) -> None:
                self.sent: list[str] = []

            async def send(self, mail: EmailMessage, name: str) -> None:
                await asyncio.sleep(0.02)
                self.sent.append(name)

        ctx = ServiceContext(
            "clients",
            ServiceSettings(database_url=database_url, scope_secret="s" * 40),
            s.db,
            outbox,
            processed_events,
        )
        settings = MarketingSettings(mail_poll_seconds=0.01, mailbox_dir=tmp_path / "other")
        transports = [Slow(), Slow()]
        senders = [CampaignSender(ctx, settings, transport=t) for t in transports]
        for sender in senders:
            sender.start()
        try:
            campaign = await _campaign(s, md)
            await s.marketing.SendCampaign(M.SendCampaignRequest(id=campaign.id), metadata=md)
            await _until_sent(s, md, campaign.id)
        finally:
            await asyncio.gather(*(sender.stop() for sender in senders))
        messages = await _messages(s, md, campaign.id)
        by_process = [p.name for p in _files(s.mailbox, ".eml")]
        names = [n for t in transports for n in t.sent]
        names += [p.removesuffix(".eml") for p in by_process]
        assert sum(len(t.sent) for t in transports) > 0  # the other senders did take some
        assert sorted(names) == sorted(f"campaign-{m.id}" for m in messages.values())
        assert {_status(m) for m in messages.values()} == {"SENT"}


# -- delivery -------------------------------------------------------------------------------


async def test_R30_mails_go_to_the_smtp_server_and_a_refused_one_fails(
    sqlite_url: str,
    nats_server: NatsServer,
    tmp_path: Path,
    env: Env,
    smtp: tuple[int, Inbox],
) -> None:
    port, inbox = smtp
    inbox.refuse.add("gone@example.com")
    env(smtp_host="127.0.0.1", smtp_port=port)
    async for s in _start(sqlite_url, nats_server.url, tmp_path):
        org, est = _id(), _id()
        md = _manager(org, est)
        ann = await _client(s, md, "Ann", email="ann@example.com")
        gone = await _client(s, md, "Gus", email="gone@example.com")
        campaign = await _campaign(s, md)
        await s.marketing.SendCampaign(M.SendCampaignRequest(id=campaign.id), metadata=md)
        await _until_sent(s, md, campaign.id)

        messages = await _messages(s, md, campaign.id)
        assert (_status(messages[ann.id]), messages[ann.id].attempts) == ("SENT", 0)
        assert _status(messages[gone.id]) == "FAILED"
        assert messages[gone.id].reason.startswith("refused: 550")
        assert [str(m["To"]) for m in inbox.received] == ["ann@example.com"]
        assert inbox.received[0]["Subject"] == "Spring offer for Ann"
        assert _files(s.mailbox, ".eml") == []  # SMTP configured: nothing in the folder


async def test_R30_sms_are_written_to_the_sms_folder(s: Service) -> None:
    org, est = _id(), _id()
    md = _manager(org, est)
    ann = await _client(s, md, "Ann", phone="0470 12 34 56")
    bob = await _client(s, md, "Bob", phone="+32470999999", marketing_sms_opt_out=True)
    cas = await _client(s, md, "Cas", email="cas@example.com")  # no phone
    campaign = await _campaign(s, md, channel=SMS)
    assert campaign.subject == "" and campaign.channel == SMS
    await s.marketing.SendCampaign(M.SendCampaignRequest(id=campaign.id), metadata=md)
    await _until_sent(s, md, campaign.id)

    messages = await _messages(s, md, campaign.id)
    assert {c: (_status(m), m.address) for c, m in messages.items()} == {
        ann.id: ("SENT", "+32470123456"),
        bob.id: ("SKIPPED", ""),
        cas.id: ("SKIPPED", ""),
    }
    assert messages[bob.id].reason == "the client declined marketing SMS"
    assert messages[cas.id].reason == "the client has no phone number"
    files = _files(s.sms_dir, ".json")
    assert [p.name for p in files] == [f"{messages[ann.id].id}.json"]
    assert json.loads(files[0].read_bytes()) == {
        "id": messages[ann.id].id,
        "from": "Salon",
        "to": "+32470123456",
        "text": "Hello Ann, 20% off colour in April.",
    }


async def test_R30_sms_are_posted_to_the_http_sender_retried_and_refused(
    sqlite_url: str,
    nats_server: NatsServer,
    tmp_path: Path,
    env: Env,
    sms_endpoint: SmsEndpoint,
) -> None:
    sms_endpoint.flaky.add("+32470111111")  # 503 once, then taken
    sms_endpoint.invalid.add("+32470222222")  # 400: refused for good
    env(sms_url=sms_endpoint.url)
    async for s in _start(sqlite_url, nats_server.url, tmp_path):
        org, est = _id(), _id()
        md = _manager(org, est)
        ann = await _client(s, md, "Ann", phone="+32470123456")
        flaky = await _client(s, md, "Fia", phone="+32470111111")
        invalid = await _client(s, md, "Ivo", phone="+32470222222")
        campaign = await _campaign(s, md, channel=SMS)
        await s.marketing.SendCampaign(M.SendCampaignRequest(id=campaign.id), metadata=md)
        await _until_sent(s, md, campaign.id)  # the retry comes after 2 seconds

        messages = await _messages(s, md, campaign.id)
        assert (_status(messages[ann.id]), messages[ann.id].attempts) == ("SENT", 0)
        assert (_status(messages[flaky.id]), messages[flaky.id].attempts) == ("SENT", 1)
        assert _status(messages[invalid.id]) == "FAILED"
        assert messages[invalid.id].reason.startswith("refused: HTTP 400")
        with sms_endpoint.lock:
            received = list(sms_endpoint.received)
        assert sorted(body["to"] for body, _h in received) == sorted(
            ["+32470123456", "+32470111111", "+32470111111", "+32470222222"]
        )
        body, headers = next(r for r in received if r[0]["to"] == "+32470123456")
        assert body == {
            "id": messages[ann.id].id,
            "from": "Salon",
            "to": "+32470123456",
            "text": "Hello Ann, 20% off colour in April.",
        }
        assert headers["Authorization"] == "Bearer sms-secret"
        assert headers["Idempotency-Key"] == messages[ann.id].id
        assert _files(s.sms_dir, ".json") == []  # the HTTP sender: nothing in the folder


async def test_R30_erasing_a_client_drops_the_address_of_their_campaign_messages(
    s: Service,
) -> None:
    """B11 meets R30: the export lists the client's campaign messages; after the erasure
    no address of theirs stays in a campaign's record."""
    org, est = _id(), _id()
    md, owner = _manager(org, est), _owner(org, est)
    ann = await _client(s, md, "Ann", email="ann@example.com")
    campaign = await _campaign(s, md)
    await s.marketing.SendCampaign(M.SendCampaignRequest(id=campaign.id), metadata=md)
    await _until_sent(s, md, campaign.id)

    export = await s.clients.ExportClientData(
        privacy_pb2.ExportClientDataRequest(client_id=ann.id), metadata=owner, timeout=5
    )
    data = json.loads(export.json)
    assert data["client"]["marketingEmailOptOut"] is False
    assert [(m["campaignId"], m["address"], m["status"]) for m in data["campaignMessages"]] == [
        (campaign.id, "ann@example.com", "SENT")
    ]

    await s.clients.EraseClient(clients_pb2.EraseClientRequest(id=ann.id), metadata=owner)

    message = (await _messages(s, md, campaign.id))[ann.id]
    assert (_status(message), message.address) == ("SENT", "")
    after = json.loads(
        (
            await s.clients.ExportClientData(
                privacy_pb2.ExportClientDataRequest(client_id=ann.id), metadata=owner
            )
        ).json
    )
    assert after["campaignMessages"][0]["address"] is None
    assert "ann@example.com" not in json.dumps(after)


async def test_R30_a_client_erased_while_their_mail_is_on_its_way_keeps_no_address(
    database_url: str,
) -> None:
    """The store alone: the message is claimed, the client is erased, then the server takes
    the mail. It was sent, but the address is not written back."""
    db = Database(database_url)
    try:
        await migrations.upgrade(db, CLIENTS.migrations)
        org, est = _id(), _id()
        async with db.write(organization_id=org) as conn:
            ann = await repository.create(
                conn, org, est, check_new("Ann", "Test", "ann@example.com", None)
            )
            campaign = await store.create_campaign(
                conn,
                org,
                est,
                "u",
                marketing.check_new("Spring", Channel.EMAIL, "Hi", "Hello", Audience.ORGANIZATION),
            )
            await store.send_campaign(conn, org, est, campaign.id)
        async with db.write(across_organizations=True) as conn:
            claimed = await store.claim_next(conn, utcnow(), CLAIM)
        assert claimed is not None and claimed[1] == org
        message_id = claimed[0]
        async with db.write(organization_id=org) as conn:
            await repository.erase(conn, org, ann.id)
            await store.forget_client(conn, org, ann.id)
        async with db.write(organization_id=org) as conn:
            await store.mark_sent(conn, message_id, "ann@example.com")
        async with db.read(organization_id=org) as conn:
            page = await store.list_messages(conn, org, est, campaign.id, 10, None)
            (done,) = await store.get_campaigns(conn, org, est, [campaign.id])
        (message,) = page.messages
        assert (message.status, message.address, message.reason) == (
            MessageStatus.SENT,
            None,
            marketing.ERASED,
        )
        assert done.status is CampaignStatus.SENT
    finally:
        await db.dispose()
