-- Mail goes out in its reader's language. A user's language is the one
-- they last chose in the pages (the 中文 / English switch); NULL until they
-- choose. An account's mail goes to its e-invoice address, so the address
-- remembers who gave it (the user whose language it is read in), and each
-- message remembers its reader: the worker reads the reader's language
-- when it renders the message, so a switch made after an event still
-- counts. A message to someone who is not a user yet (an invitation) keeps
-- the language it was queued in (outbox.lang).
ALTER TABLE users ADD COLUMN lang text CHECK (lang IN ('zh-TW', 'en'));
ALTER TABLE einvoice_details ADD COLUMN email_user_id bigint REFERENCES users (id);
ALTER TABLE outbox ADD COLUMN recipient_user_id bigint REFERENCES users (id);
