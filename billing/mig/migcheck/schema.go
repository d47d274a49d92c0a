package migcheck

// The MIG 4.1 sequences of the five messages the store writes, as far as the
// store's messages reach: required elements as one or many, optional ones
// the schema allows as opt (so a message using them is still in order).

func party(name string) elem {
	return one(name,
		one("Identifier"), one("Name"), opt("Address"), opt("PersonInCharge"),
		opt("TelephoneNumber"), opt("FacsimileNumber"), opt("EmailAddress"),
		opt("CustomerNumber"), opt("RoleRemark"))
}

// F0401 Invoice: Main, Details, Amount. RandomNumber is optional in the
// schema but required by EINVOICE.md, so it is required here.
var f0401 = []elem{
	one("Main",
		one("InvoiceNumber"), one("InvoiceDate"), one("InvoiceTime"),
		party("Seller"), party("Buyer"),
		opt("BuyerRemark"), opt("MainRemark"), opt("CustomsClearanceMark"),
		opt("Category"), opt("RelateNumber"),
		one("InvoiceType"), opt("GroupMark"), one("DonateMark"),
		opt("CarrierType"), opt("CarrierId1"), opt("CarrierId2"),
		one("PrintMark"), opt("NPOBAN"), one("RandomNumber"),
		opt("BondedAreaConfirm"), opt("ZeroTaxRateReason"),
		opt("Reserved1"), opt("Reserved2")),
	one("Details",
		many("ProductItem",
			one("Description"), one("Quantity"), opt("Unit"), one("UnitPrice"),
			one("TaxType"), one("Amount"), one("SequenceNumber"),
			opt("Remark"), opt("RelateNumber"))),
	one("Amount",
		one("SalesAmount"), one("FreeTaxSalesAmount"), one("ZeroTaxSalesAmount"),
		one("TaxType"), one("TaxRate"), one("TaxAmount"), one("TotalAmount"),
		opt("DiscountAmount"), opt("OriginalCurrencyAmount"), opt("ExchangeRate"),
		opt("Currency")),
}

// F0501 CancelInvoice: fields directly under the root.
var f0501 = []elem{
	one("CancelInvoiceNumber"), one("InvoiceDate"), one("BuyerId"), one("SellerId"),
	one("CancelDate"), one("CancelTime"), one("CancelReason"),
	opt("ReturnTaxDocumentNumber"), opt("Remark"), opt("Reserved1"), opt("Reserved2"),
}

// G0401 Allowance: Main, Details, Amount.
var g0401 = []elem{
	one("Main",
		one("AllowanceNumber"), one("AllowanceDate"),
		party("Seller"), party("Buyer"),
		one("AllowanceType"), opt("Attachment")),
	one("Details",
		many("ProductItem",
			one("OriginalInvoiceDate"), one("OriginalInvoiceNumber"),
			opt("OriginalSequenceNumber"), one("OriginalDescription"),
			one("Quantity"), opt("Unit"), one("UnitPrice"), one("Amount"), one("Tax"),
			one("AllowanceSequenceNumber"), one("TaxType"))),
	one("Amount", one("TaxAmount"), one("TotalAmount")),
}

// G0501 CancelAllowance: fields directly under the root.
var g0501 = []elem{
	one("CancelAllowanceNumber"), one("AllowanceDate"), one("BuyerId"), one("SellerId"),
	one("CancelDate"), one("CancelTime"), one("CancelReason"), opt("Remark"),
}

// E0402 BranchTrackBlank: Main, Details.
var e0402 = []elem{
	one("Main",
		one("HeadBan"), one("BranchBan"), one("InvoiceType"), one("YearMonth"),
		one("InvoiceTrack")),
	one("Details",
		many("BranchTrackBlankItem", one("InvoiceBeginNo"), one("InvoiceEndNo"))),
}

// messages maps a message type to its root element and sequence.
var messages = map[string]struct {
	root string
	seq  []elem
}{
	"F0401": {"Invoice", f0401},
	"F0501": {"CancelInvoice", f0501},
	"G0401": {"Allowance", g0401},
	"G0501": {"CancelAllowance", g0501},
	"E0402": {"BranchTrackBlank", e0402},
}
