package billing

import (
	"slices"
	"testing"
)

// The catalog's upgrades are its changes to a higher rank; its paid plans
// those with a fee. For the catalog in force they are the document's
// campaign terms.
func TestCatalogUpgradesAndPaidPlans(t *testing.T) {
	c := testCatalog(t)
	if got, want := c.Upgrades(), DefaultCampaignTerms(Campaign{}).Upgrades; !slices.Equal(got, want) {
		t.Errorf("Upgrades() = %v, want %v", got, want)
	}
	if got, want := c.PaidPlans(), DefaultCampaignTerms(Campaign{}).RenewalPlans; !slices.Equal(got, want) {
		t.Errorf("PaidPlans() = %v, want %v", got, want)
	}
}
