"""REST calls through the real SDKs, over loopback HTTP, against the carrier emulator."""

from __future__ import annotations

import base64

import jwt
import pytest

from telephony.emulator import Account, Carrier
from telephony.models import ProviderAccount
from telephony.providers import ProviderError, provider_for
from telephony.providers.errors import rewrite_base

from .conftest import PLIVO_ID, PLIVO_NUMBER, PLIVO_TOKEN, TWILIO_NUMBER, TWILIO_SID, TWILIO_TOKEN

pytestmark = pytest.mark.django_db

VOLUNTEER = "+15557654321"
API_KEY_SID = "SK" + "c" * 32
API_KEY_SECRET = "api-key-secret-at-least-32-characters-long"


@pytest.fixture
def carrier(settings):
    accounts = [
        Account("twilio", TWILIO_SID, TWILIO_TOKEN, TWILIO_NUMBER, friendly_name="Hotline Twilio"),
        Account("plivo", PLIVO_ID, PLIVO_TOKEN, PLIVO_NUMBER, friendly_name="Hotline Plivo"),
    ]
    # Webhooks from legs go to a closed port unless a test gives a live server.
    with Carrier("http://127.0.0.1:9", settings.PUBLIC_BASE_URL, accounts, webhook_timeout=2) as running:
        settings.TWILIO_API_BASE_URL = running.twilio_api_base_url
        settings.PLIVO_API_BASE_URL = running.plivo_api_base_url
        yield running


@pytest.fixture
def twilio(twilio_account):
    return provider_for(twilio_account)


@pytest.fixture
def plivo(plivo_account):
    return provider_for(plivo_account)


@pytest.fixture
def live_carrier(carrier, live_server):
    """Legs answered on the emulator fetch their answer URL from a live test app."""
    carrier.app_base_url = live_server.url
    carrier.public_base_url = live_server.url
    return carrier


def last(carrier, method, fragment):
    matching = [r for r in carrier.requests if r.method == method and fragment in r.path]
    assert matching, f"no {method} request with {fragment!r} in {[r.path for r in carrier.requests]}"
    return matching[-1]


def auth_user(request_record) -> str:
    return request_record.account_id


# --- base URL rewriting ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (
            "https://api.twilio.com/2010-04-01/Accounts/AC1.json",
            "",
            "https://api.twilio.com/2010-04-01/Accounts/AC1.json",
        ),
        (
            "https://api.twilio.com/2010-04-01/Calls.json?x=1",
            "http://127.0.0.1:5000",
            "http://127.0.0.1:5000/2010-04-01/Calls.json?x=1",
        ),
        (
            "https://api.plivo.com/v1/Account/MA1/",
            "http://127.0.0.1:8000/dev/emulator",
            "http://127.0.0.1:8000/dev/emulator/v1/Account/MA1/",
        ),
        (
            "https://api.plivo.com/v1/Account/MA1/",
            "http://127.0.0.1:8000/dev/emulator/",
            "http://127.0.0.1:8000/dev/emulator/v1/Account/MA1/",
        ),
    ],
)
def test_rewrite_base(url, base, expected):
    assert rewrite_base(url, base) == expected


# --- Twilio ------------------------------------------------------------------------------------
def test_twilio_check_credentials(carrier, twilio):
    assert twilio.check_credentials() == "Hotline Twilio"
    record = last(carrier, "GET", f"/2010-04-01/Accounts/{TWILIO_SID}.json")
    assert record.auth_ok


def test_twilio_wrong_token_is_a_permanent_auth_error(carrier, twilio):
    twilio.account.auth_token = "wrong-token-0000000000000000000000"
    with pytest.raises(ProviderError) as caught:
        twilio.check_credentials()
    assert caught.value.permanent and caught.value.status == 401
    assert "wrong-token" not in caught.value.message
    assert not carrier.requests[-1].auth_ok


def test_twilio_start_leg_sends_what_the_flow_asked(carrier, twilio):
    sid = twilio.start_leg(
        to=VOLUNTEER,
        from_=TWILIO_NUMBER,
        answer_url="https://hotline.example.org/telephony/leg/5/answer",
        status_url="https://hotline.example.org/telephony/leg/5/status",
        ring_timeout_seconds=25,
    )
    assert sid.startswith("CA") and len(sid) == 34
    form = last(carrier, "POST", "/Calls.json").form
    assert form["To"] == VOLUNTEER and form["From"] == TWILIO_NUMBER
    assert form["Url"] == "https://hotline.example.org/telephony/leg/5/answer"
    assert form["Method"] == "POST"
    assert form["StatusCallback"] == "https://hotline.example.org/telephony/leg/5/status"
    assert form["StatusCallbackMethod"] == "POST"
    assert sorted(form["StatusCallbackEvent"]) == ["completed", "ringing"]
    assert form["Timeout"] == "25"
    assert form["MachineDetection"] == "Enable"
    assert last(carrier, "POST", "/Calls.json").auth_ok
    assert carrier.phone(VOLUNTEER).wait_ringing().sid == sid


def test_twilio_start_leg_without_machine_detection(carrier, twilio):
    twilio.start_leg(
        to=VOLUNTEER,
        from_=TWILIO_NUMBER,
        answer_url="https://h.example/a",
        status_url="https://h.example/s",
        ring_timeout_seconds=20,
        machine_detection=False,
    )
    assert "MachineDetection" not in last(carrier, "POST", "/Calls.json").form


@pytest.mark.parametrize(
    ("status", "body", "permanent", "code"),
    [
        (
            400,
            {
                "code": 21211,
                "message": "The 'To' number +15557654321 is not a valid phone number.",
                "status": 400,
            },
            True,
            21211,
        ),
        (
            400,
            {"code": 21612, "message": "The 'To' phone number is not currently reachable", "status": 400},
            True,
            21612,
        ),
        (401, None, True, 20003),
        (429, None, False, 20429),
        (503, None, False, 20503),
        (500, None, False, 20500),
    ],
)
def test_twilio_errors_are_classified(carrier, twilio, status, body, permanent, code):
    carrier.fail_next("POST", r"/Calls\.json$", status, body)
    with pytest.raises(ProviderError) as caught:
        twilio.start_leg(
            to=VOLUNTEER,
            from_=TWILIO_NUMBER,
            answer_url="https://h.example/a",
            status_url="https://h.example/s",
            ring_timeout_seconds=20,
        )
    error = caught.value
    assert (error.permanent, error.status, error.code) == (permanent, status, code)
    assert error.retryable is not permanent
    assert "5557654321" not in error.message  # numbers are scrubbed from provider messages


def test_twilio_network_error_and_timeout_are_retryable(carrier, twilio, settings):
    settings.PROVIDER_HTTP_TIMEOUT = 0.3
    carrier.fail_next("GET", r"/Accounts/", status=None, delay_seconds=2)
    with pytest.raises(ProviderError) as caught:
        twilio.check_credentials()
    assert not caught.value.permanent and "network error" in caught.value.message
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"
    twilio = type(twilio)(twilio.account)  # clients are kept per instance; settings are read anew
    with pytest.raises(ProviderError) as caught:
        twilio.check_credentials()
    assert not caught.value.permanent


def test_twilio_end_leg_cancels_a_ringing_leg(carrier, twilio):
    sid = twilio.start_leg(
        to=VOLUNTEER,
        from_=TWILIO_NUMBER,
        answer_url="https://h.example/a",
        status_url="https://h.example/s",
        ring_timeout_seconds=20,
    )
    leg = carrier.phone(VOLUNTEER).wait_ringing()
    twilio.end_leg(sid)
    updates = [
        r.form for r in carrier.requests if r.method == "POST" and r.path.endswith(f"/Calls/{sid}.json")
    ]
    # Twilio's answer already says "canceled": no second update to hang it up.
    assert updates == [{"Status": "canceled"}]
    leg.wait_for_state("canceled")


@pytest.mark.urls("tests.telephony.rest_urls")
def test_twilio_end_leg_hangs_up_an_answered_leg_and_transfer_redirects(live_carrier, twilio, live_server):
    sid = twilio.start_leg(
        to=VOLUNTEER,
        from_=TWILIO_NUMBER,
        answer_url=f"{live_server.url}/answer/twilio",
        status_url=f"{live_server.url}/status",
        ring_timeout_seconds=20,
    )
    leg = live_carrier.phone(VOLUNTEER).answer()
    leg.wait_for_gather()
    twilio.transfer(sid, f"{live_server.url}/answer/twilio?again=1")
    form = last(live_carrier, "POST", f"/Calls/{sid}.json").form
    assert form == {"Url": f"{live_server.url}/answer/twilio?again=1", "Method": "POST"}
    live_carrier.wait_for_webhook(path="/answer/twilio?again=1")
    twilio.end_leg(sid)
    statuses = [r.form.get("Status") for r in live_carrier.requests if r.path.endswith(f"/Calls/{sid}.json")]
    assert statuses[-2:] == ["canceled", "completed"]
    leg.wait_for_state("completed")
    twilio.end_leg(sid)  # already over: nothing to do, no error


def test_twilio_end_leg_of_an_unknown_call_is_quiet(carrier, twilio):
    twilio.end_leg("CA" + "0" * 32)


def test_twilio_send_sms(carrier, twilio):
    sid = twilio.send_sms(
        to=VOLUNTEER,
        from_=TWILIO_NUMBER,
        body="A caller is waiting",
        status_url="https://h.example/sms/status",
    )
    assert sid.startswith("SM")
    form = last(carrier, "POST", "/Messages.json").form
    assert (form["To"], form["From"], form["Body"], form["StatusCallback"]) == (
        VOLUNTEER,
        TWILIO_NUMBER,
        "A caller is waiting",
        "https://h.example/sms/status",
    )


def test_twilio_softphone_token(twilio):
    with pytest.raises(ProviderError):
        twilio.softphone_token("volunteer-3")
    account = twilio.account
    account.api_key_sid, account.api_key_secret, account.twiml_app_sid = (
        API_KEY_SID,
        API_KEY_SECRET,
        "AP" + "d" * 32,
    )
    claims = jwt.decode(twilio.softphone_token("volunteer-3"), API_KEY_SECRET, algorithms=["HS256"])
    assert claims["iss"] == API_KEY_SID and claims["sub"] == TWILIO_SID
    assert claims["grants"]["identity"] == "volunteer-3"
    assert claims["grants"]["voice"] == {
        "incoming": {"allow": True},
        "outgoing": {"application_sid": "AP" + "d" * 32},
    }


# --- Plivo -------------------------------------------------------------------------------------
def test_plivo_check_credentials(carrier, plivo):
    assert plivo.check_credentials() == "Hotline Plivo"
    record = last(carrier, "GET", f"/v1/Account/{PLIVO_ID}/")
    assert record.auth_ok


def test_plivo_wrong_token_is_a_permanent_auth_error(carrier, plivo):
    plivo.account.auth_token = "wrong-token-0000000000000000000000"
    with pytest.raises(ProviderError) as caught:
        plivo.check_credentials()
    assert caught.value.permanent and caught.value.status == 401
    assert "wrong-token" not in caught.value.message


def test_plivo_malformed_auth_id_is_permanent(carrier, plivo):
    plivo.account.account_id = "someone@example.org"
    with pytest.raises(ProviderError) as caught:
        plivo.check_credentials()
    assert caught.value.permanent
    assert carrier.requests == []


def test_plivo_start_leg_sends_what_the_flow_asked(carrier, plivo):
    request_uuid = plivo.start_leg(
        to=VOLUNTEER,
        from_=PLIVO_NUMBER,
        answer_url="https://hotline.example.org/telephony/leg/6/answer",
        status_url="https://hotline.example.org/telephony/leg/6/status",
        ring_timeout_seconds=25,
    )
    record = last(carrier, "POST", f"/v1/Account/{PLIVO_ID}/Call/")
    body = record.json
    assert record.auth_ok
    assert body["to"] == VOLUNTEER.removeprefix("+") and body["from"] == PLIVO_NUMBER.removeprefix("+")
    assert body["answer_url"] == "https://hotline.example.org/telephony/leg/6/answer"
    assert body["answer_method"] == "POST"
    assert body["hangup_url"] == "https://hotline.example.org/telephony/leg/6/status"
    assert body["ring_url"] == "https://hotline.example.org/telephony/leg/6/status"
    assert body["ring_timeout"] == 25
    assert body["machine_detection"] == "true"
    assert "machine_detection_url" not in body  # synchronous: Machine= comes with the answer URL
    assert carrier.phone(VOLUNTEER).wait_ringing().request_uuid == request_uuid


@pytest.mark.parametrize(
    ("status", "body", "permanent"),
    [
        (400, {"api_id": "x", "error": "invalid destination number 15557654321"}, True),
        (401, None, True),
        (404, None, True),
        (429, None, False),
        (503, None, False),
        (500, None, False),
    ],
)
def test_plivo_errors_are_classified(carrier, plivo, status, body, permanent):
    carrier.fail_next("POST", r"/Call/$", status, body)
    with pytest.raises(ProviderError) as caught:
        plivo.start_leg(
            to=VOLUNTEER,
            from_=PLIVO_NUMBER,
            answer_url="https://h.example/a",
            status_url="https://h.example/s",
            ring_timeout_seconds=20,
        )
    assert (caught.value.permanent, caught.value.status) == (permanent, status)
    assert "5557654321" not in caught.value.message
    # The SDK's own silent retries on 5xx are cut off: retrying is the caller's decision.
    assert len([r for r in carrier.requests if r.path.endswith("/Call/")]) == 1


def test_plivo_network_error_is_retryable(carrier, plivo, settings):
    settings.PLIVO_API_BASE_URL = "http://127.0.0.1:9"
    with pytest.raises(ProviderError) as caught:
        plivo.check_credentials()
    assert not caught.value.permanent


def _plivo_ringing_leg(carrier, plivo):
    request_uuid = plivo.start_leg(
        to=VOLUNTEER,
        from_=PLIVO_NUMBER,
        answer_url="https://h.example/a",
        status_url="https://h.example/s",
        ring_timeout_seconds=20,
    )
    return request_uuid, carrier.phone(VOLUNTEER).wait_ringing()


def test_plivo_end_leg_cancels_a_ringing_leg(carrier, plivo):
    request_uuid, leg = _plivo_ringing_leg(carrier, plivo)
    plivo.end_leg(request_uuid)
    assert last(carrier, "DELETE", f"/Request/{request_uuid}/").status == 204
    leg.wait_for_state("canceled")


def test_plivo_end_leg_known_ringing_cancels_in_one_request(carrier, plivo):
    request_uuid, leg = _plivo_ringing_leg(carrier, plivo)
    plivo.end_leg(leg.sid, request_id=request_uuid, ringing=True)
    leg.wait_for_state("canceled")
    ends = [r for r in carrier.requests if r.method == "DELETE"]
    assert [r.path.rsplit("/", 3)[-3:] for r in ends] == [["Request", request_uuid, ""]]


@pytest.mark.urls("tests.telephony.rest_urls")
@pytest.mark.parametrize("last_known_ringing", [False, True])  # True: answered since, hung up all the same
def test_plivo_answered_leg_transfer_and_hangup(live_carrier, plivo, live_server, last_known_ringing):
    request_uuid = plivo.start_leg(
        to=VOLUNTEER,
        from_=PLIVO_NUMBER,
        answer_url=f"{live_server.url}/answer/plivo",
        status_url=f"{live_server.url}/status",
        ring_timeout_seconds=20,
    )
    leg = live_carrier.phone(VOLUNTEER).answer()
    leg.wait_for_gather()
    assert leg.sid != request_uuid  # the CallUUID the webhooks carry is not the request id
    plivo.transfer(leg.sid, f"{live_server.url}/answer/plivo?again=1")
    body = last(live_carrier, "POST", f"/Call/{leg.sid}/").json
    assert body["legs"] == "aleg" and body["aleg_url"] == f"{live_server.url}/answer/plivo?again=1"
    assert body["aleg_method"] == "POST"
    live_carrier.wait_for_webhook(path="/answer/plivo?again=1")
    plivo.end_leg(leg.sid, request_id=request_uuid, ringing=last_known_ringing)
    assert last(live_carrier, "DELETE", f"/Call/{leg.sid}/").status == 204
    leg.wait_for_state("completed")
    plivo.end_leg(leg.sid, request_id=request_uuid)  # already over: quiet


def test_plivo_send_sms(carrier, plivo):
    uuid = plivo.send_sms(
        to=VOLUNTEER, from_=PLIVO_NUMBER, body="A caller is waiting", status_url="https://h.example/s"
    )
    assert uuid
    body = last(carrier, "POST", "/Message/").json
    assert (body["src"], body["dst"], body["text"], body["url"]) == (
        PLIVO_NUMBER.removeprefix("+"),
        VOLUNTEER.removeprefix("+"),
        "A caller is waiting",
        "https://h.example/s",
    )


def test_plivo_softphone_token_comes_from_the_rest_api(carrier, plivo):
    plivo.account.plivo_app_id = "12345678901234567"
    token = plivo.softphone_token("volunteer3")
    assert token
    body = last(carrier, "POST", "/JWT/Token/").json
    assert body["iss"] == PLIVO_ID and body["sub"] == "volunteer3" and body["app"] == "12345678901234567"
    assert body["per"] == {"voice": {"incoming_allow": True, "outgoing_allow": True}}
    assert int(body["exp"]) - int(body["nbf"]) == 3600


# --- Test connection button, end to end ------------------------------------------------------
def test_test_connection_button(carrier, admin_client, twilio_account, plivo_account):
    from django.urls import reverse

    for account, name in ((twilio_account, "Hotline Twilio"), (plivo_account, "Hotline Plivo")):
        response = admin_client.post(reverse("telephony_account_check", args=[account.pk]), follow=True)
        body = response.content.decode()
        assert f"works: account “{name}”" in body
        assert account.auth_token not in body

    ProviderAccount.objects.filter(pk=twilio_account.pk).update(auth_token="")  # keep the column valid
    twilio_account.auth_token = "rotated-elsewhere-000000000000000"
    twilio_account.save()
    response = admin_client.post(reverse("telephony_account_check", args=[twilio_account.pk]), follow=True)
    body = response.content.decode()
    assert "Connection to Twilio failed: twilio: HTTP 401" in body
    assert "rotated-elsewhere" not in body
    assert base64.b64encode(f"{TWILIO_SID}:rotated-elsewhere-000000000000000".encode()).decode() not in body


@pytest.mark.parametrize("provider_name", ["twilio", "plivo"])
def test_rest_clients_keep_a_connection_per_parallel_leg(provider_name, twilio_account, plivo_account):
    """The SDKs keep 6 or 10; a 50-volunteer fan-out would open (and, with TLS, handshake) the rest."""
    from telephony.providers import provider_for
    from telephony.ringing import MAX_PARALLEL_LEGS

    account = twilio_account if provider_name == "twilio" else plivo_account
    client = provider_for(account).client()
    session = client.http_client.session if provider_name == "twilio" else client.session
    for url in ("https://api.example.com/", "http://127.0.0.1:9/"):
        assert session.get_adapter(url)._pool_maxsize >= MAX_PARALLEL_LEGS >= 50
