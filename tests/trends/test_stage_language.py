from apps.trends.models import Item
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.language import language, language_detect


def test_languages_are_detected():
    texts = [
        "The central bank raised interest rates again on Thursday",
        "Die Zentralbank hat die Zinsen am Donnerstag erneut erhöht",
        "La banque centrale a de nouveau relevé ses taux jeudi",
        "中央銀行は木曜日に再び金利を引き上げた",
        "رفع البنك المركزي أسعار الفائدة مرة أخرى يوم الخميس",
    ]
    assert language_detect(texts) == ["en", "de", "fr", "ja", "ar"]


def test_undetectable_text_falls_back_to_the_source_hint():
    items = [Item(title="🚀🚀🚀", text="", language_hint="en"), Item(title="12345", text="")]
    language(items, StageContext(as_of=None))
    assert items[0].language == "en"
    assert items[1].language == ""
