"""Headlines as a reader wants them: wire-service prefixes and trailing publisher names taken off."""

from __future__ import annotations

import re

# "UPDATE 1-", "RPT-UPDATE 2-", "CORRECTED-", "EXCLUSIVE-", "REFILE-": the wire's own bookkeeping.
_WIRE_PREFIX = re.compile(
    r"^(?:(?:UPDATE\s*\d*|RPT|REFILE|CORRECTED|EXCLUSIVE|WRAPUP\s*\d*|INSIGHT|ANALYSIS|BREAKINGVIEWS|"
    r"GLOBAL MARKETS|BUZZ|TIMELINE|FACTBOX|PREVIEW)\s*[-:]\s*)+"
)
# A trailing " - Reuters", " | BBC News", " - The Wall Street Journal": up to five capitalised words after a
# dash or bar. Lower-case tails (" - traders", " - sources") are attributions and stay.
_PUBLISHER_TAIL = re.compile(r"\s+[-|–—:]\s+(?:The\s+)?(?:[A-Z0-9][\w.&'’]*\.?\s*){1,5}$")
_SPACES = re.compile(r"\s+")


def headline_clean(title: str, *, publisher: str = "") -> str:
    """``title`` without wire prefixes and without a trailing publisher name; the original if nothing is left."""
    text = _SPACES.sub(" ", title or "").strip()
    cleaned = _WIRE_PREFIX.sub("", text)
    if publisher:
        for separator in (" - ", " | ", " – ", " — ", ": "):
            if cleaned.casefold().endswith((separator + publisher).casefold()):
                cleaned = cleaned[: -len(separator + publisher)]
                break
    cleaned = _PUBLISHER_TAIL.sub("", cleaned).strip(" -|")
    # A headline that is all tail ("Reuters - Markets") is better shown whole than emptied.
    return cleaned if len(cleaned) >= 12 else text


def headline_sentence(title: str) -> str:
    """A cleaned headline as a sentence: capitalised, ending in a full stop."""
    text = title.strip()
    if not text:
        return ""
    first_word = text.split(" ", 1)[0]
    if first_word.islower():  # "iPhone", "eBay" keep their own case
        text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else f"{text}."
