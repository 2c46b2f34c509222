"""One truncation rule: at most ``length`` characters, an ellipsis marking the cut."""

from apps.core.display import text_truncated, truncated_html


def test_text_truncated_never_exceeds_the_length_and_marks_the_cut():
    assert text_truncated("short", length=10) == "short"
    assert text_truncated("exactly10!", length=10) == "exactly10!"
    assert text_truncated("one character too long", length=10) == "one chara…"
    assert len(text_truncated("x" * 1000, length=300)) == 300
    assert text_truncated(None, length=5) == ""  # an unset error reads as empty


def test_truncated_html_uses_the_same_rule_with_the_whole_text_on_hover():
    html = str(truncated_html("a <b> error that goes on", length=8))
    assert html == '<span title="a &lt;b&gt; error that goes on">a &lt;b&gt; e…</span>'
