"""Reading aloud: espeak-ng (Debian) really speaks each language, and the kiosk reads what is on
screen only when the visitor asked for it."""

import subprocess
import wave

import pytest

from kiosk.platform.speech import Speaker, espeak_command, speech_available
from tests.fixtures.kiosk import tap
from tests.fixtures.kiosk_app import attract_smiley


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("fr", "Êtes-vous satisfait de l'accueil aujourd'hui ?"),
        ("en", "Are you satisfied with the service you received today?"),
        ("es", "¿Está satisfecho con la atención recibida hoy?"),
        ("ar", "هل أنتم راضون عن الاستقبال اليوم؟"),
    ],
)
def test_espeak_ng_says_the_question_in_each_language(tmp_path, language, text):
    assert speech_available(), "espeak-ng is missing: ./dev test installs it"
    wav = tmp_path / f"{language}.wav"
    subprocess.run(espeak_command(text, language, wav), check=True, capture_output=True)
    with wave.open(str(wav)) as sound:
        seconds = sound.getnframes() / sound.getframerate()
    assert 1.0 < seconds < 15.0  # a spoken sentence, not silence or a crash


class RecordingSpeaker(Speaker):
    """The real facade, but each sentence goes to a list instead of the loudspeaker."""

    def __init__(self) -> None:
        super().__init__()
        self.said: list[tuple[str, str]] = []

    def speak(self, text: str, language: str) -> bool:
        self.said.append((text, language))
        return True


def test_the_kiosk_reads_aloud_only_after_the_visitor_asks(kiosk):
    app = kiosk()
    app.speaker = speaker = RecordingSpeaker()
    tap(attract_smiley(app, "satisfied"))
    assert speaker.said == []  # off by default
    app.back_to_attract()
    tap(app.attract.ids.accessibility)
    tap(app.attract.ids.speech)
    [(text, language)] = speaker.said
    assert text.startswith("Êtes-vous satisfait(e) de l'accueil aujourd'hui ? Pas du tout")
    assert language == "fr"
    tap(attract_smiley(app, "satisfied"))
    assert speaker.said[-1][0].startswith("L'amabilité et la courtoisie de l'agent")
    app.back_to_attract()
    assert app.speech is False  # the next visitor starts without it


def test_every_button_on_screen_and_the_thank_you_are_read_aloud(kiosk):
    app = kiosk(languages=("fr", "en"))
    app.speaker = speaker = RecordingSpeaker()
    tap(app.attract.ids.accessibility)
    tap(app.attract.ids.speech)
    attract = speaker.said[-1][0]
    assert attract.endswith(
        "Sans avis. Français, English, Accessibilité, Écran en bas, Grand texte,"
        " Lecture à voix haute, Ou répondez sur votre téléphone"
    )
    tap(attract_smiley(app, "dissatisfied"))
    assert speaker.said[-1][0] == (
        "Qu'est-ce qui n'a pas été ? L'attente, L'accueil, La réponse apportée, Les locaux,"
        " Les horaires, Autre chose. Retour, Passer cette question, Valider, Terminer"
    )
    tap(app.question.ids.skip)
    assert speaker.said[-1][0].endswith("Sans avis. Retour, Passer cette question, Terminer")
    tap(app.question.ids.finish)
    thanks = speaker.said[-1][0]
    assert thanks.startswith(
        "Merci pour votre avis ! 92 % des visiteurs satisfaits en octobre (objectif 90 %)"
        " Les autres questions, sur votre téléphone"
    )
    assert speaker.said[-1][1] == "fr"
