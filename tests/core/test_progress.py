from apps.core.progress import WIDTH, progress_bar


def test_progress_bar_fills_in_proportion():
    assert progress_bar(0, 10) == "[" + "." * WIDTH + "]"
    assert progress_bar(5, 10) == "[" + "#" * (WIDTH // 2) + "." * (WIDTH - WIDTH // 2) + "]"
    assert progress_bar(10, 10) == "[" + "#" * WIDTH + "]"


def test_progress_bar_is_full_for_an_unknown_total_and_never_overflows():
    assert progress_bar(3, 0) == "[" + "#" * WIDTH + "]"
    assert progress_bar(12, 10) == "[" + "#" * WIDTH + "]"
