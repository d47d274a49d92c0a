package billing

import (
	"slices"
	"strings"
	"time"
	"unicode"
)

// Transition is a plan change a campaign may offset, e.g. light→medium.
type Transition struct {
	From, To PlanID
}

func (t Transition) String() string { return string(t.From) + ">" + string(t.To) }

// ParseTransition reads "light>medium".
func ParseTransition(s string) (Transition, bool) {
	from, to, ok := strings.Cut(s, ">")
	if !ok || from == "" || to == "" {
		return Transition{}, false
	}
	return Transition{PlanID(from), PlanID(to)}, true
}

// Campaign is a promo campaign. Campaigns are data; the document's campaign is
// one of them (NT$800, 2024-06-07 00:00 to 2024-08-31 23:59 Taiwan time, TW
// accounts paying by card or LINE Pay, the three upgrades, medium and high
// renewals).
type Campaign struct {
	ID        string
	Name      string
	FaceValue Money
	// ValidFrom and ValidUntil bound the window, both inclusive.
	ValidFrom, ValidUntil time.Time
	Regions               []string
	PaymentKinds          []PaymentKind
	Upgrades              []Transition
	RenewalPlans          []PlanID
}

// DefaultCampaignTerms fills the eligibility lists a campaign leaves empty
// with the document's terms.
func DefaultCampaignTerms(c Campaign) Campaign {
	if len(c.Regions) == 0 {
		c.Regions = []string{"TW"}
	}
	if len(c.PaymentKinds) == 0 {
		c.PaymentKinds = []PaymentKind{CreditCard, LinePay}
	}
	if len(c.Upgrades) == 0 {
		c.Upgrades = []Transition{{Light, Medium}, {Light, High}, {Medium, High}}
	}
	if len(c.RenewalPlans) == 0 {
		c.RenewalPlans = []PlanID{Medium, High}
	}
	return c
}

// InWindow reports whether t is inside the validity window.
func (c Campaign) InWindow(t time.Time) bool {
	return !t.Before(c.ValidFrom) && !t.After(c.ValidUntil)
}

// MaxTypedMoney bounds any amount a person types or configures (a face
// value, the face-value cap): far above any fee, far below what a sum of
// many of them could overflow.
const MaxTypedMoney Money = 1_000_000_000

// ValidateNew checks a campaign about to be created: Validate, and an id
// fit for a URL (ValidID). (A campaign stored before ids were checked keeps
// its id and can still be edited; the console escapes it.)
func (c Campaign) ValidateNew(maxFace Money) error {
	if strings.TrimSpace(c.ID) != "" && !ValidID(c.ID) {
		return Errorf(EInvalid, "活動代號只能使用英文字母、數字、「_」與「-」,最多 %d 個字元", MaxIDLength)
	}
	return c.Validate(maxFace)
}

// Validate checks a campaign's own data: an id, a clean name (CleanText; trimmed first with TrimText), a face value from 1
// to maxFace (the highest plan fee, unless staff raised the cap; see
// db.Store.MaxFaceValue), a window, known payment kinds.
func (c Campaign) Validate(maxFace Money) error {
	maxFace = min(maxFace, MaxTypedMoney)
	switch {
	case strings.TrimSpace(c.ID) == "":
		return Errorf(EInvalid, "活動代號不可空白")
	case c.FaceValue <= 0:
		return Errorf(EInvalid, "面額必須大於 0")
	case c.FaceValue > maxFace:
		return Errorf(EInvalid, "面額最多 NT$%d(最高的方案月費;若需更高,請由系統管理員調高 CAMPAIGN_MAX_FACE_VALUE)", int64(maxFace))
	case c.ValidFrom.IsZero() || c.ValidUntil.IsZero() || !c.ValidUntil.After(c.ValidFrom):
		return Errorf(EInvalid, "有效期間的結束必須晚於開始")
	}
	if c.Name != "" {
		if clean, err := CleanText("活動名稱", c.Name, MaxCampaignName); err != nil {
			return err
		} else if clean != c.Name {
			return Errorf(EInvalid, "活動名稱前後不可有空白")
		}
	}
	for _, k := range c.PaymentKinds {
		if !k.Valid() {
			return Errorf(EInvalid, "未知的付款方式 %q", k)
		}
	}
	return nil
}

// NormalizeCode is how codes are matched: case-insensitively, ignoring spaces
// and dashes (ASCII or full-width, as typed on a phone).
func NormalizeCode(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII forms
			r -= 0xFEE0
		}
		if unicode.IsSpace(r) || r == '-' || unicode.Is(unicode.Pd, r) {
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// CodeStatus is a code's state in the ledger.
type CodeStatus string

// Code states. Issued codes belong to no account yet. A code is reserved while
// a payment that would redeem it is in flight; a failed payment releases it
// back to registered.
const (
	CodeIssued     CodeStatus = "issued"
	CodeRegistered CodeStatus = "registered"
	CodeReserved   CodeStatus = "reserved"
	CodeRedeemed   CodeStatus = "redeemed"
	CodeExpired    CodeStatus = "expired"
)

// PromoCode is one code of a campaign.
type PromoCode struct {
	Code         string // normalized
	CampaignID   string
	AccountID    string // "" while issued
	Status       CodeStatus
	RegisteredAt time.Time
}

// StatusAt is the code's status as of t: a registered code whose campaign
// window has closed is expired even before a sweep writes it.
func (p PromoCode) StatusAt(c Campaign, t time.Time) CodeStatus {
	if p.Status == CodeRegistered && t.After(c.ValidUntil) {
		return CodeExpired
	}
	return p.Status
}

// Registration is everything the registration gate looks at.
type Registration struct {
	Account Account
	// Code is the code looked up by its normalized form; nil if none exists.
	Code     *PromoCode
	Campaign Campaign // the code's campaign (ignored when Code is nil)
	// Held is the account's registered, not yet used code, if any, and its
	// campaign.
	Held         *PromoCode
	HeldCampaign Campaign
	// UsedCampaign reports whether the account ever registered a code of
	// Campaign (any state).
	UsedCampaign bool
	At           time.Time
	// Typed is the code as entered, normalized; a generated-shape code with
	// a wrong check symbol is refused as mistyped rather than not found.
	Typed string
}

// CheckRegistration is the one gate every registration path goes through:
// the promo page, the checkout box, the simulator and the staff preview.
// It returns nil if the code may be registered to the account at r.At.
func CheckRegistration(r Registration) error {
	if err := CheckCodeTypo(r.Typed); err != nil {
		return err
	}
	if r.Code == nil {
		return Errorf(ECodeNotFound, "")
	}
	c := r.Campaign
	if r.At.Before(c.ValidFrom) {
		return Errorf(ECodeNotYetValid, "此代碼自 %s 起才能登錄", c.ValidFrom.In(Taipei).Format("2006/01/02 15:04"))
	}
	if r.At.After(c.ValidUntil) {
		return Errorf(ECodeExpired, "")
	}
	if r.Code.AccountID != "" && r.Code.AccountID != r.Account.ID {
		return Errorf(ECodeTaken, "")
	}
	if r.Code.AccountID == r.Account.ID {
		// Already registered here (a double-click or a refresh): nothing to do,
		// unless it was used or has expired.
		if r.Code.Status == CodeRegistered || r.Code.Status == CodeReserved {
			return nil
		}
		return Errorf(ECampaignLimit, "")
	}
	if !slices.Contains(c.Regions, r.Account.Region) {
		return Errorf(ERegionNotEligible, "")
	}
	if r.Held != nil && r.Held.Code != r.Code.Code && r.Held.StatusAt(r.HeldCampaign, r.At) != CodeExpired {
		return Errorf(ECodePending, "")
	}
	if r.UsedCampaign {
		return Errorf(ECampaignLimit, "")
	}
	return nil
}
