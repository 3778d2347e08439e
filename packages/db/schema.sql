--
-- PostgreSQL database dump
--

--
-- Name: tally; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA tally;

--
-- Name: SCHEMA tally; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA tally IS 'Counter-cache internals: the count outbox, the version sequence, triggers and maintenance functions.';

--
-- Name: apply_author_delta(bigint, bigint); Type: FUNCTION; Schema: tally; Owner: -
--

CREATE FUNCTION tally.apply_author_delta(target_author bigint, delta bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
  new_version bigint;
BEGIN
  UPDATE author a
     SET books_count = CASE WHEN a.books_count IS NULL
                            THEN tally.count_author_books(a.id)
                            ELSE a.books_count + delta END,
         books_count_version = nextval('tally.count_version_seq')
   WHERE a.id = target_author
  RETURNING a.books_count_version INTO new_version;
  IF FOUND THEN
    INSERT INTO tally.count_outbox (author_id, books_count_version) VALUES (target_author, new_version);
    PERFORM tally.wake_relay();
  END IF;
END
$$;

--
-- Name: count_author_books(bigint); Type: FUNCTION; Schema: tally; Owner: -
--

CREATE FUNCTION tally.count_author_books(target_author bigint) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
BEGIN
  RETURN (SELECT count(*) FROM book WHERE author_id = target_author);
END
$$;

--
-- Name: forget_books_counts(bigint[]); Type: FUNCTION; Schema: tally; Owner: -
--

CREATE FUNCTION tally.forget_books_counts(author_ids bigint[]) RETURNS bigint
    LANGUAGE plpgsql
    SET "tally.maintenance" TO 'on'
    AS $$
DECLARE
  forgotten bigint;
BEGIN
  WITH locked AS (
    SELECT a.id FROM author a
     WHERE a.id = ANY (author_ids) AND a.books_count IS NOT NULL
     ORDER BY a.id FOR NO KEY UPDATE
  ), updated AS (
    UPDATE author a
       SET books_count = NULL, books_count_version = nextval('tally.count_version_seq')
      FROM locked WHERE a.id = locked.id
    RETURNING a.id, a.books_count_version
  ), queued AS (
    INSERT INTO tally.count_outbox (author_id, books_count_version)
    SELECT id, books_count_version FROM updated
    RETURNING 1
  )
  SELECT count(*) INTO forgotten FROM queued;
  IF forgotten > 0 THEN
    PERFORM tally.wake_relay();
  END IF;
  RETURN forgotten;
END
$$;

--
-- Name: FUNCTION forget_books_counts(author_ids bigint[]); Type: COMMENT; Schema: tally; Owner: -
--

COMMENT ON FUNCTION tally.forget_books_counts(author_ids bigint[]) IS 'Sets books_count to NULL (not computed yet) for these authors; returns how many changed.';

--
-- Name: refresh_books_counts(bigint[]); Type: FUNCTION; Schema: tally; Owner: -
--

CREATE FUNCTION tally.refresh_books_counts(author_ids bigint[]) RETURNS TABLE(author_id bigint, previous_count bigint, books_count bigint, books_count_version bigint, changed boolean)
    LANGUAGE plpgsql
    SET "tally.maintenance" TO 'on'
    AS $$
#variable_conflict use_column
DECLARE
  any_changed boolean := false;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'tally.refresh_books_counts needs READ COMMITTED, not %',
      current_setting('transaction_isolation')
      USING ERRCODE = 'invalid_transaction_state',
            HINT = 'Call it in its own transaction or after SET TRANSACTION ISOLATION LEVEL READ COMMITTED.';
  END IF;

  PERFORM 1 FROM author a WHERE a.id = ANY (author_ids) ORDER BY a.id FOR NO KEY UPDATE;

  FOR author_id, previous_count, books_count, books_count_version, changed IN
    WITH counted AS (
      SELECT a.id, a.books_count AS previous, a.books_count_version AS version,
             (SELECT count(*) FROM book b WHERE b.author_id = a.id) AS actual
        FROM author a
       WHERE a.id = ANY (author_ids)
    ), updated AS (
      UPDATE author a
         SET books_count = counted.actual,
             books_count_version = nextval('tally.count_version_seq')
        FROM counted
       WHERE a.id = counted.id AND a.books_count IS DISTINCT FROM counted.actual
      RETURNING a.id, a.books_count_version
    ), queued AS (
      INSERT INTO tally.count_outbox (author_id, books_count_version)
      SELECT id, books_count_version FROM updated
    )
    SELECT counted.id, counted.previous, counted.actual,
           coalesce(updated.books_count_version, counted.version),
           updated.id IS NOT NULL
      FROM counted LEFT JOIN updated ON updated.id = counted.id
     ORDER BY counted.id
  LOOP
    any_changed := any_changed OR changed;
    RETURN NEXT;
  END LOOP;

  IF any_changed THEN
    PERFORM tally.wake_relay();
  END IF;
END
$$;

--
-- Name: FUNCTION refresh_books_counts(author_ids bigint[]); Type: COMMENT; Schema: tally; Owner: -
--

COMMENT ON FUNCTION tally.refresh_books_counts(author_ids bigint[]) IS 'Sets books_count to the exact COUNT for these authors, safely under concurrent writes (READ COMMITTED only); returns previous and new counts. Used by backfill, reconcile and repair.';

--
-- Name: tg_author__guard_count(); Type: FUNCTION; Schema: tally; Owner: -
--

CREATE FUNCTION tally.tg_author__guard_count() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  IF current_setting('tally.maintenance', true) = 'on' THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'INSERT' THEN
    NEW.books_count := 0;
    NEW.books_count_version := nextval('tally.count_version_seq');
  ELSE
    NEW.books_count := OLD.books_count;
    NEW.books_count_version := OLD.books_count_version;
  END IF;
  RETURN NEW;
END
$$;

--
-- Name: tg_author__queue_delete(); Type: FUNCTION; Schema: tally; Owner: -
--

CREATE FUNCTION tally.tg_author__queue_delete() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  INSERT INTO tally.count_outbox (author_id, books_count_version)
  SELECT id, books_count_version FROM deleted_authors;
  IF FOUND THEN
    PERFORM tally.wake_relay();
  END IF;
  RETURN NULL;
END
$$;

--
-- Name: tg_author__queue_insert(); Type: FUNCTION; Schema: tally; Owner: -
--

CREATE FUNCTION tally.tg_author__queue_insert() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  INSERT INTO tally.count_outbox (author_id, books_count_version)
  SELECT id, books_count_version FROM inserted_authors;
  IF FOUND THEN
    PERFORM tally.wake_relay();
  END IF;
  RETURN NULL;
END
$$;

--
-- Name: tg_author__queue_truncate(); Type: FUNCTION; Schema: tally; Owner: -
--

CREATE FUNCTION tally.tg_author__queue_truncate() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  INSERT INTO tally.count_outbox (author_id, books_count_version)
  SELECT id, books_count_version FROM author;
  IF FOUND THEN
    PERFORM tally.wake_relay();
  END IF;
  RETURN NULL;
END
$$;

--
-- Name: tg_book__count_delete(); Type: FUNCTION; Schema: tally; Owner: -
--

CREATE FUNCTION tally.tg_book__count_delete() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
  first_author bigint;
  last_author bigint;
  books bigint;
BEGIN
  SELECT min(author_id), max(author_id), count(*) INTO first_author, last_author, books FROM deleted_books;
  IF first_author = last_author THEN
    PERFORM tally.apply_author_delta(first_author, -books);
    RETURN NULL;
  END IF;
  WITH delta AS (
    SELECT author_id, -count(*) AS n FROM deleted_books GROUP BY author_id
  ), locked AS (
    SELECT a.id FROM author a JOIN delta ON delta.author_id = a.id ORDER BY a.id FOR NO KEY UPDATE OF a
  ), changed AS (
    UPDATE author a
       SET books_count = CASE WHEN a.books_count IS NULL
                              THEN tally.count_author_books(a.id)
                              ELSE a.books_count + delta.n END,
           books_count_version = nextval('tally.count_version_seq')
      FROM delta JOIN locked ON locked.id = delta.author_id
     WHERE a.id = delta.author_id
    RETURNING a.id, a.books_count_version
  )
  INSERT INTO tally.count_outbox (author_id, books_count_version)
  SELECT id, books_count_version FROM changed;
  IF FOUND THEN
    PERFORM tally.wake_relay();
  END IF;
  RETURN NULL;
END
$$;

--
-- Name: tg_book__count_insert(); Type: FUNCTION; Schema: tally; Owner: -
--

CREATE FUNCTION tally.tg_book__count_insert() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
  first_author bigint;
  last_author bigint;
  books bigint;
BEGIN
  SELECT min(author_id), max(author_id), count(*) INTO first_author, last_author, books FROM inserted_books;
  IF first_author = last_author THEN
    PERFORM tally.apply_author_delta(first_author, books);
    RETURN NULL;
  END IF;
  WITH delta AS (
    SELECT author_id, count(*) AS n FROM inserted_books GROUP BY author_id
  ), locked AS (
    SELECT a.id FROM author a JOIN delta ON delta.author_id = a.id ORDER BY a.id FOR NO KEY UPDATE OF a
  ), changed AS (
    UPDATE author a
       SET books_count = CASE WHEN a.books_count IS NULL
                              THEN tally.count_author_books(a.id)
                              ELSE a.books_count + delta.n END,
           books_count_version = nextval('tally.count_version_seq')
      FROM delta JOIN locked ON locked.id = delta.author_id
     WHERE a.id = delta.author_id
    RETURNING a.id, a.books_count_version
  )
  INSERT INTO tally.count_outbox (author_id, books_count_version)
  SELECT id, books_count_version FROM changed;
  IF FOUND THEN
    PERFORM tally.wake_relay();
  END IF;
  RETURN NULL;
END
$$;

--
-- Name: tg_book__count_move(); Type: FUNCTION; Schema: tally; Owner: -
--

CREATE FUNCTION tally.tg_book__count_move() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  WITH delta AS (
    SELECT author_id, sum(n)::bigint AS n
      FROM (SELECT author_id, count(*) AS n FROM books_after GROUP BY author_id
            UNION ALL
            SELECT author_id, -count(*) FROM books_before GROUP BY author_id) AS both_sides
     GROUP BY author_id
    HAVING sum(n) <> 0
  ), locked AS (
    SELECT a.id FROM author a JOIN delta ON delta.author_id = a.id ORDER BY a.id FOR NO KEY UPDATE OF a
  ), changed AS (
    UPDATE author a
       SET books_count = CASE WHEN a.books_count IS NULL
                              THEN tally.count_author_books(a.id)
                              ELSE a.books_count + delta.n END,
           books_count_version = nextval('tally.count_version_seq')
      FROM delta JOIN locked ON locked.id = delta.author_id
     WHERE a.id = delta.author_id
    RETURNING a.id, a.books_count_version
  )
  INSERT INTO tally.count_outbox (author_id, books_count_version)
  SELECT id, books_count_version FROM changed;
  IF FOUND THEN
    PERFORM tally.wake_relay();
  END IF;
  RETURN NULL;
END
$$;

--
-- Name: tg_book__count_truncate(); Type: FUNCTION; Schema: tally; Owner: -
--

CREATE FUNCTION tally.tg_book__count_truncate() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  WITH locked AS (
    SELECT id FROM author WHERE books_count IS DISTINCT FROM 0 ORDER BY id FOR NO KEY UPDATE
  ), changed AS (
    UPDATE author a
       SET books_count = 0, books_count_version = nextval('tally.count_version_seq')
      FROM locked WHERE a.id = locked.id
    RETURNING a.id, a.books_count_version
  )
  INSERT INTO tally.count_outbox (author_id, books_count_version)
  SELECT id, books_count_version FROM changed;
  IF FOUND THEN
    PERFORM tally.wake_relay();
  END IF;
  RETURN NULL;
END
$$;

--
-- Name: wake_relay(); Type: FUNCTION; Schema: tally; Owner: -
--

CREATE FUNCTION tally.wake_relay() RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
  IF NOT pg_try_advisory_xact_lock_shared(1952541804, 1) THEN
    PERFORM pg_notify('tally_outbox', '');
  END IF;
END
$$;

--
-- Name: FUNCTION wake_relay(); Type: COMMENT; Schema: tally; Owner: -
--

COMMENT ON FUNCTION tally.wake_relay() IS 'Notifies tally_outbox when a relay waits (holds advisory lock 1952541804,1 exclusively); otherwise takes it shared until commit, which a relay about to wait will wait for.';

--
-- Name: author; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.author (
    id bigint NOT NULL,
    name text NOT NULL,
    books_count bigint DEFAULT 0,
    books_count_version bigint DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT author_books_count_not_negative CHECK ((books_count >= 0)),
    CONSTRAINT author_name_length CHECK ((char_length(name) <= 200)),
    CONSTRAINT author_name_not_blank CHECK ((btrim(name) <> ''::text))
);

--
-- Name: COLUMN author.books_count; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.author.books_count IS 'Exact number of books, kept by triggers. NULL means not computed yet (rows older than the counter); the first write that touches the author computes it with COUNT. Only tally.* functions may set it.';

--
-- Name: COLUMN author.books_count_version; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.author.books_count_version IS 'Version of books_count, from tally.count_version_seq; grows with every change of the count.';

--
-- Name: author_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.author ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public.author_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: book; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.book (
    id bigint NOT NULL,
    author_id bigint NOT NULL,
    title text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT book_title_length CHECK ((char_length(title) <= 500)),
    CONSTRAINT book_title_not_blank CHECK ((btrim(title) <> ''::text))
);

--
-- Name: book_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.book ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public.book_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: count_outbox; Type: TABLE; Schema: tally; Owner: -
--

CREATE TABLE tally.count_outbox (
    id bigint NOT NULL,
    author_id bigint NOT NULL,
    books_count_version bigint NOT NULL,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL
)
WITH (autovacuum_vacuum_scale_factor='0', autovacuum_vacuum_threshold='1000', autovacuum_vacuum_insert_scale_factor='0', autovacuum_vacuum_insert_threshold='1000');

--
-- Name: TABLE count_outbox; Type: COMMENT; Schema: tally; Owner: -
--

COMMENT ON TABLE tally.count_outbox IS 'Authors whose count changed or who were deleted, not yet mirrored to Redis. No foreign key: a deleted author''s row must outlive the author so the relay can remove its Redis key.';

--
-- Name: COLUMN count_outbox.books_count_version; Type: COMMENT; Schema: tally; Owner: -
--

COMMENT ON COLUMN tally.count_outbox.books_count_version IS 'The version the change produced; for a deleted author, its last version (guards the key removal).';

--
-- Name: count_outbox_id_seq; Type: SEQUENCE; Schema: tally; Owner: -
--

ALTER TABLE tally.count_outbox ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME tally.count_outbox_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: count_version_seq; Type: SEQUENCE; Schema: tally; Owner: -
--

CREATE SEQUENCE tally.count_version_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: migrations; Type: TABLE; Schema: tally; Owner: -
--

CREATE TABLE tally.migrations (
    id integer NOT NULL,
    name character varying(255) NOT NULL,
    run_on timestamp without time zone NOT NULL
);

--
-- Name: migrations_id_seq; Type: SEQUENCE; Schema: tally; Owner: -
--

CREATE SEQUENCE tally.migrations_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: migrations_id_seq; Type: SEQUENCE OWNED BY; Schema: tally; Owner: -
--

ALTER SEQUENCE tally.migrations_id_seq OWNED BY tally.migrations.id;

--
-- Name: migrations id; Type: DEFAULT; Schema: tally; Owner: -
--

ALTER TABLE ONLY tally.migrations ALTER COLUMN id SET DEFAULT nextval('tally.migrations_id_seq'::regclass);

--
-- Name: author author_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.author
    ADD CONSTRAINT author_pkey PRIMARY KEY (id);

--
-- Name: book book_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.book
    ADD CONSTRAINT book_pkey PRIMARY KEY (id);

--
-- Name: count_outbox count_outbox_pkey; Type: CONSTRAINT; Schema: tally; Owner: -
--

ALTER TABLE ONLY tally.count_outbox
    ADD CONSTRAINT count_outbox_pkey PRIMARY KEY (id);

--
-- Name: migrations migrations_pkey; Type: CONSTRAINT; Schema: tally; Owner: -
--

ALTER TABLE ONLY tally.migrations
    ADD CONSTRAINT migrations_pkey PRIMARY KEY (id);

--
-- Name: book_author_id_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX book_author_id_id_idx ON public.book USING btree (author_id, id);

--
-- Name: author _100_guard_count_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER _100_guard_count_insert BEFORE INSERT ON public.author FOR EACH ROW EXECUTE FUNCTION tally.tg_author__guard_count();

--
-- Name: author _100_guard_count_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER _100_guard_count_update BEFORE UPDATE OF books_count, books_count_version ON public.author FOR EACH ROW WHEN ((pg_trigger_depth() = 0)) EXECUTE FUNCTION tally.tg_author__guard_count();

--
-- Name: book _500_count_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER _500_count_delete AFTER DELETE ON public.book REFERENCING OLD TABLE AS deleted_books FOR EACH STATEMENT EXECUTE FUNCTION tally.tg_book__count_delete();

--
-- Name: book _500_count_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER _500_count_insert AFTER INSERT ON public.book REFERENCING NEW TABLE AS inserted_books FOR EACH STATEMENT EXECUTE FUNCTION tally.tg_book__count_insert();

--
-- Name: book _500_count_move; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER _500_count_move AFTER UPDATE ON public.book REFERENCING OLD TABLE AS books_before NEW TABLE AS books_after FOR EACH STATEMENT EXECUTE FUNCTION tally.tg_book__count_move();

--
-- Name: book _500_count_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER _500_count_truncate AFTER TRUNCATE ON public.book FOR EACH STATEMENT EXECUTE FUNCTION tally.tg_book__count_truncate();

--
-- Name: author _500_queue_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER _500_queue_delete AFTER DELETE ON public.author REFERENCING OLD TABLE AS deleted_authors FOR EACH STATEMENT EXECUTE FUNCTION tally.tg_author__queue_delete();

--
-- Name: author _500_queue_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER _500_queue_insert AFTER INSERT ON public.author REFERENCING NEW TABLE AS inserted_authors FOR EACH STATEMENT EXECUTE FUNCTION tally.tg_author__queue_insert();

--
-- Name: author _500_queue_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER _500_queue_truncate BEFORE TRUNCATE ON public.author FOR EACH STATEMENT EXECUTE FUNCTION tally.tg_author__queue_truncate();

--
-- Name: book book_author_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.book
    ADD CONSTRAINT book_author_id_fkey FOREIGN KEY (author_id) REFERENCES public.author(id) ON DELETE CASCADE;

--
-- PostgreSQL database dump complete
--
