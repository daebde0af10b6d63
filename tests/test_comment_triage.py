"""Triage of visitors' comments, read directly: real-looking French comments, each with the
reasons it must (or must not) be flagged for, the matching rules (case, accents, elisions,
apostrophes, hyphens, leetspeak, repeated letters, plurals and feminine, expressions, whole
words), the agents' names of a service, the lexicon files themselves, and invariants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_server.comments import lexicon
from sync_server.comments.reading import masked, withheld
from sync_server.comments.triage import fold, segments, triage, words

STAFF = ["Marie Dubois", "Karim Benali", "Jean-Pierre Lefèvre", "Hélène"]

# (comment, reasons expected, a matched term for the first reason or None)
COMMENTS = [
    # -- innocent at a town hall, however close to a term
    ("Très bon accueil, merci pour les explications claires.", (), None),
    ("Mon contrat de location a été traité rapidement, bon conseil.", (), None),
    ("Le conseil municipal devrait revoir l'économie des horaires.", (), None),
    ("Un calcul particulier pour le quotient familial, bien expliqué.", (), None),
    ("J'habite le quartier depuis 20 ans, accueil toujours correct.", (), None),
    ("La mairie est bien indiquée depuis la gare.", (), None),
    ("Le ramassage des ordures ménagères passe trop tôt.", (), None),
    ("Le feu rouge devant la médiathèque est trop long.", (), None),
    ("Le service est nul, trois semaines pour un acte de naissance !", (), None),
    ("Une erreur de frappe sur mon livret de famille, corrigée en 5 minutes.", (), None),
    ("Le pique-nique des seniors était très réussi.", (), None),
    ("L'impasse en cul-de-sac derrière la mairie n'est pas éclairée.", (), None),
    ("J'ai rempli le dossier à l'aide de l'agent, merci.", (), None),
    ("Consultation du cadastre facile, personnel compétent.", (), None),
    ("Les conseillers du CCAS sont à l'écoute.", (), None),
    ("Pas de place pour la poussette, les escaliers sont raides.", (), None),
    ("Attente raisonnable, une dizaine de minutes.", (), None),
    ("Je me suis attardé sur le panneau d'affichage, très complet.", (), None),
    # -- insults and vulgarities
    ("Bande de connards, trois heures d'attente !", ("insult",), "connard"),
    ("L'agent est un vrai CON.", ("insult",), "con"),
    ("Quelle conne à l'accueil, aucune politesse.", ("insult",), "con"),
    ("c0nnnnard de guichetier", ("insult",), "connard"),
    ("Service de merde, personne ne répond au téléphone.", ("insult",), "merde"),
    ("Vous êtes des incapables et des enfoirés.", ("insult",), "enfoiré"),
    ("Fils-de-pute qui m'a refusé mon dossier", ("insult",), "fils de pute"),
    ("Allez vous faire foutre avec vos horaires.", ("insult",), "allez vous faire foutre"),
    ("Espèce d'abrutie, apprenez à lire un formulaire.", ("insult",), "abruti"),
    ("Putain, deux heures pour un passeport.", ("insult",), "putain"),
    ("Des fainéants derrière le guichet, ils discutent entre eux.", ("insult",), "faineant"),
    ("Ta gueule la machine à tickets", ("insult",), "ta gueule"),
    ("Ils me font chier avec leurs papiers.", ("insult",), "chier"),
    # -- urgent: threats, violence, danger, distress
    ("Si on me refuse encore je vais vous tuer.", ("urgent",), "vous tuer"),
    ("Ça sent le gaz dans le hall de la médiathèque !", ("urgent",), "sent le gaz"),
    ("Odeur de gaz près des toilettes, URGENT", ("urgent",), "odeur de gaz"),
    ("Il y a un début d'incendie dans la salle d'attente.", ("urgent",), "incendie"),
    ("Mon voisin me menace depuis des semaines, aidez-moi.", ("urgent",), "menac*"),
    ("Ma fille est harcelée à la cantine et personne ne fait rien.", ("urgent",), "harcel*"),
    ("Mon mari me frappe, je ne sais pas à qui m'adresser.", ("urgent",), "me frappe"),
    ("Plus envie de vivre, plus de logement, plus rien.", ("urgent",), "plus envie de vivre"),
    ("Je pense au suicide depuis mon expulsion.", ("urgent",), "suicid*"),
    ("Un enfant en danger au 12, personne ne bouge.", ("urgent",), "enfant en danger"),
    ("Au secours, l'ascenseur est bloqué avec une dame âgée dedans.", ("urgent",), "au secours"),
    ("La rampe d'accès est dangereuse pour les fauteuils.", ("urgent",), "dangereux"),
    # -- a person named
    ("Merci à Mme Dupont pour sa patience.", ("names_person",), "Mme Dupont"),
    ("Marie a été adorable avec ma mère.", ("names_person",), "Marie Dubois"),
    ("M. Benali ne m'a même pas regardé.", ("names_person",), "M. Benali"),
    ("karim benali m'a très bien renseigné", ("names_person",), "Karim Benali"),
    ("Jean Pierre LEFEVRE a tout réglé.", ("names_person",), "Jean-Pierre Lefèvre"),
    ("Merci helene !", ("names_person",), "Hélène"),
    # -- several reasons at once
    (
        "Dubois est une connasse, je vais revenir tout casser.",
        ("urgent", "insult", "names_person"),
        "tout casser",
    ),
]


@pytest.mark.parametrize(("text", "reasons", "term"), COMMENTS)
def test_each_comment_is_flagged_for_its_reasons_only(text, reasons, term):
    found = triage(text, STAFF)
    assert found.reasons == reasons, found.hits
    assert found.flagged == bool(reasons)
    if term is not None:
        assert term in found.terms(reasons[0])


def test_the_table_covers_every_reason_and_innocent_comments():
    assert len(COMMENTS) >= 40
    reasons = {reason for _text, found, _term in COMMENTS for reason in found}
    assert reasons == {"urgent", "insult", "names_person"}
    assert sum(not found for _text, found, _term in COMMENTS) >= 15


def test_a_hit_points_at_the_words_as_written():
    text = "Franchement, la dame était une CONNASSE !"
    [hit] = triage(text).hits
    assert text[hit.start : hit.end] == "CONNASSE"
    text = "l’enfoiré d’agent"  # typographic apostrophe, elision
    [hit] = triage(text).hits
    assert text[hit.start : hit.end] == "enfoiré"


def test_agents_names_are_whole_words_of_the_comments_service_only():
    assert not triage("Marie était très aimable.", []).flagged  # not listed for this service
    assert not triage("La mairie est fermée le samedi.", ["Marie Dubois"]).flagged
    assert not triage("Des marionnettes à la médiathèque.", ["Marie Dubois"]).flagged
    assert triage("MARIE était très aimable.", ["Marie Dubois"]).flagged
    # An initial alone is no name: "J." does not flag every "j'ai".
    assert not triage("J'ai attendu longtemps.", ["J. Martin"]).flagged
    assert triage("J Martin m'a aidé", ["J. Martin"]).terms("names_person") == ("J. Martin",)


def test_the_folding_of_case_accents_apostrophes_hyphens_and_leetspeak():
    assert fold("L’Économie — d'ÉTÉ, Jean-Pierre") == "l economie d ete jean pierre"
    assert fold("c0nn@rd 14h30 2ème") == "connard iaheo 2eme"
    assert fold("Cœur ŒUVRE straße") == "coeur oeuvre strasse"
    assert [w.text for w in words("Ça va")] == ["ca", "va"]


def test_highlighted_pieces_put_the_text_back_together():
    text = "Dubois est un connard, au secours !"
    pieces = segments(text, triage(text, STAFF).hits)
    assert "".join(piece for piece, _reason in pieces) == text
    assert [(p, r) for p, r in pieces if r] == [
        ("Dubois", "names_person"),
        ("connard", "insult"),
        ("au secours", "urgent"),
    ]


def test_a_released_comment_reads_with_the_agents_names_masked():
    text = "Marie Dubois puis Mme Martin, dossier 123 456 789, merci Karim"
    assert masked(text, STAFF) == "▒▒▒ puis Mme ▒▒▒, dossier ▒▒▒, merci ▒▒▒"
    assert withheld(True, None) == "pending"
    assert withheld(True, "kept_hidden") == "kept_hidden"
    assert withheld(True, "released") is None
    assert withheld(False, None) is None


# -- the lexicon files ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["insults.txt", "urgent.txt"])
def test_each_lexicon_file_says_where_it_comes_from_and_how_to_edit_it(name):
    text = (lexicon.BUNDLED_DIR / name).read_text(encoding="utf-8")
    header = "\n".join(line for line in text.splitlines()[:25] if line.startswith("#"))
    assert "Provenance" in header
    assert "Modifier ce fichier" in header
    assert "Rien n'est envoyé ailleurs" in header
    terms = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert len(terms) >= 40
    assert len(set(terms)) == len(terms)


def test_the_lexicon_line_forms():
    parsed = lexicon.parse(["# a comment", "", "idiot", "=pd", "menac*", "fils de pute", "!x pd"])
    assert parsed.may_match(["idiotes"])
    assert parsed.may_match(["pd"])
    assert not parsed.may_match(["pds"])
    assert parsed.may_match(["menacant"])
    assert [p.term for p in parsed.phrases_at("fils")] == ["fils de pute"]
    assert [p.term for p in parsed.exceptions_at("x")] == ["x pd"]


def test_public_lists_words_innocent_at_a_town_hall_are_not_flagged():
    for text in ("Je suis veuve depuis peu.", "Ma fille est folle de la médiathèque.",
                 "Les agents bossent dur.", "Un jeune draguait à l'accueil."):  # fmt: skip
        assert not triage(text).flagged, text


# -- invariants -------------------------------------------------------------------------------

FLAGGED = [(text, reasons) for text, reasons, _term in COMMENTS if reasons]
INNOCENT = [text for text, reasons, _term in COMMENTS if not reasons]


@given(st.text())
def test_triage_never_raises_and_folding_is_idempotent(text):
    found = triage(text, STAFF)
    assert all(0 <= hit.start < hit.end <= len(text) for hit in found.hits)
    assert fold(fold(text)) == fold(text)


@given(
    st.sampled_from(FLAGGED),
    st.sampled_from(INNOCENT),
    st.sampled_from(INNOCENT),
    st.sampled_from([" ", "\n", " — ", ". ", " ; "]),
)
def test_innocent_text_around_a_flagged_comment_keeps_it_flagged(flagged, before, after, glue):
    text, reasons = flagged
    found = triage(f"{before}{glue}{text}{glue}{after}", STAFF)
    assert set(reasons) <= set(found.reasons)


@given(st.sampled_from(INNOCENT), st.sampled_from(INNOCENT))
def test_innocent_comments_together_stay_innocent(first, second):
    assert not triage(f"{first} {second}", STAFF).flagged
