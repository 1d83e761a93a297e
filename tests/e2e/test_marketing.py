"""Marketing campaigns (R30) end to end, through the gateway with every process running: a
campaign of Gent to the whole shared file reaches Antwerpen's clients too, skips the one who
declined, is invisible from Antwerpen, is sent once, and its mails land in the mailbox."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_till import _eventually, _ok
from tests.support.graphql import Gql, sign_up

pytestmark = pytest.mark.e2e

CREATE_EST = """mutation($input: CreateEstablishmentInput!) { createEstablishment(input: $input) {
  establishment { id } errors { code } } }"""
SWITCH = """mutation($input: SwitchEstablishmentInput!) { switchEstablishment(input: $input) {
  errors { code } } }"""
CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id marketingEmailOptOut marketingSmsOptOut } errors { field code message } } }"""
UPDATE_CLIENT = """mutation($input: UpdateClientInput!) { updateClient(input: $input) {
  client { id marketingEmailOptOut marketingSmsOptOut } errors { field code message } } }"""
CREATE_CAMPAIGN = """mutation($input: CreateCampaignInput!) { createCampaign(input: $input) {
  campaign { id name channel subject status audience establishment { id } }
  establishments { id } errors { field code message } } }"""
SEND_CAMPAIGN = """mutation($input: SendCampaignInput!) { sendCampaign(input: $input) {
  campaign { id status counts { pending sent failed skipped } }
  establishments { id } errors { field code message } } }"""
CAMPAIGN = """query($id: ID!) { campaign(id: $id) { id status sentAt
  counts { pending sent failed skipped }
  messages { id channel address status reason attempts sentAt client { id firstName } } } }"""
CAMPAIGNS = "query { campaigns { id } }"


def test_R30_a_campaign_through_the_gateway_reaches_the_shared_file_once(
    gql: Gql, mailbox_dir: Path
) -> None:
    org = sign_up(gql)
    api = org.api
    antwerpen = org.establishment_id
    gent = _ok(api(CREATE_EST, input={"name": "Gent"}), "createEstablishment")["establishment"][
        "id"
    ]

    def client(first: str, **extra: Any) -> dict[str, Any]:
        values = {"firstName": first, "lastName": "R30", **extra}
        return _ok(api(CREATE_CLIENT, input=values), "createClient")["client"]

    ann = client("Ann", email="ann.r30@example.com")
    bob = client("Bob", email="bob.r30@example.com")
    assert (bob["marketingEmailOptOut"], bob["marketingSmsOptOut"]) == (False, False)
    bob = _ok(
        api(UPDATE_CLIENT, input={"id": bob["id"], "marketingEmailOptOut": True}), "updateClient"
    )["client"]
    assert (bob["marketingEmailOptOut"], bob["marketingSmsOptOut"]) == (True, False)
    api(SWITCH, input={"establishmentId": gent})
    cleo = client("Cleo", email="cleo.r30@example.com", marketingSmsOptOut=True)
    assert cleo["marketingSmsOptOut"] is True

    # Gent's campaign to the organization's whole file (R30: the audience is shared).
    created = _ok(
        api(
            CREATE_CAMPAIGN,
            input={
                "name": "Spring",
                "channel": "EMAIL",
                "subject": "Spring at Gent, {{firstName}}",
                "body": "Hello {{firstName}}, 20% off colour in April.",
                "audience": "ORGANIZATION",
            },
        ),
        "createCampaign",
    )
    campaign = created["campaign"]
    assert created["establishments"] == [{"id": gent}]  # R07: the one it changed
    assert (campaign["status"], campaign["establishment"]["id"]) == ("DRAFT", gent)

    # Antwerpen neither sees nor sends it.
    api(SWITCH, input={"establishmentId": antwerpen})
    assert api(CAMPAIGN, id=campaign["id"])["campaign"] is None
    assert api(CAMPAIGNS)["campaigns"] == []
    refused = api(SEND_CAMPAIGN, input={"id": campaign["id"]})["sendCampaign"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("NOT_FOUND", "id")]

    api(SWITCH, input={"establishmentId": gent})
    sent = _ok(api(SEND_CAMPAIGN, input={"id": campaign["id"]}), "sendCampaign")
    assert sent["establishments"] == [{"id": gent}]
    assert sent["campaign"]["counts"]["skipped"] == 1

    def finished() -> dict[str, Any]:
        found = api(CAMPAIGN, id=campaign["id"])["campaign"]
        assert found["status"] == "SENT", found
        return dict(found)

    done = _eventually(finished)
    by_name = {m["client"]["firstName"]: m for m in done["messages"]}
    assert {n: (m["status"], m["address"], m["reason"]) for n, m in by_name.items()} == {
        "Ann": ("SENT", "ann.r30@example.com", None),
        "Cleo": ("SENT", "cleo.r30@example.com", None),
        "Bob": ("SKIPPED", None, "the client declined marketing e-mail"),
    }
    assert done["counts"] == {"pending": 0, "sent": 2, "failed": 0, "skipped": 1}
    assert {m["client"]["id"] for m in done["messages"]} == {ann["id"], bob["id"], cleo["id"]}

    # Sent once: a second sendCampaign answers the campaign as it is.
    again = _ok(api(SEND_CAMPAIGN, input={"id": campaign["id"]}), "sendCampaign")
    assert again["campaign"]["counts"] == done["counts"]

    files = {m["id"]: mailbox_dir / f"campaign-{m['id']}.eml" for m in done["messages"]}
    mails = {
        n: message_from_bytes(files[m["id"]].read_bytes(), policy=policy.default)
        for n, m in by_name.items()
        if m["status"] == "SENT"
    }
    assert not files[by_name["Bob"]["id"]].exists()
    assert mails["Ann"]["Subject"] == "Spring at Gent, Ann"
    assert "Hello Cleo, 20% off colour" in mails["Cleo"].get_content()
