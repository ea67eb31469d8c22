"""Dev-mode views: the carrier's REST API inside the app, and a console to play caller and volunteer.

Mounted only when settings.TELEPHONY_EMULATOR_ENABLED (llamenos/urls.py; production forces it off).
The REST API is public and authenticates like the real carriers (Basic auth against the provider
accounts). The console stands in for the public phone network, so it can place calls to the
hotline and answer volunteers' phones: only a logged-in admin may use it. Every view re-checks the
setting and answers 404 if the mount was ever included elsewhere.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from llamenos.access import admin_required, public

from .dev import dev_carrier
from .rest import rest_handle

DEV_ONLY = "dev-only carrier emulator (mounted only when TELEPHONY_EMULATOR_ENABLED)"
KEYS = "123456789*0#"
# A caller's answer in one go (the CAPTCHA's digits, an extension); real keypads send no more.
MAX_KEYS = 32


def _guard() -> None:
    if not settings.TELEPHONY_EMULATOR_ENABLED:
        raise Http404("The carrier emulator is off.")


@public(DEV_ONLY + "; the SDKs' Basic auth is checked like the real API")
@csrf_exempt
def rest(request, path: str):
    _guard()
    result = rest_handle(
        dev_carrier(),
        method=request.method,
        path="/" + path,
        query=request.META.get("QUERY_STRING", ""),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=request.body,
    )
    response = HttpResponse(result.body, status=result.status, content_type=result.content_type)
    return response


def _keys(raw: str) -> str:
    """The keys typed on the console (one button, or several in the keys field); "" when any is not a
    phone key."""
    keys = raw.replace(" ", "")
    return keys if 0 < len(keys) <= MAX_KEYS and all(key in KEYS for key in keys) else ""


def _state(request, *, notice: str = ""):
    carrier = dev_carrier()
    calls = list(reversed(carrier.calls))[:12]
    ringing = [(phone, call) for phone in carrier.phones for call in phone.ringing]
    return render(
        request,
        "telephony/emulator/_state.html",
        {
            "calls": calls,
            "ringing": ringing,
            "keys": KEYS,
            "notice": notice,
            "messages_sent": list(reversed(carrier.messages))[:5],
        },
    )


@admin_required
def console(request):
    _guard()
    carrier = dev_carrier()
    return render(request, "telephony/emulator/console.html", {"accounts": carrier.accounts})


@admin_required
def state(request):
    _guard()
    return _state(request)


@admin_required
@require_POST
def dial(request):
    _guard()
    carrier = dev_carrier()
    key = request.POST.get("account", "")
    account = next((a for a in carrier.accounts if f"{a.provider}:{a.account_id}" == key), None)
    caller = request.POST.get("from_number", "").strip()
    if account is None:
        return _state(request, notice="Pick a provider account to call.")
    if not carrier.valid_number(caller):
        return _state(request, notice="The caller number must be in E.164 form, like +15551230000.")
    carrier.place_call(account.provider, from_=caller, account=account)
    return _state(request, notice=f"Calling {account.hotline_number} via {account.provider}.")


@admin_required
@require_POST
def call_action(request, sid: str):
    _guard()
    call = dev_carrier().call(sid)
    if call is None or call.is_final:
        return _state(request, notice="That call has ended.")
    action = request.POST.get("action", "")
    keys = _keys(request.POST.get("digits", ""))
    if action == "press" and not keys:
        return _state(request, notice=f"Type phone keys only (0-9, * and #), at most {MAX_KEYS}.")
    try:
        if action == "press":
            call.press(keys, timeout=1)
        elif action == "no_input":
            call.no_input(timeout=1)
        elif action == "record":
            call.record(int(request.POST.get("seconds", "0") or 0), timeout=1)
        elif action == "advance_hold":
            call.advance_hold(60, timeout=2)
        elif action == "hangup":
            call.hangup()
        else:
            return _state(request, notice="Unknown action.")
    except (TimeoutError, ValueError):
        return _state(request, notice="The call is not listening for that right now.")
    return _state(request)


@admin_required
@require_POST
def phone_action(request):
    _guard()
    carrier = dev_carrier()
    call = carrier.call(request.POST.get("sid", ""))
    if call is None or call.phone is None or call.state != "ringing":
        return _state(request, notice="That phone is not ringing any more.")
    action = request.POST.get("action", "")
    events = {
        "answer": ("answer", {"machine": False}),
        "machine": ("answer", {"machine": True}),
        "reject": ("reject", {}),
        "time_out": ("time_out", {}),
    }
    if action not in events:
        return _state(request, notice="Unknown action.")
    kind, data = events[action]
    call._push(kind, **data)
    return _state(request)
