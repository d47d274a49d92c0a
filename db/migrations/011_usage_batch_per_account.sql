-- A batch id is the messaging side's name for a batch within one account:
-- unique per account, not across all of them (with a global key, one account
-- could take another's ids and make its reports fail as conflicts).
ALTER TABLE usage_batches DROP CONSTRAINT usage_batches_pkey;
ALTER TABLE usage_batches ADD PRIMARY KEY (account_id, batch_id);
