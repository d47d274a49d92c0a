-- 會員載具: the e-invoice is kept in the member carrier of the account's
-- e-mail address (the platform's own carrier), with no carrier number.
ALTER TABLE einvoice_details DROP CONSTRAINT einvoice_details_kind_check;
ALTER TABLE einvoice_details ADD CONSTRAINT einvoice_details_kind_check
    CHECK (kind IN ('member', 'mobile_barcode', 'citizen_certificate', 'company', 'donation'));
