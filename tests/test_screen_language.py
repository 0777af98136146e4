"""Language detection: ISO 639-1 codes for one- or two-sentence messages, bounded input, the model cache.

The example messages are written for these tests (everyday and recruitment-style wording in German,
French, English and Spanish); none comes from the labelled corpus.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lurewatch.screen import language
from lurewatch.screen.language import (
    LANGUAGES,
    MAX_CHARS,
    detect_language,
    detect_language_of,
    language_name,
    load_model,
)

EXAMPLES: dict[str, tuple[str, ...]] = {
    "de": (
        "Sehr geehrter Herr Dr. Weber, ich bin Personalberater und suche für einen Mandanten Experten für Halbleiter.",
        "Hallo Frau Schmidt, hätten Sie nächste Woche Zeit für ein kurzes Telefonat?",
        "Vielen Dank für Ihre Nachricht. Ich melde mich morgen bei Ihnen.",
        "Wir würden Sie gern zu einem Vortrag nach Shanghai einladen, alle Kosten werden übernommen.",
        "Könnten Sie uns einen kurzen Bericht über die aktuelle Lage schreiben? Das Honorar beträgt 2.000 Euro.",
        "Guten Tag, ich habe Ihr Profil gesehen und bin beeindruckt.",
        "Ich schreibe Ihnen im Auftrag eines wichtigen Kunden aus Asien.",
        "Lass uns lieber auf WeChat weiterschreiben, das ist einfacher.",
        "Liebe Grüße aus Berlin und bis bald!",
        "Unser Institut organisiert im Herbst eine Konferenz zur Energiepolitik.",
        "Bitte schicken Sie mir Ihren aktuellen Lebenslauf und Ihre private E-Mail-Adresse.",
        "Die Probearbeit wird selbstverständlich vergütet.",
    ),
    "fr": (
        "Bonjour Madame, je suis chasseur de têtes pour un cabinet de conseil basé à Paris.",
        "Pourriez-vous nous envoyer votre CV mis à jour ?",
        "Nous serions ravis de vous inviter à un séminaire à Pékin, tous frais payés.",
        "Merci beaucoup pour votre réponse rapide, à bientôt.",
        "Notre client souhaite rester discret pour le moment.",
        "Je vous propose une collaboration rémunérée sous forme de notes d'analyse.",
        "Continuons plutôt sur WhatsApp, c'est plus simple pour moi.",
        "Votre profil a retenu toute mon attention.",
        "Bonjour Pierre, est-ce que tu es disponible demain pour un café ?",
        "Le colloque aura lieu à Lyon du 4 au 6 juin.",
        "Les informations que nous recherchons ne sont pas publiques, mais restent très générales.",
        "Je travaille pour un groupe de réflexion spécialisé dans les relations franco-chinoises.",
    ),
    "en": (
        "Hi Sarah, I came across your profile and was impressed by your work on quantum sensing.",
        "Would you be open to a short call next week?",
        "Thanks for connecting! Looking forward to staying in touch.",
        "We are organising a conference in Singapore and would love you to speak.",
        "Could you write a short report on the outlook for export controls? We pay USD 1,500.",
        "Let's move this to WhatsApp, it's easier for me.",
        "Please find the job description attached.",
        "Great to meet you at the workshop last week.",
        "Our client prefers to remain anonymous at this stage.",
        "Happy to help, just send me the details.",
    ),
    "es": (
        "Hola María, he visto tu perfil y me gustaría proponerte una colaboración.",
        "¿Tendrías tiempo para una llamada la próxima semana?",
        "Muchas gracias por tu mensaje, te respondo mañana.",
        "Nuestro cliente busca expertos en semiconductores para un proyecto en Asia.",
        "Te invitamos a dar una conferencia en Madrid con todos los gastos pagados.",
        "Podemos seguir hablando por WhatsApp si te parece bien.",
        "Estimado señor García, le escribo en nombre de una consultora internacional.",
        "Me encantaría conocer tu opinión sobre el mercado europeo.",
        "Un saludo cordial desde Barcelona, y gracias otra vez por la charla de ayer.",
        "¿Podrías enviarme tu currículum actualizado?",
    ),
}


@pytest.mark.parametrize(
    ("expected", "text"), [(lang, text) for lang, texts in EXAMPLES.items() for text in texts]
)
def test_short_messages_are_recognised(expected: str, text: str) -> None:
    code, confidence = detect_language(text)
    assert code == expected, (text, code, confidence)
    assert 0.6 <= confidence <= 1.0


def test_accuracy_on_all_examples() -> None:
    results = [detect_language(text)[0] == lang for lang, texts in EXAMPLES.items() for text in texts]
    assert sum(results) / len(results) == 1.0


def test_when_in_doubt_it_abstains_rather_than_guessing() -> None:
    # a four-word closing: Spanish wins but not clearly enough (Catalan and Galician are close)
    assert detect_language("Un saludo cordial desde Barcelona.")[0] in ("es", "und")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Hi!",
        "ok",
        "Danke!",
        "Merci",
        "Thanks, Bob",
        "12345 67890 !!!",
        "https://example.com/a/b/c",
        "🙂🙂🙂",
    ],
)
def test_too_short_or_unclear_is_und(text: str) -> None:
    assert detect_language(text) == ("und", 0.0)


def test_non_text_is_und() -> None:
    assert detect_language(None) == ("und", 0.0)  # type: ignore[arg-type]
    assert detect_language(42) == ("und", 0.0)  # type: ignore[arg-type]


def test_links_and_addresses_do_not_decide_the_language() -> None:
    text = (
        "Bitte melden Sie sich unter https://www.example-consulting.com/english/contact-us-now "
        "oder schreiben Sie an jobs.recruiting@example.com, wir freuen uns."
    )
    assert detect_language(text)[0] == "de"


def test_shouting_is_read_like_lower_case() -> None:
    assert detect_language("BONJOUR, NOUS AVONS UNE MISSION TRÈS BIEN PAYÉE POUR VOUS.")[0] == "fr"


def test_other_scripts_and_languages() -> None:
    assert detect_language("您好，我是一家咨询公司的顾问，想请您写一份关于半导体政策的报告。")[0] == "zh"
    assert detect_language("Здравствуйте, мы хотели бы пригласить вас на конференцию в Москве.")[0] == "ru"
    assert detect_language("Buongiorno, vorremmo invitarla a tenere una conferenza a Milano.")[0] == "it"
    assert detect_language("Olá, gostaríamos de convidá-lo para uma conferência em Lisboa.")[0] == "pt"


def test_the_language_of_a_thread_is_read_from_its_inbound_texts_in_order() -> None:
    assert (
        detect_language_of(["Guten Tag,", "ich habe Ihr Profil gesehen und bin sehr beeindruckt."])[0] == "de"
    )
    assert detect_language_of([]) == ("und", 0.0)
    assert detect_language_of(["", None, "ok"]) == ("und", 0.0)  # type: ignore[list-item]
    # reading stops once MAX_CHARS are collected: later messages cannot change the answer
    first = "This is a perfectly ordinary English message about a meeting next week. " * 60
    assert detect_language_of([first, "Ceci est un message en français."])[0] == "en"


def test_a_mostly_english_message_with_a_foreign_greeting_is_english() -> None:
    text = (
        "Bonjour Madame Durand, I am writing on behalf of a think tank. We look for experts to write "
        "analysis notes on defence policy. Bien cordialement."
    )
    assert detect_language(text)[0] == "en"


def test_names_cover_every_language() -> None:
    assert language_name("de") == "German"
    assert language_name("fr") == "French"
    assert language_name("xx") == "xx"
    assert language_name(None) == "undetermined"
    assert all(language_name(code) != code for code in LANGUAGES)


def test_huge_input_is_bounded_in_time() -> None:
    huge = "Das ist ein ganz normaler deutscher Satz über ein Treffen. " * 200_000
    hostile = "a\u0301" * 2_000_000
    detect_language("Loading the model is not what is timed here.")
    start = time.perf_counter()
    assert detect_language(huge)[0] == "de"
    detect_language(hostile)
    detect_language("x " * 1_000_000)
    assert time.perf_counter() - start < 1.0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_a_known_code_and_a_confidence(text: str) -> None:
    code, confidence = detect_language(text)
    assert code == "und" or code in LANGUAGES
    assert 0.0 <= confidence <= 1.0
    assert (code == "und") == (confidence == 0.0)


def test_classification_matches_py3langid() -> None:
    """The faster classifier computes what py3langid's own does, over the same languages."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    reference.set_languages(list(LANGUAGES))
    model = language._model()
    texts = [text for texts in EXAMPLES.values() for text in texts]
    texts += ["Здравствуйте, как дела?", "Hi!", "", "srpski jezik je lep", "O'zbek tili"]
    for text in texts:
        expected_code, expected_confidence = reference.classify(text)
        code, confidence = model.classify(text)
        if code == "und":  # no n-gram of the model in the text: py3langid answers a uniform guess
            assert expected_confidence <= 2 / len(LANGUAGES), text
            continue
        assert code == expected_code, text
        assert confidence == pytest.approx(expected_confidence, abs=1e-4), text


def test_the_unpacked_model_is_cached_and_reused(tmp_path: Path) -> None:
    fresh = load_model(tmp_path)
    (cached,) = tmp_path.glob("langid-*")
    assert {p.name for p in cached.iterdir()} == {
        "ptc.npy",
        "pc.npy",
        "nextmove.npy",
        "row.npy",
        "out.npy",
        "classes.json",
    }
    start = time.perf_counter()
    again = load_model(tmp_path)
    assert time.perf_counter() - start < 0.5
    for text in (EXAMPLES["de"][0], EXAMPLES["fr"][1], "ok"):
        assert again.classify(text) == fresh.classify(text)


def test_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    load_model(tmp_path)
    (cached,) = tmp_path.glob("langid-*")
    (cached / "out.npy").write_bytes(b"not a numpy file")
    model = load_model(tmp_path)
    assert model.classify(EXAMPLES["de"][1])[0] == "de"
    (rebuilt,) = tmp_path.glob("langid-*")
    assert load_model(tmp_path).classify(EXAMPLES["fr"][0])[0] == "fr"
    assert rebuilt.is_dir()


def test_stale_caches_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / "langid-0000000000000000"
    stale.mkdir()
    (stale / "ptc.npy").write_bytes(b"old")
    load_model(tmp_path)
    assert not stale.exists()


def test_an_unwritable_cache_directory_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    model = load_model(blocker / "cache")
    assert model.classify(EXAMPLES["en"][0])[0] == "en"
    assert load_model(None).classify(EXAMPLES["es"][0])[0] == "es"


def test_cache_directory_comes_from_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUREWATCH_CACHE_DIR", str(tmp_path / "c"))
    assert language.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("LUREWATCH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert language.default_cache_dir() == tmp_path / "xdg" / "lurewatch"


def test_max_chars_is_a_few_thousand() -> None:
    assert 1000 <= MAX_CHARS <= 5000


def test_a_damaged_automaton_is_unpacked_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from array import array

    monkeypatch.setenv("LUREWATCH_CACHE_DIR", str(tmp_path))
    good = language._model()
    # every state leads nowhere: walking any byte but NUL indexes past the end
    rows = array("H", [0] * len(good._out))
    broken = language.Model(good._table, good._pc, good.classes, array("I", [0]), rows, good._out)
    monkeypatch.setattr(language, "_loaded", broken)
    language._classify.cache_clear()
    assert detect_language(EXAMPLES["de"][0])[0] == "de"
    assert language._loaded is not broken
    language._classify.cache_clear()
