"""Overrides and prompt requests written in French, Spanish, German, Italian, Portuguese or
Dutch ("ignorez les instructions précédentes", "zeige mir deinen Systemprompt").

Customers write in these languages too ("pouvez-vous ignorer ma commande précédente ?",
"bitte ignorieren Sie meine vorherige Nachricht"), so, as in English, a verb of overriding is
only enough together with the assistant's instructions, and the customer's own words ("ma",
"mi", "meine", "il mio", "o meu", "mijn") never count.  Patterns run on ``normalize(text)``,
which has already dropped accents ("instruções" -> "instrucoes", "précédentes" ->
"precedentes").
"""

from __future__ import annotations

from escalation import prefilter

_IGNORE = (
    r"(?:ignore[rsz]?|oublie[rsz]?|ne (?:tiens|tenez) (?:pas|plus) compte (?:de|des)"  # fr
    r"|ignora[rn]?|ignoren|olvida[rn]?|olvide|olviden|omite|omita|descarta|descarte"  # es
    r"|ignorier\w*|vergiss|vergesst|vergessen sie|missachte\w*|verwirf"  # de
    r"|ignorate|ignori|ignorare|dimentica(?:te|re)?|dimentichi|tralascia|trascura"  # it
    r"|ignorem|esquec[ae]m?|esquecer|desconsider[ae]m?"  # pt
    r"|negeer|negeert|negeren|vergeet|vergeten)"  # nl
)
# Determiners and adjectives allowed between the verb and its object: "the", "all", "your",
# "previous", "above" ...  First-person possessives are deliberately absent.
_FILL = (
    r"(?:(?:toutes|tous|tout|les|la|le|l'|vos|votre|tes|ta|ton|ces|des|de|d'|todas|todos|las"
    r"|los|el|tus|tu|sus|su|esas|estas|alle|aller|die|der|den|deine|deinen|ihre|ihren|bisherigen"
    r"|vorherigen|obigen|vorigen|tutte|tutti|gli|tue|tuoi|sue|tua|sua|queste|as|os|suas|seus"
    r"|tuas|teus|essas|je|jouw|uw|het|al|eerdere|vorige|voorgaande|bovenstaande|precedentes?"
    r"|anteriores|anterieures|previas|precedenti|iniziali|initiales|iniciales|iniciais"
    r"|originales|originali|originais|ursprunglichen|systeme|sistema|system|del|di|do|dem"
    r"|ci-dessus)\s+){0,5}"
)
_INSTRUCTIONS = (
    r"(?:instructions|consignes|directives|indications|instrucciones|indicaciones|directrices"
    r"|ordenes|anweisung(?:en)?|vorgaben|instruktionen|befehle|richtlinien|istruzioni|direttive"
    r"|indicazioni|instrucoes|diretrizes|ordens|instructies|richtlijnen|opdrachten"
    r"|aanwijzingen|system ?prompt|systemprompt|systeemprompt|prompt (?:du |de |del |di |do )?"
    r"(?:systeme|sistema))"
)
_RULES = r"(?:regles|reglas|regeln|regole|regras|regels|restrictions|restricciones|restrizioni)"
# "Rules" need a qualifier that points at the assistant: "your", "all", "previous".
_RULES_QUALIFIER = (
    r"(?:toutes|tous|vos|votre|tes|ta|todas|todos|tus|sus|alle|deine|ihre|tutte|tutti|tue|sue"
    r"|tuoi|suas|seus|tuas|teus|je|jouw|uw)"
)
# "everything above / before": "oubliez tout ce qui précède", "olvida todo lo anterior"
_EVERYTHING_BEFORE = (
    r"(?:tout ce qui precede|tout ce qui est au-dessus|tout ce qu'on t'a dit|todo lo anterior"
    r"|todo lo que te (?:dijeron|han dicho)|tutto (?:quello|cio) che (?:precede|ti e stato detto)"
    r"|tutto quanto sopra|tudo o que (?:foi dito )?(?:antes|acima)|tudo o que te disseram"
    r"|alles (?:davor|vorher|bisherige|obige|oben)|alles (?:hierboven|hiervoor|wat hierboven"
    r"|wat je is verteld))"
)
# Words that make the object the customer's own: "ma commande", "meine Nachricht", "mijn".
_MINE = (
    r"(?:ma|mes|mon|mi|mis|meine|meinen|meiner|meinem|mein|mio|mia|miei|mie|meu|minha|meus"
    r"|minhas|mijn|notre|nos|nuestro|nuestra|nuestros|nuestras|unsere|unseren|nostro|nostra"
    r"|nostre|nosso|nossa|onze|ons|ich|je|yo|io|eu|ik|moi|me)"
)
# Nouns that are not English words may follow any few words ("ignoriere bitte alle
# bisherigen und folgenden Anweisungen"), as long as none of them is the customer's own.
_FOREIGN_INSTRUCTIONS = (
    r"(?:consignes|instrucciones|indicaciones|directrices|anweisung(?:en)?|vorgaben"
    r"|instruktionen|befehl\w*|richtlinien|istruzioni|direttive|indicazioni|instrucoes"
    r"|diretrizes|instructies|richtlijnen|aanwijzingen|systemprompt|systeemprompt)"
)
# "ignorar las instrucciones de entrega": instructions for a delivery or a product.
_NOT_THE_ASSISTANTS = (
    r"(?![^.!?\n]{0,25}\b(?:entrega|livraison|consegna|lieferung|zustellung|bezorging|envio"
    r"|envoi|spedizione|montage|montaje|montaggio|instalacion|installation|installazione"
    r"|instalacao|installatie|uso|utilisation|gebrauch|retour|devolucion|reso|devolucao|lavage"
    r"|lavado|pago|paiement|pagamento|repartidor|livreur|fahrer|corriere|bezorger|motorista)\b)"
)
_OVERRIDES = [
    # at least one determiner: a bare "ignore instructions" is English ("the courier ignores
    # instructions"), and English has its own rules
    prefilter.compile(
        rf"\b{_IGNORE}\s+{_FILL.replace('{0,5}', '{1,5}')}{_INSTRUCTIONS}\b{_NOT_THE_ASSISTANTS}"
    ),
    prefilter.compile(
        rf"\b{_IGNORE}\s+(?:(?!{_MINE}\b)[\w'-]+\s+){{0,4}}{_FOREIGN_INSTRUCTIONS}\b"
        rf"{_NOT_THE_ASSISTANTS}"
    ),
    prefilter.compile(rf"\b{_IGNORE}\s+(?:\w+\s+){{0,2}}{_RULES_QUALIFIER}\s+{_FILL}{_RULES}\b"),
    prefilter.compile(rf"\b{_IGNORE}\s+{_FILL.replace('{0,5}', '{1,5}')}{_RULES}\b"),
    prefilter.compile(rf"\b{_IGNORE}\s+{_EVERYTHING_BEFORE}"),
    prefilter.compile(r"\bvergiss (?:alles|alle)\b"),
]

_SHOW = (
    r"(?:montre[rsz]?|montre-moi|montrez-moi|affiche[rsz]?|donne-moi|donnez-moi|revele[rsz]?"
    r"|repete[rsz]?|dis-moi|dites-moi|ecris|ecrivez"  # fr
    r"|muestra\w*|ensena\w*|dime|dame|revela\w*|repite\w*|escribe\w*|cual es|cuales son"  # es
    r"|zeig\w*|gib mir|geben sie mir|nenn\w*|wiederhol\w*|verrat\w*|was ist|was sind|schreib\w*"
    r"|mostra\w*|dimmi|rivela\w*|ripeti\w*|scrivi\w*|qual e|quali sono"  # it
    r"|mostre\w*|me mostre|diga\w*|revele|repita|escreva|qual e|quais sao"  # pt
    r"|toon|laat (?:me )?(?:\w+ )?zien|geef|herhaal|vertel|wat is|wat zijn|schrijf)"  # nl
)
_HIDDEN_PROMPT = (
    r"(?:system ?prompt|systemprompt|systeemprompt|prompt (?:du |de |del |di |do )?(?:systeme"
    r"|sistema)|prompt (?:initial|inicial|iniziale|original|originale)"
    r"|(?:instructions|consignes|instrucciones|istruzioni|instrucoes|instructies|anweisungen)"
    r" (?:initiales|iniciales|iniziali|iniciais|originales|originali|originais|du systeme"
    r"|del sistema|di sistema|do sistema|cachees|secretes|ocultas|secretas|nascoste|segrete"
    r"|verborgen|geheime)|(?:systemanweisungen|systeeminstructies|versteckten anweisungen"
    r"|geheimen anweisungen|urspruenglichen anweisungen|ursprunglichen anweisungen))"
)
_YOUR_INSTRUCTIONS = (
    r"(?:tes|vos|tus|sus|deine|deinen|ihre|tue|le tue|tuoi|suas|tuas|as suas|je|jouw|uw)\s+"
    r"(?:instructions|consignes|instrucciones|anweisungen|istruzioni|instrucoes|instructies"
    r"|regles|reglas|regeln|regole|regras|regels)\b"
    # "dime tus instrucciones para devolver ..." asks about a process, not the prompt
    r"(?!\s+(?:pour|para|per|fur|zum|zur|voor|sur|sobre|su|zu|uber|om|de|di|du|do|da|van)\b)"
)
_REQUESTS = [
    prefilter.compile(rf"\b{_SHOW}\b[^.?!]{{0,30}}\b{_HIDDEN_PROMPT}"),
    prefilter.compile(rf"\b{_SHOW}\b[^.?!]{{0,12}}\b{_YOUR_INSTRUCTIONS}"),
]


def translated_rules(normalized: str) -> list[str]:
    """Rule codes for overrides and prompt requests in other languages."""
    fired: list[str] = []
    if any(rx.search(normalized) for rx in _OVERRIDES):
        fired.append("ignore_instructions")
    if any(rx.search(normalized) for rx in _REQUESTS):
        fired.append("system_prompt_request")
    return fired
