package views

import (
	"strings"

	"webstore/billing"
)

// CampaignTerms are a campaign's own terms as the 優惠活動代碼 page prints
// them: who may use its codes (regions, payment kinds) and what they offset
// (upgrades, renewals of plans), each list in words.
type CampaignTerms struct {
	Regions, Payments, Upgrades, Renewals string
}

// TermsOf words campaign c's terms in l, naming plans from cat.
func (l Lang) TermsOf(cat billing.Catalog, c billing.Campaign) CampaignTerms {
	sep := l.T("、", ", ")
	var t CampaignTerms
	words := func(n int, word func(int) string) string {
		out := make([]string, n)
		for i := range out {
			out[i] = word(i)
		}
		if n == 0 {
			return l.T("無", "None")
		}
		return strings.Join(out, sep)
	}
	t.Regions = words(len(c.Regions), func(i int) string { return l.Region(c.Regions[i]) })
	t.Payments = words(len(c.PaymentKinds), func(i int) string { return l.PaymentKind(c.PaymentKinds[i]) })
	t.Upgrades = words(len(c.Upgrades), func(i int) string {
		return l.PlanNameByID(cat, c.Upgrades[i].From) + " → " + l.PlanNameByID(cat, c.Upgrades[i].To)
	})
	t.Renewals = words(len(c.RenewalPlans), func(i int) string { return l.PlanNameByID(cat, c.RenewalPlans[i]) })
	return t
}
