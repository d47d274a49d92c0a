// Package mig writes the Taiwan e-invoice platform's MIG 4.1 messages the
// store files through Turnkey (EINVOICE.md): F0401 (an invoice), F0501 (its
// cancel), G0401 (an allowance), G0501 (an allowance's cancel) and E0402 (a
// period's unused numbers).
//
// Callers fill input structs in Go types (time.Time, billing.Money,
// billing.InvoiceNumber); the package formats them: dates yyyyMMdd and times
// HH:mm:ss in Taiwan time, amounts as whole dollars, elements in the order of
// the MIG schema's sequences, UTF-8 with an XML declaration, indented. The
// rules of what goes into a message (amounts, numbers, deadlines) live in
// package billing; migcheck checks a written message against EINVOICE.md.
package mig

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"webstore/billing"
)

// Message is one MIG message, ready to be written as a Turnkey file
// <dir>/<Type>/<Number>.xml.
type Message interface {
	// Type is the message's code: "F0401", "F0501", "G0401", "G0501", "E0402".
	Type() string
	// Number is what the message is filed under: the invoice or allowance
	// number, or for E0402 the period's name and the track ("11512AB").
	Number() string
	// XML is the message as written: declaration, UTF-8, indented.
	XML() ([]byte, error)
}

// Namespace is the XML namespace of a message type under MIG 4.1.
func Namespace(msgType string) string {
	return "urn:GEINV:eInvoiceMessage:" + msgType + ":4.1"
}

// Field limits, in characters (runes, not bytes: a Chinese character counts
// as one).
const (
	MaxName         = 60  // a seller's or buyer's Name
	MaxDescription  = 500 // a ProductItem's Description
	MaxCancelReason = 20  // CancelReason of F0501 and G0501
)

// Carrier types the store writes; a member carrier's type is the seller's
// own, assigned by the platform and set in configuration.
const (
	CarrierMobileBarcode      = "3J0002" // 手機條碼
	CarrierCitizenCertificate = "CQ0001" // 自然人憑證
)

// Party is an invoice's seller or buyer.
type Party struct {
	// Identifier is the 統一編號, or billing.B2CBuyerID for a person.
	Identifier string
	// Name is the company title or the account's name, at most MaxName runes
	// (CapName shortens a longer one).
	Name string
}

// Carrier is where a B2C invoice is kept: Type is the carrier type (3J0002,
// CQ0001 or the seller's member carrier type) and ID the barcode,
// certificate number or member number, written as both CarrierId1 and
// CarrierId2. The zero Carrier is none.
type Carrier struct {
	Type string
	ID   string
}

// ItemDescription is an invoice item's description: 「LINE官方帳號 高用量
// 2026/12」 for a month's fee of the plan named planName, or with kind
// appended, 「LINE官方帳號 高用量 2026/12 升級差額」. It is capped at
// MaxDescription runes.
func ItemDescription(planName string, month billing.Month, kind string) string {
	s := fmt.Sprintf("LINE官方帳號 %s %04d/%02d", strings.TrimSpace(planName), month.Year, int(month.Month))
	if k := strings.TrimSpace(kind); k != "" {
		s += " " + k
	}
	return Cap(s, MaxDescription)
}

// CapName returns name trimmed and cut to MaxName runes.
func CapName(name string) string { return Cap(billing.TrimText(name), MaxName) }

// Cap returns s cut to at most n runes (runes, not bytes, so a Chinese name
// is never split inside a character).
func Cap(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// date and clock format an instant as MIG wants it, in Taiwan time.
func date(t time.Time) string  { return t.In(billing.Taipei).Format("20060102") }
func clock(t time.Time) string { return t.In(billing.Taipei).Format("15:04:05") }

// amount formats money as MIG's decimal, whole dollars.
func amount(m billing.Money) string { return m.Plain() }

// root is the root element's name in the message type's namespace.
func root(msgType, local string) xml.Name {
	return xml.Name{Space: Namespace(msgType), Local: local}
}

// marshal writes v with the XML declaration, indented by two spaces.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("mig: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// wireParty is Seller and Buyer: Identifier, Name (the sequence goes on with
// Address, PersonInCharge, … which the store does not fill).
type wireParty struct {
	Identifier string
	Name       string
}

func (p Party) wire() wireParty { return wireParty(p) }

// checkParty checks what the writer itself relies on; migcheck checks the
// rest of the rules.
func checkParty(what string, p Party) error {
	if p.Identifier == "" {
		return billing.Errorf(billing.EInvalid, "%s的識別碼不可空白", what)
	}
	if _, err := billing.CleanText(what+"名稱", p.Name, MaxName); err != nil {
		return err
	}
	return nil
}

func checkReason(reason string) error {
	_, err := billing.CleanText("作廢原因", reason, MaxCancelReason)
	return err
}

// Buyer returns an invoice's buyer, carrier and 愛心碼 for e-invoice details
// d (normalized and validated): a company's 統一編號 and title; otherwise
// billing.B2CBuyerID and accountName (capped at MaxName runes) with the
// carrier of d's kind, or with d's donation code. A member carrier is kept
// under memberType (the seller's carrier type from configuration) and
// memberID (the account's stable member number).
func Buyer(d billing.InvoiceDetails, accountName, memberType, memberID string) (buyer Party, carrier Carrier, npoban string) {
	if d.Kind == billing.InvoiceCompany {
		return Party{Identifier: d.TaxID, Name: CapName(d.CompanyTitle)}, Carrier{}, ""
	}
	buyer = Party{Identifier: billing.B2CBuyerID, Name: CapName(accountName)}
	switch d.Kind {
	case billing.InvoiceMobileBarcode:
		carrier = Carrier{CarrierMobileBarcode, d.Carrier}
	case billing.InvoiceCitizenCertificate:
		carrier = Carrier{CarrierCitizenCertificate, d.Carrier}
	case billing.InvoiceMember:
		carrier = Carrier{memberType, memberID}
	case billing.InvoiceDonation:
		npoban = d.DonationCode
	}
	return buyer, carrier, npoban
}
