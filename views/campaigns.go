package views

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"webstore/billing"
)

// 優惠活動: the console's campaigns, their form, report and code jobs.

// CampaignRow is one campaign in the list.
type CampaignRow struct {
	ID, Name              string
	FaceValue             billing.Money
	ValidFrom, ValidUntil time.Time
	Issued                int64
}

// CampaignForm is the campaign form's values, as typed, and the choices
// it offers.
type CampaignForm struct {
	ID, Name, Face, From, Until, Zone, Regions string
	Kinds, Upgrades, Renewals                  map[string]bool
	Editing                                    bool
	Choices                                    CampaignChoices
}

// CampaignChoices are the plan changes a campaign may be made to offset:
// the catalog's upgrades and paid plans, named by Catalog.
type CampaignChoices struct {
	Upgrades []billing.Transition
	Renewals []billing.PlanID
	Catalog  billing.Catalog
}

// CampaignFormFrom fills the form from a campaign, in zone.
func CampaignFormFrom(c billing.Campaign, zone string) CampaignForm {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc, zone = billing.Taipei, "Asia/Taipei"
	}
	f := CampaignForm{ID: c.ID, Name: c.Name, Face: fmt.Sprint(int64(c.FaceValue)), Zone: zone, Regions: strings.Join(c.Regions, ", "),
		Kinds: map[string]bool{}, Upgrades: map[string]bool{}, Renewals: map[string]bool{}, Editing: true}
	if !c.ValidFrom.IsZero() {
		f.From = c.ValidFrom.In(loc).Format("2006-01-02T15:04:05")
		f.Until = c.ValidUntil.In(loc).Format("2006-01-02T15:04:05")
	}
	for _, k := range c.PaymentKinds {
		f.Kinds[string(k)] = true
	}
	for _, t := range c.Upgrades {
		f.Upgrades[t.String()] = true
	}
	for _, p := range c.RenewalPlans {
		f.Renewals[string(p)] = true
	}
	return f
}

// CampaignZones are the zones a window may be typed in.
var CampaignZones = [][3]string{{"Asia/Taipei", "台灣時間 (UTC+8)", "Taiwan (UTC+8)"}, {"Asia/Tokyo", "日本時間 (UTC+9)", "Japan (UTC+9)"}, {"UTC", "UTC", "UTC"}}

// StaffCampaignView is one campaign's page.
type StaffCampaignView struct {
	Campaign billing.Campaign
	Form     CampaignForm
	Report   CampaignReport
	Chart    BarChart
	Jobs     []CodeJob
	// MaxCodes is the most codes one job may generate.
	MaxCodes int
}

// CampaignReport is a campaign's codes in numbers.
type CampaignReport struct {
	Issued, Registered, Redeemed, Expired int64
	Offset, Forfeited                     billing.Money
	AtUpgrade, AtRenewal                  int64
}

// JobStatus is where a code generation job stands.
type JobStatus string

// The job statuses.
const (
	JobRunning JobStatus = "running"
	JobDone    JobStatus = "done"
	JobFailed  JobStatus = "failed"
)

// CodeJob is a code generation job and its progress.
type CodeJob struct {
	ID              int64
	CampaignID      string
	Requested, Done int
	Status          JobStatus
	Error           string
	StartedBy       string
	StartedAt       time.Time
}

// JobPercent is a code job's progress in percent.
func JobPercent(j CodeJob) int {
	if j.Status == JobDone {
		return 100
	}
	return int(int64(j.Done) * 100 / int64(max(j.Requested, 1)))
}

// CampaignPath is the console's path of a campaign's page, or of one
// below it (suffix, e.g. "/codes.csv"): the id escaped as a path segment,
// so an id with '/', '?' or '#' (one stored before ids were checked) still
// names its own campaign.
func CampaignPath(id, suffix string) string {
	return "/staff/campaigns/" + url.PathEscape(id) + suffix
}
