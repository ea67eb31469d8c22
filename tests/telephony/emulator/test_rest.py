"""The emulator's REST API, driven by the real twilio and plivo SDKs over loopback HTTP."""

from __future__ import annotations

import re

import plivo
import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from .conftest import PLIVO_ID, PLIVO_NUMBER, TWILIO_NUMBER, TWILIO_SID, plivo_client, twilio_client

ANSWER = "https://hotline.example.org/telephony/answer?leg=1"
STATUS = "https://hotline.example.org/telephony/status?leg=1"


def test_twilio_account_fetch_and_bad_credentials(carrier):
    account = twilio_client(carrier).api.accounts(TWILIO_SID).fetch()
    assert account.friendly_name == "Emulated Twilio"
    assert account.status == "active"

    with pytest.raises(TwilioRestException) as err:
        twilio_client(carrier, token="wrong").api.accounts(TWILIO_SID).fetch()
    assert err.value.status == 401
    assert err.value.code == 20003
    last = carrier.requests[-1]
    assert (last.method, last.path, last.auth_ok, last.status) == (
        "GET",
        f"/2010-04-01/Accounts/{TWILIO_SID}.json",
        False,
        401,
    )


def test_twilio_call_create_records_the_sdk_fields(carrier):
    call = twilio_client(carrier).calls.create(
        to="+15005550100",
        from_=TWILIO_NUMBER,
        url=ANSWER,
        status_callback=STATUS,
        status_callback_event=["initiated", "ringing", "answered", "completed"],
        timeout=25,
        machine_detection="Enable",
    )
    assert re.fullmatch(r"CA[0-9a-f]{32}", call.sid)
    assert call.status == "queued"
    req = carrier.requests[-1]
    assert req.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Calls.json"
    assert req.auth_ok and req.account_id == TWILIO_SID and req.status == 201
    assert req.form["To"] == "+15005550100"
    assert req.form["From"] == TWILIO_NUMBER
    assert req.form["Url"] == ANSWER
    assert req.form["StatusCallback"] == STATUS
    assert req.form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert req.form["Timeout"] == "25"
    assert req.form["MachineDetection"] == "Enable"
    # The leg really rings the volunteer's simulated phone.
    assert carrier.phone("+15005550100").wait_ringing().sid == call.sid


def test_twilio_call_update_cancel_and_unknown_call(carrier):
    client = twilio_client(carrier)
    call = client.calls.create(to="+15005550100", from_=TWILIO_NUMBER, url=ANSWER)
    carrier.phone("+15005550100").wait_ringing()
    updated = client.calls(call.sid).update(status="canceled")
    assert updated.sid == call.sid
    assert updated.status == "canceled"  # as Twilio answers: the update's outcome, at once
    carrier.call(call.sid).wait_for_state("canceled")
    assert carrier.requests[-1].form == {"Status": "canceled"}

    with pytest.raises(TwilioRestException) as err:
        client.calls("CA" + "0" * 32).update(status="completed")
    assert err.value.status == 404


def test_twilio_invalid_number_is_21211(carrier):
    with pytest.raises(TwilioRestException) as err:
        twilio_client(carrier).calls.create(to="12", from_=TWILIO_NUMBER, url=ANSWER)
    assert (err.value.status, err.value.code) == (400, 21211)


def test_twilio_message_create(carrier):
    msg = twilio_client(carrier).messages.create(
        to="+15005550123", from_=TWILIO_NUMBER, body="hello", status_callback=STATUS
    )
    assert re.fullmatch(r"SM[0-9a-f]{32}", msg.sid)
    assert msg.status == "queued"
    req = carrier.requests[-1]
    assert req.form == {
        "To": "+15005550123",
        "From": TWILIO_NUMBER,
        "Body": "hello",
        "StatusCallback": STATUS,
    }
    assert carrier.phone("+15005550123").wait_message().body == "hello"


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (503, 20503)])
def test_twilio_fail_next(carrier, status, code):
    carrier.fail_next("POST", r"/Messages\.json$", status)
    client = twilio_client(carrier)
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to="+15005550123", from_=TWILIO_NUMBER, body="x")
    assert (err.value.status, err.value.code) == (status, code)
    # Only once: the next request goes through.
    assert client.messages.create(to="+15005550123", from_=TWILIO_NUMBER, body="x").status == "queued"


def test_fail_next_custom_body_and_times(carrier):
    carrier.fail_next(
        "POST", r"/Calls\.json$", 400, body={"code": 21211, "message": "Invalid 'To'", "status": 400}, times=2
    )
    client = twilio_client(carrier)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as err:
            client.calls.create(to="+15005550100", from_=TWILIO_NUMBER, url=ANSWER)
        assert err.value.code == 21211
    assert client.calls.create(to="+15005550100", from_=TWILIO_NUMBER, url=ANSWER).status == "queued"


def test_fail_next_delay_makes_the_client_time_out(carrier):
    carrier.fail_next("GET", r"\.json$", None, delay_seconds=1.5)
    client = twilio_client(carrier)
    client.http_client.timeout = 0.5
    with pytest.raises(requests.exceptions.Timeout):
        client.api.accounts(TWILIO_SID).fetch()


def test_plivo_account_and_bad_credentials(carrier):
    details = plivo_client(carrier).account.get()
    assert details.name == "Emulated Plivo"
    assert details.auth_id == PLIVO_ID
    with pytest.raises(plivo.exceptions.AuthenticationError):
        plivo_client(carrier, token="wrong").account.get()
    assert carrier.requests[-1].status == 401
    assert carrier.requests[-1].response["error"]


def test_plivo_call_create_hangup_and_cancel(carrier):
    client = plivo_client(carrier)
    resp = client.calls.create(
        from_=PLIVO_NUMBER.lstrip("+"),
        to_="15005550100",
        answer_url=ANSWER,
        hangup_url=STATUS,
        ring_url=STATUS + "&ring=1",
        ring_timeout=25,
        machine_detection="true",
    )
    assert resp.message == "call fired"
    req = carrier.requests[-1]
    assert req.path == f"/v1/Account/{PLIVO_ID}/Call/"
    assert req.json["to"] == "15005550100"
    assert req.json["answer_url"] == ANSWER
    assert req.json["hangup_url"] == STATUS
    assert req.json["ring_timeout"] == 25
    assert req.json["machine_detection"] == "true"

    phone = carrier.phone("+15005550100")
    phone.wait_ringing()
    # A ringing call is a "request": hangup by call uuid is not found, cancel works.
    with pytest.raises(plivo.exceptions.ResourceNotFoundError):
        client.calls.delete(resp.request_uuid)
    client.calls.cancel(resp.request_uuid)
    assert carrier.call_by_request(resp.request_uuid).wait_for_state("canceled").state == "canceled"
    assert carrier.requests[-1].method == "DELETE"
    assert carrier.requests[-1].path == f"/v1/Account/{PLIVO_ID}/Request/{resp.request_uuid}/"


def test_plivo_message_create(carrier):
    resp = plivo_client(carrier).messages.create(
        src=PLIVO_NUMBER.lstrip("+"), dst="15005550123", text="hola", url=STATUS
    )
    assert resp.message == "message(s) queued"
    assert len(resp.message_uuid) == 1
    assert carrier.requests[-1].json["dst"] == "15005550123"
    assert carrier.phone("+15005550123").wait_message().body == "hola"


def test_plivo_server_error_from_fail_next(carrier):
    carrier.fail_next("GET", rf"/v1/Account/{PLIVO_ID}/$", 500)
    with pytest.raises(plivo.exceptions.PlivoServerError):
        plivo_client(carrier).account.get()


def test_unknown_path_is_404(carrier):
    r = requests.get(carrier.base_url + "/2010-04-01/Nope.json", timeout=5)
    assert r.status_code == 404
    assert r.json()["status"] == 404
