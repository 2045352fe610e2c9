import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Privacy1764000300000 implements MigrationInterface {
  name = 'Privacy1764000300000';

  async up(q: QueryRunner): Promise<void> {
    // One data key per person and municipality, wrapped (AES-256-GCM) with the master key.
    // Crypto-shredding sets wrapped_key to NULL and keeps the row: `generation` tells ciphertexts
    // of an erased key apart from those of the new key the person gets if they come back.
    // `master_key_id` is a fingerprint of the wrapping key, so a rotation can be resumed and a
    // wrong MASTER_KEY is reported as such instead of as corrupt data.
    await q.query(`
      CREATE TABLE person_keys (
        municipality   text        NOT NULL,
        pseudonym      text        NOT NULL,
        generation     integer     NOT NULL DEFAULT 1,
        wrapped_key    bytea,
        master_key_id  text,
        created_at     timestamptz NOT NULL DEFAULT now(),
        shredded_at    timestamptz,
        PRIMARY KEY (municipality, pseudonym),
        CHECK ((wrapped_key IS NULL) = (shredded_at IS NOT NULL)),
        CHECK ((wrapped_key IS NULL) = (master_key_id IS NULL))
      )`);
    // The personnummer, encrypted with the person's own key: shredding the key erases it too.
    await q.query(`
      CREATE TABLE persons (
        municipality    text        NOT NULL,
        pseudonym       text        NOT NULL,
        pin_ciphertext  text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (municipality, pseudonym),
        FOREIGN KEY (municipality, pseudonym) REFERENCES person_keys (municipality, pseudonym) ON DELETE CASCADE
      )`);
    // Every read of an individual's data. Millisecond precision so that `at` survives a round
    // trip through a JavaScript Date (the search cursor is built from it).
    await q.query(`
      CREATE TABLE access_log (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at            timestamptz(3) NOT NULL DEFAULT now(),
        municipality  text        NOT NULL,
        user_id       text        NOT NULL,
        roles         text[]      NOT NULL,
        case_id       text,
        pseudonym     text,
        endpoint      text        NOT NULL,
        purpose       text        NOT NULL,
        request_id    text
      )`);
    await q.query('CREATE INDEX access_log_municipality_at ON access_log (municipality, at DESC, id DESC)');
    await q.query('CREATE INDEX access_log_user ON access_log (municipality, user_id, at DESC, id DESC)');
    await q.query('CREATE INDEX access_log_case ON access_log (municipality, case_id, at DESC, id DESC) WHERE case_id IS NOT NULL');
    // Retention purge deletes by age across municipalities; the table is append-only in time
    // order, which is what BRIN is for.
    await q.query('CREATE INDEX access_log_at_brin ON access_log USING brin (at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE access_log');
    await q.query('DROP TABLE persons');
    await q.query('DROP TABLE person_keys');
  }
}
