-- LINE Login: a person is matched by the subject of the ID token LINE (or
-- the development sandbox) signs, the LINE user id (U followed by 32 hex
-- digits). Password sign-in stays for the demo users.
ALTER TABLE users ADD COLUMN line_subject text UNIQUE CHECK (line_subject ~ '^U[0-9a-f]{32}$');
