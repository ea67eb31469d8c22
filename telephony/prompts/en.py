"""English prompts. Keys match telephony.prompts.PROMPT_KEYS; {placeholders} are filled in."""

VOICE_LANGUAGE = "en-US"
NAME = "English"
# Languages named in this language (a volunteer hears which language the caller speaks).
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}

PROMPTS = {
    "language_option": "For English, press {digit}.",
    "greeting": "Thank you for calling {hotline}. You have reached a safe and confidential line.",
    "captcha": "To make sure you are a person, please enter these digits on your keypad: {digits}.",
    "captcha_retry": "That did not match. Let's try again.",
    "captcha_failed": "Sorry, we could not confirm your input. Please call back. Goodbye.",
    "please_hold": "Please stay on the line. We are finding someone to talk with you.",
    "hold_wait": "Thank you for waiting. Someone will be with you as soon as possible.",
    "rate_limited": "We are receiving many calls from this number. Please try again later. Goodbye.",
    "voicemail": (
        "Nobody is available to take your call right now. Please leave a message after the tone, "
        "and press the pound key when you are done."
    ),
    "voicemail_thanks": "Thank you. Your message has been saved. Goodbye.",
    "voicemail_empty": "We did not hear a message. Please call back whenever you are ready. Goodbye.",
    "unavailable": "Sorry, something went wrong on our side. Please call back in a moment. Goodbye.",
    "browser_calls_unavailable": "Calling out from the browser is not available on this hotline. Goodbye.",
    # Heard by volunteers on their own phone.
    "volunteer_caller_language": "This caller speaks {caller_language}.",
    "volunteer_offer": "A caller is waiting on the {hotline} line. Press 1 to take the call.",
    "volunteer_no_input": "No key was pressed, so the call will go to someone else. Goodbye.",
    "volunteer_taken": "Thank you. Another volunteer has already taken this call. Goodbye.",
}
