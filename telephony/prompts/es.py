"""Prompts en español. Las claves coinciden con telephony.prompts.PROMPT_KEYS."""

VOICE_LANGUAGE = "es-US"
NAME = "Español"
# Los idiomas, nombrados en español (la persona voluntaria oye qué idioma habla quien llama).
LANGUAGE_NAMES = {"en": "inglés", "es": "español"}

PROMPTS = {
    "language_option": "Para español, marque el {digit}.",
    "greeting": "Gracias por llamar a {hotline}. Esta es una línea segura y confidencial.",
    "captcha": "Para confirmar que es una persona, marque estos números en su teclado: {digits}.",
    "captcha_retry": "Los números no coinciden. Vamos a intentarlo otra vez.",
    "captcha_failed": "Lo sentimos, no pudimos confirmar los números. Por favor, vuelva a llamar. Adiós.",
    "please_hold": "Por favor, no cuelgue. Estamos buscando a alguien que pueda hablar con usted.",
    "hold_wait": "Gracias por esperar. Alguien le atenderá lo antes posible.",
    "rate_limited": "Estamos recibiendo muchas llamadas desde este número. Inténtelo más tarde. Adiós.",
    "voicemail": (
        "En este momento no hay nadie disponible para atenderle. Deje su mensaje después del tono "
        "y marque la tecla de numeral cuando termine."
    ),
    "voicemail_thanks": "Gracias. Hemos guardado su mensaje. Adiós.",
    "voicemail_empty": "No escuchamos ningún mensaje. Llámenos cuando quiera. Adiós.",
    "unavailable": "Lo sentimos, tuvimos un problema. Por favor, vuelva a llamar en un momento. Adiós.",
    "browser_calls_unavailable": "Esta línea no permite llamar desde el navegador. Adiós.",
    "volunteer_caller_language": "Esta persona habla {caller_language}.",
    "volunteer_offer": "Hay una persona esperando en la línea {hotline}. Marque 1 para atender la llamada.",
    "volunteer_no_input": "No se marcó ninguna tecla; la llamada pasará a otra persona. Adiós.",
    "volunteer_taken": "Gracias. Otra persona voluntaria ya atendió esta llamada. Adiós.",
}
